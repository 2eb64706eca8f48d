"""`deserialize_all`: `deserialize` for loads and catch-up, which decode events by the thousand.

Speed-tuned: per event, the envelope cost more than validating the payload, so the common case
is done inline and each type resolved once per call. The measurements behind it are in
docs/performance.md ("Reading events"); every other case goes through `deserialize`, so the
results and errors are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from pydantic import ValidationError

from event_sourcery._codec import deserialize
from event_sourcery._encryption import Encryption
from event_sourcery._event import EMPTY_CONTEXT, WrappedEvent, build_wrapped
from event_sourcery._raw import RawEvent
from event_sourcery._readers import as_utc
from event_sourcery._registry import EventRegistry
from event_sourcery.exceptions import UnknownEventType


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
