"""`AsyncDjangoBackend`: Event Sourcery's asyncio API on a Django database.

Django has no asyncio database driver: its own async ORM methods (``aget``, ``acreate``, ...)
run the sync ORM in a thread with asgiref's ``sync_to_async(thread_sensitive=True)``. This
backend does the same, deliberately and in one place (`in_django_thread`): each awaited port
call runs the sync Django strategy's method (`DjangoStorageStrategy` and friends, unchanged)
in that thread, one hop per port call, never one per SQL statement. Thread-sensitive calls of
one caller all land on the same thread (per request under Django's ASGI handler, which opens
a ``ThreadSensitiveContext`` for each), so the connection and transaction are Django's own:
the ones the async ORM of the same request uses, and the ones a ``transaction.atomic`` block
run with ``sync_to_async`` opens.

Each write of the store (an append with its keys, outbox entries and in-transaction
listeners; a snapshot; a deletion) runs in ``transaction.atomic``, entered in one hop and
ended in another on that same thread, with the store's other hops in between: a savepoint
inside your transaction, a transaction of its own in autocommit mode. A cancelled write rolls
back to it. Subscriptions read on connections of their own, each on a thread of its own
(`ThreadedLogCursor`), where their blocking wait runs: it never holds up the event loop or
the caller's thread.

The outbox relay and projectors work the same way, with the sync store's rule that a claim
and a checkpoint live in a transaction (`DjangoOutboxStrategy`, `DjangoCheckpointStrategy`).
Each `AsyncOutbox.run` and `AsyncProjector` call (`run_once`, `position`, `reset`) runs in an
atomic block of its own, entered in one hop and ended in another, as a write does: in
autocommit mode a transaction of its own, otherwise a savepoint of yours. So the entries a
relay run claimed stay locked while the publisher is awaited on the event loop (between
hops), until the block ends after the last entry; and a projector's checkpoint is saved in
the block where its handler wrote (with the async ORM, whose calls land on the same thread),
so an exception of the handler rolls both back. The block is the one of the sync worker
(``transaction.atomic`` per batch), opened by the backend because an async caller cannot open
Django's atomic block around its awaits.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import DEFAULT_DB_ALIAS
from event_sourcery import (
    AsyncBackend,
    AsyncEventStore,
    AsyncOutbox,
    BackendConfig,
    EventRegistry,
    RawEvent,
    Recorded,
    StreamId,
    WrappedEvent,
)
from event_sourcery.encryption import AwaitedKeys, KeyStorage
from event_sourcery.interfaces import (
    AsyncCheckpointStrategy,
    AsyncOutboxStrategy,
    AsyncOutboxWriter,
    AsyncStorageStrategy,
    AsyncSubscriptionStrategy,
    ExpectedVersion,
    ThreadedCheckpointStrategy,
    ThreadedKeyStorage,
    ThreadedOutboxStrategy,
    ThreadedStorageStrategy,
    ThreadedSubscriptionStrategy,
)

from event_sourcery_django._backend import check_alias, unit_of_work, wake_on_commit
from event_sourcery_django._keys import DjangoKeyStorage
from event_sourcery_django._reactions import DjangoCheckpointStrategy, DjangoOutboxStrategy
from event_sourcery_django._storage import DjangoStorageStrategy
from event_sourcery_django._subscription import DjangoSubscriptionStrategy

T = TypeVar("T")


def in_django_thread(call: Callable[[], T]) -> Awaitable[T]:
    """`call` run where Django's async ORM runs its queries: see the module docstring."""
    return sync_to_async(call, thread_sensitive=True)()


async def _to_the_end(call: Callable[[], T]) -> T:
    """`in_django_thread(call)`, awaited to its end even if the awaiting task is cancelled
    meanwhile; the cancellation is raised after it.

    A hop cancelled while its call runs in the thread cannot stop it; what the awaiting task
    sees then depends on asgiref's version. Entering or leaving an atomic block must not be
    in doubt (the connection would stay in a transaction for good), so these hops are seen
    through to their end here, whatever asgiref does.
    """
    future = asyncio.ensure_future(in_django_thread(call))
    cancelled = False
    while not future.done():
        try:
            await asyncio.wait({future})  # cancelling the wait leaves `future` running
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        future.exception()  # retrieved: the cancellation is what the caller gets
        raise asyncio.CancelledError
    return future.result()


@asynccontextmanager
async def _atomic(using: str, action: str, *, wake: bool = False) -> AsyncIterator[None]:
    """The sync store's unit of work (`unit_of_work`), entered and ended in Django's thread.

    The body's hops land on that thread too, inside the block. An exception of the body
    (cancellation included) rolls the block back and goes on unchanged.
    """
    block = unit_of_work(using, action)
    try:
        await _to_the_end(block.__enter__)
    except asyncio.CancelledError:
        await _to_the_end(partial(block.__exit__, None, None, None))  # entered all the same
        raise
    try:
        yield
    except BaseException as error:
        await _to_the_end(partial(block.__exit__, type(error), error, error.__traceback__))
        raise

    def commit() -> None:
        try:
            if wake:
                wake_on_commit(using)
        except BaseException:
            block.__exit__(*sys.exc_info())  # rolls back, as an error of the body does
            raise
        block.__exit__(None, None, None)

    await _to_the_end(commit)  # one hop: the wake-up is registered with the commit


