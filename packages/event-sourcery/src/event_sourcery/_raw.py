"""The stored form of an event and its conversion to and from typed events.

Backends store and return `RawEvent`s only; the typed world lives in the core. Conversion has no
I/O, so it does not depend on how a backend talks to its storage.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from event_sourcery._encryption import Encryption
from event_sourcery._event import (
    EMPTY_CONTEXT,
    Context,
    Event,
    WrappedEvent,
    build_wrapped,
    utc_now,
)
from event_sourcery._readers import new_uuids
from event_sourcery._registry import EventRegistry
from event_sourcery._stream_id import StreamId
from event_sourcery.exceptions import EventSerializationError, InvalidEvent, UnknownEventType

Json = dict[str, Any]


class RawEvent:
    """An event as stored: JSON-ready `data` and `context`, and its envelope.

    Readable whether or not the event's class is importable: nothing is ever lost to a
    missing class. Backends may pass `data` and `context` as the JSON text they stored: it is
    parsed only when read, and typed loads validate straight from the text (much faster than
    parsing to a dict first).
    """

    __slots__ = (
        "_context",
        "_context_text",
        "_data",
        "_data_text",
        "created_at",
        "schema_version",
        "stream_id",
        "type",
        "uuid",
        "version",
    )

    def __init__(
        self,
        uuid: UUID,
        stream_id: StreamId,
        type: str,
        version: int | None,
        created_at: datetime,
        data: Json | str,
        context: Json | str | None = None,
        schema_version: int = 1,
    ) -> None:
        self.uuid = uuid
        self.stream_id = stream_id
        self.type = type
        self.version = version
        self.created_at = created_at
        self.schema_version = schema_version
        self._data: Json | None = None
        self._data_text: str | None = None
        self._context: Json | None = None
        self._context_text: str | None = None
        if isinstance(data, str):
            self._data_text = data
        else:
            self._data = data
        if isinstance(context, str):
            self._context_text = context
        else:
            self._context = {} if context is None else context

    @property
    def data(self) -> Json:
        """The event's fields, as JSON-compatible values."""
        if self._data is None:
            parsed: Json = json.loads(self._data_text or "{}")
            self._data = parsed
        return self._data

    @property
    def context(self) -> Json:
        """The event's context (correlation, causation, extra fields)."""
        if self._context is None:
            parsed: Json = json.loads(self._context_text or "{}")
            self._context = parsed
        return self._context

    def data_json(self) -> str:
        """`data` as JSON text: the text it came as, else `json.dumps` of it (for writers)."""
        text = self._data_text
        return text if text is not None else json.dumps(self._data)

    def context_json(self) -> str:
        """`context` as JSON text: the text it came as, else `json.dumps` of it."""
        text = self._context_text
        return text if text is not None else json.dumps(self._context or {})

    @property
    def data_text(self) -> str | None:
        """The stored JSON text of `data`, when the backend handed it over as text."""
        return self._data_text

    @property
    def context_text(self) -> str | None:
        """The stored JSON text of `context`, when the backend handed it over as text."""
        return self._context_text

    def replace(self, **changes: Any) -> RawEvent:
        """A copy with some fields changed."""
        fields: dict[str, Any] = {
            "uuid": self.uuid,
            "stream_id": self.stream_id,
            "type": self.type,
            "version": self.version,
            "created_at": self.created_at,
            "data": self._data if self._data is not None else self._data_text,
            "context": self._context if self._context is not None else self._context_text,
            "schema_version": self.schema_version,
        }
        fields.update(changes)
        return RawEvent(**fields)

    def _key(self) -> tuple[Any, ...]:
        return (
            self.uuid,
            self.stream_id,
            self.type,
            self.version,
            self.created_at,
            self.data,
            self.context,
            self.schema_version,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawEvent):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable-looking payloads: not hashable

    def __repr__(self) -> str:
        return (
            f"RawEvent(uuid={self.uuid!r}, stream_id={self.stream_id!r}, type={self.type!r}, "
            f"version={self.version!r}, created_at={self.created_at!r}, data={self.data!r}, "
            f"context={self.context!r}, schema_version={self.schema_version!r})"
        )


_new = object.__new__


