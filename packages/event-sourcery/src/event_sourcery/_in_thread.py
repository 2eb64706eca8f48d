"""Asyncio ports over sync ones, each awaited call running the sync port's method in a thread.

For a backend whose database access has no asyncio driver (Django's connections, say): its
sync ports run unchanged, one thread hop per port call, never one per statement. What a call
means is the sync port's contract, which the async port repeats (`AsyncStorageStrategy` and
friends); nothing is decided again here.

How a call reaches its thread is the backend's choice, an `InThread`: Django's
``sync_to_async(thread_sensitive=True)`` lands every call of one caller on the same thread,
whose connection and transaction are the caller's own; ``asyncio.to_thread`` suits a port
that holds nothing per thread. A subscription's cursor is different: it reads on a
connection of its own and blocks while it waits, so it gets a thread of its own
(`ThreadedLogCursor`), and waiting never holds up the caller's thread or the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Protocol, Self, TypeVar

from event_sourcery._async_ports import (
    AsyncCheckpointStrategy,
    AsyncLogCursor,
    AsyncOutboxStrategy,
    AsyncOutboxWriter,
    AsyncStorageStrategy,
    AsyncSubscriptionStrategy,
)
from event_sourcery._encryption import AsyncKeyStorage, KeyStorage, StoredKey
from event_sourcery._outbox import OutboxEntry, OutboxStrategy
from event_sourcery._projection import CheckpointStrategy
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import RecordedRaw
from event_sourcery._storage import StorageStrategy
from event_sourcery._stream_id import StreamId
from event_sourcery._subscription import LogCursor, SubscriptionFilter, SubscriptionStrategy
from event_sourcery._versioning import ExpectedVersion

T = TypeVar("T")


class InThread(Protocol):
    """Runs `call` in a thread and returns its result (or raises its exception) when awaited."""

    def __call__(self, call: Callable[[], T], /) -> Awaitable[T]: ...


class ThreadedStorageStrategy(AsyncStorageStrategy):
    """`AsyncStorageStrategy` over the sync strategy `sync`, each call run with `in_thread`."""

    def __init__(self, sync: StorageStrategy, in_thread: InThread) -> None:
        self.sync = sync
        self.tenant_id = sync.tenant_id
        self._in_thread = in_thread

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self.sync.scoped_for_tenant(tenant_id), self._in_thread)

    async def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        return await self._in_thread(partial(self.sync.fetch_events, stream_id, start, stop))

    async def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        return await self._in_thread(partial(self.sync.insert_events, stream_id, expected, events))

    async def save_snapshot(self, snapshot: RawEvent) -> None:
        await self._in_thread(partial(self.sync.save_snapshot, snapshot))

    async def delete_stream(self, stream_id: StreamId) -> None:
        await self._in_thread(partial(self.sync.delete_stream, stream_id))

    async def current_position(self) -> int:
        return await self._in_thread(self.sync.current_position)


class ThreadedLogCursor(AsyncLogCursor):
    """A sync cursor run on a thread of its own (see the module docstring).

    `opening` makes the sync cursor; it runs with the strategy's `in_thread` at the first
    read, since opening may look at the caller's transaction (Django's does). From then on
    every call of the cursor, its blocking `wait` included, runs on the cursor's thread, so
    a connection the cursor made there stays on the thread that made it. `aclose` (run on
    cancellation too) closes the cursor there, then lets the thread end.
    """

    def __init__(self, opening: Callable[[], LogCursor], in_thread: InThread, after: int) -> None:
        self._opening = opening
        self._in_thread = in_thread
        self._after = after
        self._cursor: LogCursor | None = None
        self._thread: ThreadPoolExecutor | None = None

    async def _on_own_thread(self, call: Callable[[], T]) -> T:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="event-sourcery-cursor")
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    async def _opened(self) -> LogCursor:
        if self._cursor is None:
            self._cursor = await self._in_thread(self._opening)
        return self._cursor

    async def fetch(self, limit: int) -> list[RecordedRaw]:
        cursor = await self._opened()
        return await self._on_own_thread(partial(cursor.fetch, limit))

    @property
    def position(self) -> int:
        return self._after if self._cursor is None else self._cursor.position

    async def wait(self, timeout: float) -> None:
        cursor = await self._opened()
        await self._on_own_thread(partial(cursor.wait, timeout))

    async def aclose(self) -> None:
        cursor, self._cursor = self._cursor, None
        thread, self._thread = self._thread, None
        try:
            if cursor is not None:
                self._after = cursor.position  # where it stopped, for whoever asks
                # After the call a cancelled task left running there (a wait ends in at most
                # its timeout): the thread runs one call at a time.
                await asyncio.get_running_loop().run_in_executor(thread, cursor.close)
        finally:
            if thread is not None:
                thread.shutdown(wait=False)


class ThreadedSubscriptionStrategy(AsyncSubscriptionStrategy):
    """`AsyncSubscriptionStrategy` over the sync strategy `sync`: cursors on threads of their
    own, opened with `in_thread`."""

    def __init__(self, sync: SubscriptionStrategy, in_thread: InThread) -> None:
        self.sync = sync
        self._in_thread = in_thread

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> AsyncLogCursor:
        opening = partial(self.sync.open, after, subscription_filter)
        return ThreadedLogCursor(opening, self._in_thread, after)


class ThreadedOutboxWriter(AsyncOutboxWriter):
    """`AsyncOutboxWriter` over a sync `OutboxStrategy`'s `put`, run with `in_thread`."""

    def __init__(self, sync: OutboxStrategy, in_thread: InThread) -> None:
        self.sync = sync
        self._in_thread = in_thread

    async def put(self, records: Sequence[RecordedRaw]) -> None:
        await self._in_thread(partial(self.sync.put, records))