class AsyncDjangoEventStore(AsyncEventStore):
    """The `AsyncEventStore` of an `AsyncDjangoBackend`: each write is atomic on its own,
    as `DjangoEventStore`'s are (see the module docstring)."""

    __slots__ = ()

    @property
    def _using(self) -> str:
        storage = self._storage
        sync = storage.sync if isinstance(storage, ThreadedStorageStrategy) else None
        return sync.using if isinstance(sync, DjangoStorageStrategy) else DEFAULT_DB_ALIAS

    async def append(
        self, *events: Any, stream_id: StreamId, expected_version: ExpectedVersion = 0
    ) -> None:
        async with _atomic(self._using, f"appending to stream {stream_id!r}", wake=True):
            await super().append(*events, stream_id=stream_id, expected_version=expected_version)

    async def append_raw(
        self, *events: RawEvent, expected_version: ExpectedVersion = 0
    ) -> list[int]:
        stream_id = events[0].stream_id if events else None
        async with _atomic(self._using, f"appending to stream {stream_id!r}", wake=True):
            return await super().append_raw(*events, expected_version=expected_version)

    async def save_snapshot(self, stream_id: StreamId, snapshot: WrappedEvent[Any]) -> None:
        async with _atomic(self._using, f"saving a snapshot of stream {stream_id!r}"):
            await super().save_snapshot(stream_id, snapshot)

    async def delete_stream(self, stream_id: StreamId) -> None:
        async with _atomic(self._using, f"deleting stream {stream_id!r}"):
            await super().delete_stream(stream_id)


class AsyncDjangoOutbox(AsyncOutbox):
    """The `AsyncOutbox` of an `AsyncDjangoBackend`: each `run` in an atomic block of its
    own (see the module docstring)."""

    __slots__ = ()

    async def run(self, publisher: Callable[[Recorded[Any]], object], limit: int = 100) -> int:
        strategy = self._strategy
        sync = strategy.sync if isinstance(strategy, ThreadedOutboxStrategy) else None
        using = sync.using if isinstance(sync, DjangoOutboxStrategy) else DEFAULT_DB_ALIAS
        async with _atomic(using, "publishing the outbox"):
            return await super().run(publisher, limit)


class AsyncDjangoBackend(AsyncBackend):
    """Event Sourcery's asyncio API on a database of your Django project.

    The tables, statements and transactions of `DjangoBackend`, awaited: each call runs the
    sync backend's code in the thread Django's async ORM uses (see the module docstring), so
    it works on the same connection and in the same transaction as your ORM calls. Make one,
    once, and import it where you need it: it holds no connection.

    Args:
        using: the database alias (``settings.DATABASES``) whose tables hold the store. An
            alias that is not in ``settings.DATABASES`` raises `InvalidInput` at once.
        registry: the event registry; the default one (or that of `config`) if not given.
        config: backend-independent options built once at start-up (listeners, outbox, ...).
    """

    __slots__ = ("_using",)
    _event_store_class = AsyncDjangoEventStore

    def __init__(
        self,
        *,
        using: str = DEFAULT_DB_ALIAS,
        registry: EventRegistry | None = None,
        config: BackendConfig | None = None,
    ) -> None:
        check_alias(using)
        super().__init__(registry=registry, config=config)
        self._using = using

    @property
    def using(self) -> str:
        """The database alias this backend works on."""
        return self._using

    def _storage(self) -> AsyncStorageStrategy:
        sync = DjangoStorageStrategy(self._using, self.tenant_id)
        return ThreadedStorageStrategy(sync, in_django_thread)

    def _subscription_strategy(self) -> AsyncSubscriptionStrategy:
        sync = DjangoSubscriptionStrategy(self._using)
        return ThreadedSubscriptionStrategy(sync, in_django_thread)

    def _outbox_writer(self) -> AsyncOutboxWriter:
        return self._outbox_strategy()

    def _outbox_strategy(self) -> AsyncOutboxStrategy:
        return ThreadedOutboxStrategy(DjangoOutboxStrategy(self._using), in_django_thread)

    def _checkpoint_strategy(self) -> AsyncCheckpointStrategy:
        return ThreadedCheckpointStrategy(DjangoCheckpointStrategy(self._using), in_django_thread)

    def _unit_of_work(self, action: str) -> AbstractAsyncContextManager[object]:
        return _atomic(self._using, action)

    @property
    def outbox(self) -> AsyncOutbox:
        """`AsyncBackend.outbox`; each `run` is atomic on its own (see the module docstring)."""
        return self._made_outbox(AsyncDjangoOutbox, self._outbox_strategy())

    def _key_storage(self) -> KeyStorage:
        # Awaited by the async store and subscriber ahead of each encrypt/decrypt step.
        keys = ThreadedKeyStorage(DjangoKeyStorage(self._using), in_django_thread)
        return AwaitedKeys(keys)

    def __repr__(self) -> str:
        return f"AsyncDjangoBackend(using={self._using!r}, tenant_id={self.tenant_id!r})"
