"""The AsyncEventStore: the asyncio twin of `EventStore`, over an `AsyncStorageStrategy`.

Logic lives once: every decision is a pure function of `_store_rules` that `EventStore` calls
too (see that module for why this and not a generated twin); this class only awaits storage.
"""

from __future__ import annotations

import inspect
from typing import Any

from event_sourcery._async_encryption import keys_for_append, keys_for_reading, store_added
from event_sourcery._async_ports import AsyncOutboxWriter, AsyncStorageStrategy
from event_sourcery._event import TEvent, WrappedEvent
from event_sourcery._listeners import InTransactionListeners
from event_sourcery._loaded import LoadedStream, check_event_types
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import Recorded
from event_sourcery._store_rules import (
    StoreBase,
    check_loaded_range,
    check_range,
    check_raw_append,
    check_stream_id,
)
from event_sourcery._stream_id import StreamId
from event_sourcery._tracing import caused_by
from event_sourcery._versioning import ExpectedVersion, check_expected


class AsyncEventStore(StoreBase[AsyncStorageStrategy, AsyncOutboxWriter]):
    """Loads and appends the events of streams, in one tenant of one asyncio backend.

    The same names, arguments, results and errors as `EventStore`, each call a coroutine. Get
    it from an asyncio backend (`backend.event_store`). In-transaction listeners may be
    coroutine functions: they are awaited inside the append, in registration order.
    """

    __slots__ = ()

    async def load_stream(
        self,
        stream_id: StreamId,
        start: int | None = None,
        stop: int | None = None,
        *,
        of: type[TEvent] | tuple[type[TEvent], ...] | None = None,
    ) -> LoadedStream[TEvent]:
        """The events of a stream, oldest first, and its version (see `EventStore.load_stream`).

        One signature where `EventStore` has two overloads: without `of`, `TEvent` is `Any`
        (its default), as `EventStore.load_stream`'s first overload says.
        """
        check_stream_id(stream_id)
        classes = None if of is None else check_event_types(of)
        with self._span("event_sourcery.load_stream", stream_id):
            raws = await self.load_stream_raw(stream_id, start, stop)
            tenant = self._storage.tenant_id
            stored = ((raw, tenant) for raw in raws)
            encryption = await keys_for_reading(self._encryption, stored)
            return self._decode(raws, stream_id, classes, encryption)

    async def load_stream_raw(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        """Like `load_stream`, but the stored form: readable without the events' classes."""
        check_stream_id(stream_id)
        check_range(start, stop)
        raws = await self._storage.fetch_events(stream_id, start, stop)
        check_loaded_range(raws, stream_id, start, stop)
        return raws

    async def append(
        self,
        *events: Any,
        stream_id: StreamId,
        expected_version: ExpectedVersion = 0,
    ) -> None:
        """Append events to a stream, atomically (see `EventStore.append`).

        Raises what `EventStore.append` raises. Cancelled while it awaits, it stores nothing.
        """
        check_stream_id(stream_id)
        expected = check_expected(expected_version)
        if not events:
            return
        with self._span("event_sourcery.append", stream_id):
            await self._append(events, stream_id, expected)

    async def append_raw(
        self, *events: RawEvent, expected_version: ExpectedVersion = 0
    ) -> list[int]:
        """Store events of one stream in their stored form (see `EventStore.append_raw`)."""
        expected = check_expected(expected_version)
        if not events:
            return []
        stream_id = check_raw_append(events, expected)
        with self._span("event_sourcery.append", stream_id):
            return await self._storage.insert_events(stream_id, expected, list(events))

    async def _append(
        self, events: tuple[Any, ...], stream_id: StreamId, expected: ExpectedVersion
    ) -> None:
        encryption, ring = await keys_for_append(self._encryption, events, self._storage.tenant_id)
        raws = self._encode(events, stream_id, expected, encryption)
        await store_added(self._encryption, ring)
        positions = await self._storage.insert_events(stream_id, expected, raws)
        chosen, typed = self._handed_on(events, raws, positions)
        if chosen and self._outbox is not None:
            await self._outbox[0].put(chosen)
        if typed and self._listeners is not None:
            await self._dispatch(self._listeners, typed)

    @staticmethod
    async def _dispatch(listeners: InTransactionListeners, typed: list[Recorded[Any]]) -> None:
        for listener, record in listeners.calls(typed):
            with caused_by(record.wrapped_event):
                result = listener(record)
                if inspect.isawaitable(result):
                    await result

    async def save_snapshot(self, stream_id: StreamId, snapshot: WrappedEvent[Any]) -> None:
        """Save the state of a stream at its current version (see `EventStore.save_snapshot`)."""
        tenant = self._storage.tenant_id
        encryption, ring = await keys_for_append(self._encryption, [snapshot], tenant)
        raw = self._snapshot(stream_id, snapshot, encryption)
        await store_added(self._encryption, ring)
        await self._storage.save_snapshot(raw)

    async def delete_stream(self, stream_id: StreamId) -> None:
        """Remove a stream with its events and snapshot; no-op if it does not exist."""
        await self._storage.delete_stream(check_stream_id(stream_id))

    async def position(self) -> int:
        """Global position of the newest stored event (see `EventStore.position`).

        A coroutine method (`await store.position()`), since reading it is I/O.
        """
        return await self._storage.current_position()
