"""The AsyncEventStore: the asyncio twin of `EventStore`, over an `AsyncStorageStrategy`.

Logic lives once: every decision is a pure function of `_store_rules` that `EventStore` calls
too (see that module for why this and not a generated twin); this class only awaits storage.
"""

from __future__ import annotations

import inspect
from typing import Any, overload

from event_sourcery._async_ports import AsyncOutboxWriter, AsyncStorageStrategy
from event_sourcery._encryption import Encryption
from event_sourcery._event import TEvent, WrappedEvent
from event_sourcery._listeners import InTransactionListeners
from event_sourcery._loaded import LoadedStream, check_event_types
from event_sourcery._outbox import OutboxConfig
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import Recorded
from event_sourcery._registry import EventRegistry
from event_sourcery._store_rules import (
    check_loaded_range,
    check_range,
    check_raw_append,
    check_stream_id,
    decode_loaded,
    encode_append,
    encode_snapshot,
    recorded_after_insert,
    span_attributes,
)
from event_sourcery._stream_id import StreamId
from event_sourcery._tracing import NO_INSTRUMENTATION, Instrumentation, caused_by
from event_sourcery._versioning import ExpectedVersion, check_expected


class AsyncEventStore:
    """Loads and appends the events of streams, in one tenant of one asyncio backend.

    The same names, arguments, results and errors as `EventStore`, each call a coroutine. Get
    it from an asyncio backend (`backend.event_store`). In-transaction listeners may be
    coroutine functions: they are awaited inside the append, in registration order.
    """

    __slots__ = (
        "_encryption",
        "_instrumentation",
        "_listeners",
        "_outbox",
        "_registry",
        "_storage",
    )

    def __init__(
        self,
        storage: AsyncStorageStrategy,
        registry: EventRegistry,
        *,
        listeners: InTransactionListeners | None = None,
        outbox: tuple[AsyncOutboxWriter, OutboxConfig] | None = None,
        encryption: Encryption | None = None,
        instrumentation: Instrumentation = NO_INSTRUMENTATION,
    ) -> None:
        self._storage = storage
        self._registry = registry
        self._listeners = listeners
        self._outbox = outbox
        self._encryption = encryption
        self._instrumentation = instrumentation

    @overload
    async def load_stream(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> LoadedStream[Any]: ...

    @overload
    async def load_stream(
        self,
        stream_id: StreamId,
        start: int | None = None,
        stop: int | None = None,
        *,
        of: type[TEvent] | tuple[type[TEvent], ...],
    ) -> LoadedStream[TEvent]: ...

    async def load_stream(
        self,
        stream_id: StreamId,
        start: int | None = None,
        stop: int | None = None,
        *,
        of: type[Any] | tuple[type[Any], ...] | None = None,
    ) -> LoadedStream[Any]:
        """The events of a stream, oldest first, and its version (see `EventStore.load_stream`)."""
        check_stream_id(stream_id)
        classes = None if of is None else check_event_types(of)
        with self._instrumentation.span("event_sourcery.load_stream", span_attributes(stream_id)):
            raws = await self.load_stream_raw(stream_id, start, stop)
            return decode_loaded(
                raws, stream_id, classes, self._registry, self._encryption, self._storage.tenant_id
            )

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
        with self._instrumentation.span("event_sourcery.append", span_attributes(stream_id)):
            await self._append(events, stream_id, expected)

    async def append_raw(
        self, *events: RawEvent, expected_version: ExpectedVersion = 0
    ) -> list[int]:
        """Store events of one stream in their stored form (see `EventStore.append_raw`)."""
        expected = check_expected(expected_version)
        if not events:
            return []
        stream_id = check_raw_append(events, expected)
        with self._instrumentation.span("event_sourcery.append", span_attributes(stream_id)):
            return await self._storage.insert_events(stream_id, expected, list(events))

    async def _append(
        self, events: tuple[Any, ...], stream_id: StreamId, expected: ExpectedVersion
    ) -> None:
        tenant = self._storage.tenant_id
        raws = encode_append(
            events,
            stream_id,
            expected,
            self._registry,
            self._encryption,
            tenant,
            self._instrumentation,
        )
        positions = await self._storage.insert_events(stream_id, expected, raws)
        if self._listeners or self._outbox:
            outbox = self._outbox
            chosen, typed = recorded_after_insert(
                events, raws, positions, tenant, None if outbox is None else outbox[1]
            )
            if chosen and outbox is not None:
                await outbox[0].put(chosen)
            if self._listeners:
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
        raw = encode_snapshot(
            stream_id, snapshot, self._registry, self._encryption, self._storage.tenant_id
        )
        await self._storage.save_snapshot(raw)

    async def delete_stream(self, stream_id: StreamId) -> None:
        """Remove a stream with its events and snapshot; no-op if it does not exist."""
        await self._storage.delete_stream(check_stream_id(stream_id))

    async def position(self) -> int:
        """Global position of the newest stored event (see `EventStore.position`).

        A coroutine method (`await store.position()`), since reading it is I/O.
        """
        return await self._storage.current_position()
