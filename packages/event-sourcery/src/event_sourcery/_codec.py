"""An event's conversion to its stored form and back: `serialize` and `deserialize`.

The rules every backend relies on: what can be stored (an `Event` or `WrappedEvent`, aware
creation times, JSON without NaN or infinities), the payload as pydantic's own JSON text, the
upcasting and decryption of what is read back, and errors that never quote event data. No I/O,
so it does not depend on how a backend talks to its storage. Decoding a whole load at once is
`_fast_decode.deserialize_all`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

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
from event_sourcery._raw import Json, RawEvent, raw_from_text
from event_sourcery._readers import as_utc, new_uuids
from event_sourcery._registry import EventRegistry
from event_sourcery._stream_id import StreamId
from event_sourcery.exceptions import EventSerializationError, InvalidEvent, UnknownEventType


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
    in one call rather than dumped to a dict and encoded with json.dumps (docs/performance.md,
    "Writing events").
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
