"""The kit in asyncio mode: the same test functions, run against an `AsyncBackend`.

Not a copy of the kit: `AsyncModeBackend` is a `Backend` whose `event_store`, `subscriber` and
`encryption` hand every call to the asyncio backend's, as a coroutine run on an event loop
that lives in a thread of its own (`EventLoopThread`), and wait for its result. A test that
passes through it has therefore exercised the async API: `AsyncEventStore`, the async
iterators of `AsyncSubscriber`, the async ports of the backend.

The outbox relay and projectors are the asyncio backend's too (`AsyncOutbox`,
`AsyncProjector`, through `BlockingOutbox` and `BlockingProjector`): nothing of an asyncio
backend is reached through a sync backend.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncGenerator, Coroutine, Generator
from concurrent.futures import Future
from typing import Any, TypeVar
from weakref import WeakSet

import greenlet
from event_sourcery import (
    AsyncBackend,
    AsyncEventStore,
    AsyncProjector,
    AsyncSubscriber,
    Backend,
    BackendConfig,
    EventStore,
    LoadedStream,
    Outbox,
    Projector,
    RawEvent,
    Recorded,
    StreamId,
    Subscriber,
    WrappedEvent,
)
from event_sourcery.encryption import KeyStorage, TenantEncryption
from event_sourcery.interfaces import (
    CheckpointStrategy,
    ExpectedVersion,
    OutboxStrategy,
    RecordedRaw,
    StorageStrategy,
    SubscriptionStrategy,
)

from event_sourcery_testing.conformance._blocking_reactions import BlockingOutbox, BlockingProjector

T = TypeVar("T")


class EventLoopThread:
    """An event loop running in a daemon thread; `run` waits for a coroutine's result there.

    Callable from any thread, concurrently (a test's writer thread and its reader). The
    caller's context variables (`caused_by`) go with the coroutine. Called on the loop's own
    thread (a sync listener calling the store inside an append), the loop is busy running the
    outer call: the nested coroutine runs on the same loop, in the outer call's task, as the
    continuation of the sync code that called it (`_drive`), so it continues the outer call's
    transaction on the same session and connection, as a sync listener's nested call does in
    the sync API, on drivers whose connections belong to their loop (asyncpg, asyncmy) too.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="event-sourcery-kit-loop", daemon=True
        )
        self._thread.start()

    @property
    def closed(self) -> bool:
        """Whether `close` ran."""
        return self._loop.is_closed()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """The result of `coroutine`, run on the loop; its exception, raised here."""
        if threading.current_thread() is self._thread:
            return _step_through(coroutine)
        context = contextvars.copy_context()
        future: Future[T] = asyncio.run_coroutine_threadsafe(_drive(coroutine, context), self._loop)
        return future.result()

    def close(self) -> None:
        """Finish open async generators, stop the loop and its thread."""
        if self.closed:
            return
        self.run(self._loop.shutdown_asyncgens())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


# How sync code on the loop's thread awaits: the way SQLAlchemy's `AsyncSession` runs its sync
# core. `_drive` (the task) runs the coroutine step by step in a greenlet of its own
# (in `_DRIVEN`); whatever the coroutine awaits is handed to the task to await, and the greenlet
# resumed with the outcome. Sync code inside the coroutine that `run`s another coroutine steps
# through it in place (`_step_through`), handing its awaits to the same task.


#: The greenlets in which `_drive` steps through a coroutine.
_DRIVEN: WeakSet[Any] = WeakSet()


class _Yield:
    """Awaiting it yields `awaited` to the task: what a coroutine's await handed out."""

    def __init__(self, awaited: Any) -> None:
        self.awaited = awaited

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self.awaited)


async def _drive(coroutine: Coroutine[Any, Any, T], context: contextvars.Context) -> T:
    driven = greenlet.greenlet(lambda: _finished(coroutine))
    driven.gr_context = context
    _DRIVEN.add(driven)
    step = driven.switch()
    while True:
        kind, payload, origin = step
        if kind == "done":
            result: T = payload
            return result
        if kind == "error":
            raise payload
        try:
            sent = await _Yield(payload)
        except BaseException as error:  # cancellation too: thrown into the coroutine
            step = origin.switch(("throw", error))
        else:
            step = origin.switch(("send", sent))