def raw_from_text(
    uuid: UUID,
    stream_id: StreamId,
    type: str,
    version: int | None,
    created_at: datetime,
    data: str,
    context: str | None,
    schema_version: int,
) -> RawEvent:
    """``RawEvent(...)`` for a row read back, with `data` and `context` as the stored text.

    For backends, one per event read: it skips the constructor's checks of what a stored row
    always is (every argument positional, JSON as text), which is a quarter of a load's
    envelope cost.
    """
    raw = _new(RawEvent)
    raw.uuid = uuid
    raw.stream_id = stream_id
    raw.type = type
    raw.version = version
    raw.created_at = created_at
    raw.schema_version = schema_version
    raw._data = None
    raw._data_text = data
    raw._context = None
    raw._context_text = context
    return raw


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; naive values (as some databases return them) are taken as UTC."""
    tzinfo = moment.tzinfo
    if tzinfo is UTC:  # the common case on every read path: no conversion at all
        return moment
    if tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _with_context(item: WrappedEvent[Any], default_context: Context | None) -> WrappedEvent[Any]:
    """`item`, checked, with `default_context` if it was given without a context of its own."""
    if not isinstance(item.event, Event):
        raise InvalidEvent(f"WrappedEvent.event must be an Event, got {type(item.event)!r}")
    if default_context is not None and item.context is EMPTY_CONTEXT:
        return WrappedEvent(item.event, item.version, item.uuid, item.created_at, default_context)
    return item


def serialize(
    item: object,
    stream_id: StreamId,
    version: int | None,
    registry: EventRegistry,
    encryption: Encryption | None = None,
    tenant_id: str | None = None,
    default_context: Context | None = None,
) -> RawEvent:
    """The stored form of `item` (an Event or WrappedEvent) at `version` of `stream_id`.

    `default_context` applies to events given without a context of their own.
    """
    (raw,) = serialize_all(
        (item,), stream_id, (version,), registry, encryption, tenant_id, default_context
    )
    return raw


def serialize_all(
    items: Sequence[object],
    stream_id: StreamId,
    versions: Sequence[int | None],
    registry: EventRegistry,
    encryption: Encryption | None = None,
    tenant_id: str | None = None,
    default_context: Context | None = None,
) -> list[RawEvent]:
    """`serialize` of each of `items` at the matching one of `versions`, for one append.

    Events given without an envelope share one creation time (the append's) and get their
    uuids from one read of the random source. Payloads are pydantic's own JSON text, written
    in one call: dumping to a dict and encoding that with json.dumps cost three times as much.
    """
    if len(items) != len(versions):
        raise ValueError("serialize_all needs one version per item")
    fresh = iter(new_uuids(sum(1 for item in items if not isinstance(item, WrappedEvent))))
    now = utc_now()
    classes: dict[type[Event], tuple[str, int]] = {}
    raws: list[RawEvent] = []
    for item, version in zip(items, versions, strict=True):
        if isinstance(item, WrappedEvent):
            wrapped = _with_context(item, default_context)
            event, uuid, context = wrapped.event, wrapped.uuid, wrapped.context
            created_at = wrapped.created_at
            if created_at.tzinfo is not UTC:
                if created_at.tzinfo is None:
                    raise InvalidEvent(
                        f"created_at of event {uuid} is a naive datetime; give it a timezone"
                    )
                created_at = created_at.astimezone(UTC)
        elif isinstance(item, Event):
            event, uuid, created_at = item, next(fresh), now
            context = EMPTY_CONTEXT if default_context is None else default_context
        else:
            raise InvalidEvent(
                f"only Event or WrappedEvent instances can be appended, got {type(item).__name__}"
            )
        cls = type(event)
        try:
            name, schema_version = classes[cls]
        except KeyError:
            name, schema_version = classes[cls] = registry.name_of(cls), cls.__schema_version__
        data, context_json = _payloads(event, context, encryption, tenant_id)
        if isinstance(data, str) and isinstance(context_json, str):
            raws.append(
                raw_from_text(
                    uuid, stream_id, name, version, created_at, data, context_json, schema_version
                )
            )
        else:
            raws.append(
                RawEvent(
                    uuid, stream_id, name, version, created_at, data, context_json, schema_version
                )
            )
    return raws


def _payloads(
    event: Event, context: Context, encryption: Encryption | None, tenant_id: str | None
) -> tuple[Json | str, Json | str]:
    """The stored forms of an event's fields and of its context: JSON text where possible."""
    cls = type(event)
    encrypted = encryption is not None and encryption.applies_to(cls)
    try:
        if encrypted:
            data: Json | str = event.model_dump(mode="json")
        else:
            try:
                data = event.__pydantic_serializer__.to_json(event).decode()
            except PydanticSerializationError:
                # What pydantic's JSON refuses and json.dumps escapes (lone surrogates).
                data = event.model_dump(mode="json")
        if context is EMPTY_CONTEXT:
            context_json: Json | str = "{}"
        else:
            try:
                context_json = context.model_dump_json(exclude_none=True)
            except PydanticSerializationError:
                context_json = context.model_dump(mode="json", exclude_none=True)
    except (PydanticSerializationError, ValueError, TypeError) as exc:
        raise EventSerializationError(f"{cls.__name__} cannot be stored as JSON: {exc}") from exc
    if not (_finite(data) and _finite(context_json)):
        raise EventSerializationError(
            f"{cls.__name__} cannot be stored as JSON: a number in it is NaN or infinite, "
            "which JSON has no form for; store None or a string instead, or refuse such values "
            "with pydantic's Field(allow_inf_nan=False)"
        )
    if encrypted:
        assert encryption is not None
        assert isinstance(data, dict)
        data = encryption.encrypt(cls, data, tenant_id)
    return data, context_json


def _not_a_constant(token: str) -> Any:
    raise ValueError(token)


def _finite(payload: Json | str) -> bool:
    """Whether `payload` holds no NaN or infinity (pydantic writes them as bare tokens).

    JSON has no such numbers: PostgreSQL's json type refuses them and other stores keep a
    token that only some parsers read back, so every backend refuses them at append time.
    """
    if isinstance(payload, str):
        if "NaN" not in payload and "Infinity" not in payload:
            return True  # every append's case: a text search, no parse
        try:  # "NaN" in a string is no number: ask the parser
            json.loads(payload, parse_constant=_not_a_constant)
        except ValueError:
            return False
        return True
    try:
        json.dumps(payload, allow_nan=False)
    except ValueError:
        return False
    return True


def _problems(exc: ValidationError) -> str:
    """What was wrong, without the values: they may be personal or decrypted data."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '<event>'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False)
    )


def _context_of(raw: RawEvent) -> Context:
    text = raw._context_text
    if text is not None:
        if text == "{}":
            return EMPTY_CONTEXT
        try:
            return Context.model_validate_json(text)
        except ValidationError:
            return Context.model_validate(raw.context)  # see the lone surrogates in deserialize
    return Context.model_validate(raw.context) if raw.context else EMPTY_CONTEXT


def deserialize(
    raw: RawEvent,
    registry: EventRegistry,
    encryption: Encryption | None = None,
    tenant_id: str | None = None,
) -> WrappedEvent[Any]:
    """The typed `WrappedEvent` of `raw`; `UnknownEventType` if its class is not registered."""
    try:
        cls = registry.resolve(raw.type)
    except UnknownEventType:
        raise UnknownEventType(raw.type, raw.stream_id, raw.version) from None
    try:
        text = raw._data_text
        if (
            text is not None
            and raw.schema_version == cls.__schema_version__
            and (encryption is None or not encryption.applies_to(cls))
        ):
            # The common case, first: stored text of the current schema, not encrypted.
            try:
                # The model's validator itself: model_validate_json adds only a call layer.
                event = cls.__pydantic_validator__.validate_json(text)
            except ValidationError:
                # pydantic's JSON parser refuses what json.loads accepts (lone surrogates in
                # "\\ud800" escapes): decide on the parsed value, which is what was stored.
                event = cls.model_validate(raw.data)
        elif encryption is not None and encryption.applies_to(cls):
            data = encryption.decrypt(cls, raw.data, tenant_id)
            if raw.schema_version != cls.__schema_version__:
                data = registry.upcast(cls, raw.schema_version, data)
            event = cls.model_validate(data)
        elif raw.schema_version != cls.__schema_version__:
            event = cls.model_validate(registry.upcast(cls, raw.schema_version, raw.data))
        else:
            event = cls.model_validate(raw.data)
        context = _context_of(raw)
    except ValidationError as exc:
        raise EventSerializationError(
            f"stored {raw.type!r} (stream {raw.stream_id!r}, version {raw.version}) does not "
            f"fit {cls.__qualname__}: {_problems(exc)}"
        ) from None
    return build_wrapped(event, raw.version, raw.uuid, as_utc(raw.created_at), context)


def _fast_path(
    type_: str, registry: EventRegistry, encryption: Encryption | None
) -> tuple[Callable[[str], Any], int] | None:
    """The validator and schema version for `deserialize_all`'s inline case, if it applies."""
    try:
        cls = registry.resolve(type_)
    except UnknownEventType:
        return None  # deserialize raises it, naming the stream and version
    if encryption is not None and encryption.applies_to(cls):
        return None
    return cls.__pydantic_validator__.validate_json, cls.__schema_version__


def deserialize_all(
    raws: Iterable[RawEvent],
    registry: EventRegistry,
    encryption: Encryption | None = None,
    tenant_id: str | None = None,
) -> list[WrappedEvent[Any]]:
    """`deserialize` of each of `raws`, in order: the same results and the same errors.

    Loads and catch-up decode events by the thousand, and per event the envelope cost more
    than validating the payload: this loop does the common case (stored text of the current
    schema, not encrypted, empty context) inline, resolves each type once per call, and hands
    every other event to `deserialize`.
    """
    paths: dict[str, tuple[Callable[[str], Any], int] | None] = {}
    decoded: list[WrappedEvent[Any]] = []
    add = decoded.append
    for raw in raws:
        type_ = raw.type
        try:
            path = paths[type_]
        except KeyError:
            path = paths[type_] = _fast_path(type_, registry, encryption)
        text, context_text = raw._data_text, raw._context_text
        if (
            path is None
            or text is None
            or raw.schema_version != path[1]
            or (context_text != "{}" if context_text is not None else bool(raw._context))
        ):
            add(deserialize(raw, registry, encryption, tenant_id))
            continue
        try:
            event = path[0](text)
        except ValidationError:
            add(deserialize(raw, registry, encryption, tenant_id))  # its errors and fallbacks
            continue
        created_at = raw.created_at
        if created_at.tzinfo is not UTC:
            created_at = as_utc(created_at)
        add(build_wrapped(event, raw.version, raw.uuid, created_at, EMPTY_CONTEXT))
    return decoded
