"""What the commands read from a store: walks of the global log, and what they add up to.

Only the public API: a raw subscription reads every event (with or without its class) of
every tenant, up to the head taken when the walk starts, so a walk ends even while
writers go on appending.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from event_sourcery import Backend, StreamId
from event_sourcery.interfaces import RecordedRaw

#: Events read per batch of a walk.
_BATCH = 500
#: Seconds a walk waits for events before it takes the log as read to its end.
_IDLE = 0.2


def walk(
    backend: Backend,
    *,
    after: int = 0,
    categories: Iterable[str] = (),
    tenants: Iterable[str | None] | None = None,
    head: int | None = None,
) -> Iterator[RecordedRaw]:
    """Every event of the log after position `after`, up to `head` (default: the head now)."""
    if head is None:
        head = backend.event_store.position
    if head <= after:
        return
    subscriber = backend.subscriber.start_from(after)
    categories = tuple(categories)
    if categories:
        subscriber = subscriber.to_category(*categories)
    if tenants is not None:
        subscriber = subscriber.in_tenants(*tenants)
    batches = subscriber.build_raw_batch(_BATCH, _IDLE)
    try:
        for batch in batches:
            for record in batch:
                if record.position > head:
                    return
                yield record
            if not batch or batch[-1].position >= head:
                return
    finally:
        batches.close()


def tail(
    backend: Backend, count: int, *, tenants: Iterable[str | None] | None = None
) -> list[RecordedRaw]:
    """The last `count` events of the log, oldest first.

    Reads the whole log: a subscription starts only from a position the store gave out
    (KurrentDB's are commit positions, not counts), and the port has no backwards read yet.
    """
    return list(deque(walk(backend, tenants=tenants), maxlen=count))


@dataclass(slots=True)
class StreamSummary:
    """A stream as the log shows it."""

    stream_id: StreamId
    tenant_id: str | None
    events: int
    last_version: int | None
    last_position: int
    last_write: datetime

    def as_json(self) -> dict[str, object]:
        """The summary as JSON-ready values."""
        return {
            "stream_id": str(self.stream_id.uuid),
            "name": self.stream_id.name,
            "category": self.stream_id.category,
            "tenant": self.tenant_id,
            "events": self.events,
            "last_version": self.last_version,
            "last_position": self.last_position,
            "last_write": self.last_write.isoformat(),
        }


def summarize(records: Iterable[RecordedRaw]) -> list[StreamSummary]:
    """One summary per stream (and tenant) of `records`, the most recently written last."""
    found: dict[tuple[StreamId, str | None], StreamSummary] = {}
    for record in records:
        raw = record.raw
        key = (raw.stream_id, record.tenant_id)
        summary = found.get(key)
        if summary is None:
            found[key] = StreamSummary(
                raw.stream_id, record.tenant_id, 1, raw.version, record.position, raw.created_at
            )
            continue
        summary.events += 1
        summary.last_version = raw.version
        summary.last_position = record.position
        summary.last_write = raw.created_at
    return sorted(found.values(), key=lambda summary: summary.last_position)


def statistics(records: Iterable[RecordedRaw]) -> dict[str, object]:
    """How many events, streams, categories and tenants `records` hold, and the head."""
    events, head = 0, 0
    streams: set[tuple[StreamId, str | None]] = set()
    categories: set[str | None] = set()
    tenants: set[str | None] = set()
    types: set[str] = set()
    for record in records:
        events += 1
        head = record.position
        streams.add((record.raw.stream_id, record.tenant_id))
        categories.add(record.raw.stream_id.category)
        tenants.add(record.tenant_id)
        types.add(record.raw.type)
    return {
        "events": events,
        "streams": len(streams),
        "categories": len(categories - {None}),
        "tenants": len(tenants - {None}),
        "event_types": len(types),
        "head_position": head,
    }