class ThreadedOutboxStrategy(ThreadedOutboxWriter, AsyncOutboxStrategy):
    """`AsyncOutboxStrategy` over the sync `OutboxStrategy` `sync`, each call run with
    `in_thread`.

    A claim's locks are the sync strategy's, in the transaction of the thread `in_thread`
    reaches: they last across the hops of a relay run (and the publisher awaited between
    them) only if each hop lands on that thread and a transaction spans them there, which
    the backend arranges (Django's: an atomic block entered and ended in that thread).
    """

    async def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        return await self._in_thread(partial(self.sync.claim, limit, max_attempts))

    async def published(self, entry: OutboxEntry) -> None:
        await self._in_thread(partial(self.sync.published, entry))

    async def failed(self, entry: OutboxEntry, error: str) -> None:
        await self._in_thread(partial(self.sync.failed, entry, error))

    async def release(self, entries: Sequence[OutboxEntry]) -> None:
        await self._in_thread(partial(self.sync.release, entries))

    async def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        return await self._in_thread(partial(self.sync.dead_letters, max_attempts, limit))

    async def counts(self, max_attempts: int) -> tuple[int, int]:
        return await self._in_thread(partial(self.sync.counts, max_attempts))

    async def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        await self._in_thread(partial(self.sync.reset_attempts, entry_ids))

    async def remove(self, entry_ids: Sequence[int]) -> None:
        await self._in_thread(partial(self.sync.remove, entry_ids))


class ThreadedCheckpointStrategy(AsyncCheckpointStrategy):
    """`AsyncCheckpointStrategy` over the sync `CheckpointStrategy` `sync`, each call run
    with `in_thread` (the transaction a checkpoint is locked and saved in: see
    `ThreadedOutboxStrategy`)."""

    def __init__(self, sync: CheckpointStrategy, in_thread: InThread) -> None:
        self.sync = sync
        self._in_thread = in_thread

    async def load(self, name: str) -> int:
        return await self._in_thread(partial(self.sync.load, name))

    async def save(self, name: str, position: int) -> None:
        await self._in_thread(partial(self.sync.save, name, position))

    async def positions(self) -> dict[str, int]:
        return await self._in_thread(self.sync.positions)


class ThreadedKeyStorage(AsyncKeyStorage):
    """`AsyncKeyStorage` over a sync `KeyStorage`, each call run with `in_thread`."""

    def __init__(self, sync: KeyStorage, in_thread: InThread) -> None:
        self.sync = sync
        self._in_thread = in_thread

    async def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        return await self._in_thread(partial(self.sync.current, subject_id, tenant_id))

    async def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        return await self._in_thread(partial(self.sync.find, key_id, tenant_id))

    async def add(self, key: StoredKey, tenant_id: str | None) -> None:
        await self._in_thread(partial(self.sync.add, key, tenant_id))

    async def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        await self._in_thread(partial(self.sync.delete_subject, subject_id, tenant_id))