def _finished(coroutine: Coroutine[Any, Any, T]) -> tuple[str, Any, None]:
    try:
        return ("done", _step_through(coroutine), None)
    except BaseException as error:
        return ("error", error, None)


def _step_through(awaitable: Coroutine[Any, Any, T]) -> T:
    """Run `awaitable` to its end from sync code of a `_drive`n coroutine: each of its awaits
    is handed to the driving task, which sends back the outcome."""
    current = greenlet.getcurrent()
    driven = current
    while driven not in _DRIVEN:
        if driven.parent is None:
            raise RuntimeError("EventLoopThread.run on the loop's thread outside a kit call")
        driven = driven.parent
    driver = driven.parent
    sent: Any = None
    error: BaseException | None = None
    while True:
        try:
            awaited = awaitable.send(sent) if error is None else awaitable.throw(error)
        except StopIteration as done:
            result: T = done.value
            return result
        kind, outcome = driver.switch(("await", awaited, current))
        sent, error = (outcome, None) if kind == "send" else (None, outcome)


def _blocking(loop: EventLoopThread, iterator: AsyncGenerator[T]) -> Generator[T, None, None]:
    """`iterator` as a sync generator; closing it closes `iterator` on the loop."""
    try:
        while True:
            yield loop.run(anext(iterator))
    finally:
        if not loop.closed:
            loop.run(iterator.aclose())


