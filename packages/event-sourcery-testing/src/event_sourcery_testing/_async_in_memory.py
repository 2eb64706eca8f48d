"""`AsyncInMemoryBackend`: the asyncio reference implementation, over the in-memory store.

No state logic of its own: every method awaits once (as a real driver awaits its I/O, so
concurrent tasks interleave where they would on a database) and then calls the in-memory
backend's strategy over the same `InMemoryData`. Each write is then atomic on the event loop:
a task cancelled at its await has written nothing, and one past it has written everything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Self

from event_sourcery import AsyncBackend, StreamId
from event_sourcery.interfaces import (
    AsyncCheckpointStrategy,
    AsyncLogCursor,
    AsyncOutboxStrategy,
    AsyncOutboxWriter,
    AsyncStorageStrategy,
    AsyncSubscriptionStrategy,
    ExpectedVersion,
    OutboxEntry,
    RawEvent,
    RecordedRaw,
    SubscriptionFilter,
)

from event_sourcery_testing._in_memory import (
    InMemoryCheckpointStrategy,
    InMemoryData,
    InMemoryLogCursor,
    InMemoryOutboxStrategy,
    InMemoryStorageStrategy,
    InMemoryStore,
)

#: How often a waiting cursor looks at the log again (the in-memory store has no
#: notification an event loop could await without a thread).
_POLL = 0.005


class AsyncInMemoryStorageStrategy(AsyncStorageStrategy):
    """`AsyncStorageStrategy` over an `InMemoryData`: `InMemoryStorageStrategy`, awaited."""

    def __init__(self, data: InMemoryData, tenant_id: str | None = None) -> None:
        self._data = data
        self._sync = InMemoryStorageStrategy(data, tenant_id)
        self.tenant_id = tenant_id

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self._data, tenant_id)

    async def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        await asyncio.sleep(0)
        return self._sync.fetch_events(stream_id, start, stop)

    async def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        await asyncio.sleep(0)
        return self._sync.insert_events(stream_id, expected, events)

    async def save_snapshot(self, snapshot: RawEvent) -> None:
        await asyncio.sleep(0)
        self._sync.save_snapshot(snapshot)

    async def delete_stream(self, stream_id: StreamId) -> None:
        await asyncio.sleep(0)
        self._sync.delete_stream(stream_id)

    async def current_position(self) -> int:
        await asyncio.sleep(0)
        return self._sync.current_position()


class AsyncInMemoryLogCursor(AsyncLogCursor):
    """`InMemoryLogCursor`, awaited; `wait` polls the log without blocking the loop."""

    def __init__(self, data: InMemoryData, after: int, subscription_filter: SubscriptionFilter):
        self._data = data
        self._sync = InMemoryLogCursor(data, after, subscription_filter)

    async def fetch(self, limit: int) -> list[RecordedRaw]:
        await asyncio.sleep(0)
        return self._sync.fetch(limit)

    @property
    def position(self) -> int:
        return self._sync.position

    async def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self._data.log) <= self._sync.position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(_POLL, remaining))


class AsyncInMemorySubscriptionStrategy(AsyncSubscriptionStrategy):
    """`AsyncSubscriptionStrategy` over an `InMemoryData`."""

    def __init__(self, data: InMemoryData) -> None:
        self._data = data

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> AsyncLogCursor:
        return AsyncInMemoryLogCursor(self._data, after, subscription_filter)


class AsyncInMemoryOutboxStrategy(AsyncOutboxStrategy):
    """`InMemoryOutboxStrategy` over an `InMemoryData`, awaited."""

    def __init__(self, data: InMemoryData) -> None:
        self._sync = InMemoryOutboxStrategy(data)

    async def put(self, records: Sequence[RecordedRaw]) -> None:
        # No await: called right after the events' insert, which has no transaction to undo.
        self._sync.put(records)

    async def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        await asyncio.sleep(0)
        return self._sync.claim(limit, max_attempts)

    async def published(self, entry: OutboxEntry) -> None:
        await asyncio.sleep(0)
        self._sync.published(entry)

    async def failed(self, entry: OutboxEntry, error: str) -> None:
        await asyncio.sleep(0)
        self._sync.failed(entry, error)

    async def release(self, entries: Sequence[OutboxEntry]) -> None:
        # No await: a run cancelled while it releases must still release every entry.
        self._sync.release(entries)

    async def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        await asyncio.sleep(0)
        return self._sync.dead_letters(max_attempts, limit)

    async def counts(self, max_attempts: int) -> tuple[int, int]:
        await asyncio.sleep(0)
        return self._sync.counts(max_attempts)

    async def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        await asyncio.sleep(0)
        self._sync.reset_attempts(entry_ids)

    async def remove(self, entry_ids: Sequence[int]) -> None:
        await asyncio.sleep(0)
        self._sync.remove(entry_ids)


class AsyncInMemoryCheckpointStrategy(AsyncCheckpointStrategy):
    """`InMemoryCheckpointStrategy` over an `InMemoryData`, awaited."""

    def __init__(self, data: InMemoryData) -> None:
        self._sync = InMemoryCheckpointStrategy(data)

    async def load(self, name: str) -> int:
        await asyncio.sleep(0)
        return self._sync.load(name)

    async def save(self, name: str, position: int) -> None:
        await asyncio.sleep(0)
        self._sync.save(name, position)

    async def positions(self) -> dict[str, int]:
        await asyncio.sleep(0)
        return self._sync.positions()


class AsyncInMemoryBackend(InMemoryStore, AsyncBackend):
    """A complete asyncio backend in memory, for async tests and as the reference.

    Share `data` with an `InMemoryBackend` to reach the same store from sync code.
    """

    __slots__ = ()

    def _storage(self) -> AsyncStorageStrategy:
        return AsyncInMemoryStorageStrategy(self.data, self.tenant_id)

    def _subscription_strategy(self) -> AsyncSubscriptionStrategy:
        return AsyncInMemorySubscriptionStrategy(self.data)

    def _outbox_writer(self) -> AsyncOutboxWriter:
        return AsyncInMemoryOutboxStrategy(self.data)

    def _outbox_strategy(self) -> AsyncOutboxStrategy:
        return AsyncInMemoryOutboxStrategy(self.data)

    def _checkpoint_strategy(self) -> AsyncCheckpointStrategy:
        return AsyncInMemoryCheckpointStrategy(self.data)
