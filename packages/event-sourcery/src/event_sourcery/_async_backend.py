"""What every asyncio backend exposes: the twin of `Backend`, configured by the same code."""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import ClassVar

from event_sourcery._async_event_store import AsyncEventStore
from event_sourcery._async_ports import (
    AsyncCheckpointStrategy,
    AsyncOutboxStrategy,
    AsyncOutboxWriter,
    AsyncStorageStrategy,
    AsyncSubscriptionStrategy,
)
from event_sourcery._async_subscription import AsyncSubscriber
from event_sourcery._configured import Configured
from event_sourcery._relay import AsyncOutbox


class AsyncBackend(Configured):
    """A configured asyncio backend: `event_store`, `subscriber`, `outbox` and projectors
    (`AsyncProjector`) whose calls are awaited.

    Configured exactly as a `Backend` is (`with_outbox`, `with_encryption`, `in_tenant_mode`,
    `in_transaction`, ... come from the same base class). Construction stores references
    only, so making one per request is cheap. In-transaction listeners may be coroutine
    functions, awaited inside the append's transaction.
    """

    __slots__ = ()

    #: The class `event_store` makes (a backend needing a unit of work per append names its
    #: own subclass here, as sync backends do).
    _event_store_class: ClassVar[type[AsyncEventStore]] = AsyncEventStore

    _event_store: AsyncEventStore | None

    @abstractmethod
    def _storage(self) -> AsyncStorageStrategy:
        """The storage strategy of this backend, scoped to `self.tenant_id`."""

    @abstractmethod
    def _subscription_strategy(self) -> AsyncSubscriptionStrategy:
        """The subscription strategy of this backend (system-wide: all tenants)."""

    @abstractmethod
    def _outbox_writer(self) -> AsyncOutboxWriter:
        """Where appends put outbox entries, in the backend's current transaction."""

    @abstractmethod
    def _outbox_strategy(self) -> AsyncOutboxStrategy:
        """The outbox relay's storage of this backend, in its current transaction."""

    @abstractmethod
    def _checkpoint_strategy(self) -> AsyncCheckpointStrategy:
        """The projection checkpoints of this backend, in its current transaction."""

    def _unit_of_work(self, action: str) -> AbstractAsyncContextManager[object]:
        """What an `AsyncProjector` call (`run_once`, `position`, `reset`) runs in; `action`
        names it for errors.

        The default opens nothing: the backend's current transaction is the one (the
        session's). A backend whose port calls share a transaction only inside a block it
        opens (Django's: an atomic block in the thread its calls run in) returns that block.
        """
        return nullcontext()

    @property
    def event_store(self) -> AsyncEventStore:
        """Load and append events of this backend's tenant, with `await`."""
        if self._event_store is None:
            make, storage = self._event_store_class, self._storage()
            self._event_store = self._made_store(make, storage, self._outbox_writer)
        return self._event_store

    @property
    def subscriber(self) -> AsyncSubscriber:
        """Build catch-up subscriptions to the global log of every tenant, for `async for`."""
        return AsyncSubscriber(
            self._subscription_strategy(), self._config.registry, encryption=self._encryption()
        )

    @property
    def outbox(self) -> AsyncOutbox:
        """Publish what appends put into the outbox (see `with_outbox`), with `await`."""
        return self._made_outbox(AsyncOutbox, self._outbox_strategy())

    async def projection_checkpoints(self) -> dict[str, int]:
        """Every projection's checkpoint (a global position) by name, sorted by name; {}
        when no projection has run (see `Backend.projection_checkpoints`)."""
        return dict(sorted((await self._checkpoint_strategy().positions()).items()))