class BlockingEventStore(EventStore):
    """An `EventStore` whose every call is the `AsyncEventStore`'s, run on the loop."""

    __slots__ = ("_async", "_loop")

    def __init__(self, store: AsyncEventStore, loop: EventLoopThread) -> None:
        # No EventStore state: every method below delegates.
        self._async = store
        self._loop = loop

    def load_stream(
        self,
        stream_id: StreamId,
        start: int | None = None,
        stop: int | None = None,
        *,
        of: Any = None,
    ) -> LoadedStream[Any]:
        if of is None:
            return self._loop.run(self._async.load_stream(stream_id, start, stop))
        return self._loop.run(self._async.load_stream(stream_id, start, stop, of=of))

    def load_stream_raw(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        return self._loop.run(self._async.load_stream_raw(stream_id, start, stop))

    def append(
        self, *events: Any, stream_id: StreamId, expected_version: ExpectedVersion = 0
    ) -> None:
        self._loop.run(
            self._async.append(*events, stream_id=stream_id, expected_version=expected_version)
        )

    def append_raw(self, *events: RawEvent, expected_version: ExpectedVersion = 0) -> list[int]:
        return self._loop.run(self._async.append_raw(*events, expected_version=expected_version))

    def save_snapshot(self, stream_id: StreamId, snapshot: WrappedEvent[Any]) -> None:
        self._loop.run(self._async.save_snapshot(stream_id, snapshot))

    def delete_stream(self, stream_id: StreamId) -> None:
        self._loop.run(self._async.delete_stream(stream_id))

    @property
    def position(self) -> int:
        return self._loop.run(self._async.position())


class _Bridge:
    """What a `BlockingSubscriber` carries as its strategy: the async one and the loop."""

    __slots__ = ("loop", "strategy")

    def __init__(self, strategy: Any, loop: EventLoopThread) -> None:
        self.strategy = strategy
        self.loop = loop


class BlockingSubscriber(Subscriber[Any]):
    """A `Subscriber` whose iterators are `AsyncSubscriber`'s, iterated on the loop."""

    __slots__ = ()

    def _async(self) -> AsyncSubscriber[Any]:
        subscriber: AsyncSubscriber[Any] = AsyncSubscriber(
            self._bridge.strategy,
            self._registry,
            position=self._position,
            subscription_filter=self._filter,
            encryption=self._encryption,
        )
        subscriber._classes = self._classes
        return subscriber

    @property
    def _bridge(self) -> _Bridge:
        bridge: _Bridge = self._strategy  # type: ignore[assignment]
        return bridge

    def build_iter(self, timelimit: float) -> Generator[Recorded[Any] | None, None, None]:
        return _blocking(self._bridge.loop, self._async().build_iter(timelimit))

    def build_batch(
        self, size: int, timelimit: float
    ) -> Generator[list[Recorded[Any]], None, None]:
        return _blocking(self._bridge.loop, self._async().build_batch(size, timelimit))

    def build_raw_batch(
        self, size: int, timelimit: float
    ) -> Generator[list[RecordedRaw], None, None]:
        return _blocking(self._bridge.loop, self._async().build_raw_batch(size, timelimit))


class BlockingEncryption(TenantEncryption):
    """A `TenantEncryption` whose `shred` is the asyncio backend's `ashred`, run on the loop."""

    __slots__ = ("_async", "_loop")

    def __init__(self, async_backend: AsyncBackend, loop: EventLoopThread) -> None:
        encryption = async_backend.encryption
        super().__init__(encryption._encryption, encryption._tenant_id)
        self._async = encryption
        self._loop = loop

    def shred(self, subject_id: str) -> None:
        self._loop.run(self._async.ashred(subject_id))


class AsyncModeBackend(Backend):
    """A `Backend` over an `AsyncBackend`, for the kit: see the module's docstring.

    Its configuration (listeners, outbox, encryption, tenant) is the asyncio backend's: every
    `with_*` copy reconfigures both.

    Attributes:
        async_backend: the asyncio backend under test (configured as this one is).
        loop: where its coroutines run; `loop.run(session.commit())` in a `commit` hook.
    """

    __slots__ = ("async_backend", "loop")

    def __init__(self, async_backend: AsyncBackend, loop: EventLoopThread) -> None:
        super().__init__(config=async_backend.config)
        self.async_backend = async_backend
        self.loop = loop

    def _with_config(self, config: BackendConfig) -> AsyncModeBackend:
        clone = super()._with_config(config)
        clone.async_backend = self.async_backend._with_config(config)
        return clone

    @property
    def event_store(self) -> EventStore:
        if self._event_store is None:
            self._event_store = BlockingEventStore(self.async_backend.event_store, self.loop)
        return self._event_store

    @property
    def encryption(self) -> TenantEncryption:
        return BlockingEncryption(self.async_backend, self.loop)

    @property
    def subscriber(self) -> Subscriber[Any]:
        built = self.async_backend.subscriber
        return BlockingSubscriber(
            _Bridge(built._strategy, self.loop), built._registry, encryption=built._encryption
        )

    @property
    def outbox(self) -> Outbox:
        return BlockingOutbox(self.async_backend.outbox, self.loop)

    def projector(self, **options: Any) -> Projector:
        """A `Projector` over this backend: the asyncio backend's `AsyncProjector`."""
        return BlockingProjector(AsyncProjector(self.async_backend, **options), self, self.loop)

    def projection_checkpoints(self) -> dict[str, int]:
        return self.loop.run(self.async_backend.projection_checkpoints())

    # The sync ports: every call above goes to the asyncio backend, so none of these is
    # reached; a test that calls one directly is not a test of the asyncio API.
    def _storage(self) -> StorageStrategy:
        raise _sync_port("_storage")

    def _subscription_strategy(self) -> SubscriptionStrategy:
        raise _sync_port("_subscription_strategy")

    def _outbox_strategy(self) -> OutboxStrategy:
        raise _sync_port("_outbox_strategy")

    def _checkpoint_strategy(self) -> CheckpointStrategy:
        raise _sync_port("_checkpoint_strategy")

    def _key_storage(self) -> KeyStorage:
        return self.async_backend._key_storage()


def _sync_port(name: str) -> NotImplementedError:
    return NotImplementedError(f"AsyncModeBackend.{name}: asyncio mode has no sync port")
