"""Events as recorded in the global log: with their stream, position and tenant."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic

from event_sourcery._codec import deserialize
from event_sourcery._encryption import Encryption
from event_sourcery._event import TEvent, WrappedEvent
from event_sourcery._fast_decode import deserialize_all
from event_sourcery._frozen import positional_builder
from event_sourcery._raw import RawEvent
from event_sourcery._registry import EventRegistry
from event_sourcery._stream_id import StreamId
from event_sourcery.exceptions import UnknownEventType


@dataclass(frozen=True, slots=True)
class RecordedRaw:
    """A stored event at its global position (the form backends return)."""

    raw: RawEvent
    position: int
    tenant_id: str | None


@dataclass(frozen=True, slots=True)
class Recorded(Generic[TEvent]):
    """A typed event at its global position.

    Generic in the event's class: a subscription built with `Subscriber.to_events` delivers
    `Recorded[YourEvent]`; unnamed, the class is `Any`.

    Attributes:
        wrapped_event: the event with its envelope.
        stream_id: its stream: uuid, name and category.
        position: its global position; store it as a checkpoint and `start_from` it.
        tenant_id: its tenant, None for the default context.
    """

    wrapped_event: WrappedEvent[TEvent]
    stream_id: StreamId
    position: int
    tenant_id: str | None

    @classmethod
    def of(
        cls, record: RecordedRaw, registry: EventRegistry, encryption: Encryption | None = None
    ) -> Recorded[Any]:
        """The typed form of `record`; `UnknownEventType` if its class is not registered."""
        try:
            wrapped = deserialize(record.raw, registry, encryption, record.tenant_id)
        except UnknownEventType as exc:
            exc.position = record.position
            raise
        return build_recorded(wrapped, record.raw.stream_id, record.position, record.tenant_id)

    @classmethod
    def all_of(
        cls,
        records: Sequence[RecordedRaw],
        registry: EventRegistry,
        encryption: Encryption | None = None,
    ) -> list[Recorded[Any]]:
        """`of` each of `records`, in order: the same results and the same errors."""
        if encryption is not None:  # keys are per tenant, and records may be of several
            return [cls.of(record, registry, encryption) for record in records]
        try:
            wrapped = deserialize_all([record.raw for record in records], registry)
        except UnknownEventType:
            return [cls.of(record, registry) for record in records]  # to name its position
        return [
            build_recorded(event, record.raw.stream_id, record.position, record.tenant_id)
            for event, record in zip(wrapped, records, strict=True)
        ]


#: ``RecordedRaw(raw, position, tenant_id)`` for values already checked: half the cost of the
#: frozen dataclass's ``__init__``, for backends building one per event read.
build_recorded_raw: Callable[[RawEvent, int, str | None], RecordedRaw] = positional_builder(
    RecordedRaw
)

#: ``Recorded(wrapped_event, stream_id, position, tenant_id)`` for values already checked.
build_recorded: Callable[[WrappedEvent[Any], StreamId, int, str | None], Recorded[Any]] = (
    positional_builder(Recorded)
)
