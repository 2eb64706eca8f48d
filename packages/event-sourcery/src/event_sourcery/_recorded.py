"""Events as recorded in the global log: with their stream, position and tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from event_sourcery._encryption import Encryption
from event_sourcery._event import WrappedEvent
from event_sourcery._raw import RawEvent, deserialize
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
class Recorded:
    """A typed event at its global position.

    Attributes:
        wrapped_event: the event with its envelope.
        stream_id: its stream: uuid, name and category.
        position: its global position; store it as a checkpoint and `start_from` it.
        tenant_id: its tenant, None for the default context.
    """

    wrapped_event: WrappedEvent[Any]
    stream_id: StreamId
    position: int
    tenant_id: str | None

    @classmethod
    def of(
        cls, record: RecordedRaw, registry: EventRegistry, encryption: Encryption | None = None
    ) -> Recorded:
        """The typed form of `record`; `UnknownEventType` if its class is not registered."""
        try:
            wrapped = deserialize(record.raw, registry, encryption, record.tenant_id)
        except UnknownEventType as exc:
            exc.position = record.position
            raise
        return cls(
            wrapped_event=wrapped,
            stream_id=record.raw.stream_id,
            position=record.position,
            tenant_id=record.tenant_id,
        )
