"""The stored form of an event and its conversion to and from typed events.

Backends store and return `RawEvent`s only; the typed world lives in the core. Conversion has no
I/O, so the async twin reuses it as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from event_sourcery._event import Context, Event, WrappedEvent
from event_sourcery._registry import EventRegistry
from event_sourcery._stream_id import StreamId
from event_sourcery.exceptions import EventSerializationError, InvalidEvent, UnknownEventType


@dataclass(frozen=True, slots=True)
class RawEvent:
    """An event as stored: JSON-ready `data` and `context`, and its envelope.

    Readable whether or not the event's class is importable: nothing is ever lost to a
    missing class.
    """

    uuid: UUID
    stream_id: StreamId
    type: str
    version: int | None
    created_at: datetime
    data: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    #: The `__schema_version__` of the class that wrote `data`.
    schema_version: int = 1


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; naive values (as some databases return them) are taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _to_wrapped(item: object) -> WrappedEvent[Any]:
    if isinstance(item, WrappedEvent):
        if not isinstance(item.event, Event):
            raise InvalidEvent(f"WrappedEvent.event must be an Event, got {type(item.event)!r}")
        return item
    if isinstance(item, Event):
        return WrappedEvent.wrap(item)
    raise InvalidEvent(
        f"only Event or WrappedEvent instances can be appended, got {type(item).__name__}"
    )


def serialize(
    item: object, stream_id: StreamId, version: int | None, registry: EventRegistry
) -> RawEvent:
    """The stored form of `item` (an Event or WrappedEvent) at `version` of `stream_id`."""
    wrapped = _to_wrapped(item)
    if wrapped.created_at.tzinfo is None:
        raise InvalidEvent(
            f"created_at of event {wrapped.uuid} is a naive datetime; give it a timezone"
        )
    try:
        data = wrapped.event.model_dump(mode="json")
        context = wrapped.context.model_dump(mode="json", exclude_none=True)
    except (PydanticSerializationError, ValueError, TypeError) as exc:
        raise EventSerializationError(
            f"{type(wrapped.event).__name__} cannot be stored as JSON: {exc}"
        ) from exc
    return RawEvent(
        uuid=wrapped.uuid,
        stream_id=stream_id,
        type=registry.name_of(type(wrapped.event)),
        version=version,
        created_at=wrapped.created_at.astimezone(UTC),
        data=data,
        context=context,
        schema_version=type(wrapped.event).__schema_version__,
    )


def deserialize(raw: RawEvent, registry: EventRegistry) -> WrappedEvent[Any]:
    """The typed `WrappedEvent` of `raw`; `UnknownEventType` if its class is not registered."""
    try:
        cls = registry.resolve(raw.type)
    except UnknownEventType:
        raise UnknownEventType(raw.type, raw.stream_id, raw.version) from None
    data = raw.data
    if raw.schema_version != cls.__schema_version__:
        data = registry.upcast(cls, raw.schema_version, data)
    try:
        event = cls.model_validate(data)
        context = Context.model_validate(raw.context)
    except ValidationError as exc:
        raise EventSerializationError(
            f"stored {raw.type!r} (stream {raw.stream_id!r}, version {raw.version}) does not "
            f"fit {cls.__qualname__}: {exc}"
        ) from exc
    return WrappedEvent.wrap(
        event,
        raw.version,
        uuid=raw.uuid,
        created_at=as_utc(raw.created_at),
        context=context,
    )
