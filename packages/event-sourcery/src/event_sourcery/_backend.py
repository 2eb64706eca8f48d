"""What every synchronous backend exposes; its configuration is `Configured`'s."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from event_sourcery._configured import BackendConfig, Configured, EncryptionConfig, TenantEncryption
from event_sourcery._event_store import EventStore
from event_sourcery._outbox import OutboxStrategy
from event_sourcery._projection import CheckpointStrategy
from event_sourcery._relay import Outbox
from event_sourcery._storage import StorageStrategy
from event_sourcery._subscription import Subscriber, SubscriptionStrategy

__all__ = ["Backend", "BackendConfig", "EncryptionConfig", "TenantEncryption"]


class Backend(Configured):
    """A configured backend: the entry point to every feature of the library.

    Construction stores references only, so making one per request or per session is cheap;
    the `event_store` is built on first use.
    """

    __slots__ = ()

    #: The class `event_store` makes. A backend whose writes need a unit of work of their own
    #: (Django's savepoint per append) subclasses `EventStore` and names it here.
    _event_store_class: ClassVar[type[EventStore]] = EventStore

    @abstractmethod
    def _storage(self) -> StorageStrategy:
        """The storage strategy of this backend, scoped to `self.tenant_id`."""

    @abstractmethod
    def _subscription_strategy(self) -> SubscriptionStrategy:
        """The subscription strategy of this backend (system-wide: all tenants)."""

    @abstractmethod
    def _outbox_strategy(self) -> OutboxStrategy:
        """The outbox storage of this backend, in its current transaction."""

    @abstractmethod
    def _checkpoint_strategy(self) -> CheckpointStrategy:
        """The projection checkpoints of this backend, in its current transaction."""

    _event_store: EventStore | None

    @property
    def event_store(self) -> EventStore:
        """Load and append events of this backend's tenant."""
        if self._event_store is None:
            make, storage = self._event_store_class, self._storage()
            self._event_store = self._made_store(make, storage, self._outbox_strategy)
        return self._event_store

    @property
    def subscriber(self) -> Subscriber:
        """Build catch-up subscriptions to the global log of every tenant."""
        return Subscriber(
            self._subscription_strategy(), self._config.registry, encryption=self._encryption()
        )

    @property
    def outbox(self) -> Outbox:
        """Publish what appends put into the outbox (see `with_outbox`)."""
        return self._made_outbox(Outbox, self._outbox_strategy())

    def projection_checkpoints(self) -> dict[str, int]:
        """Every projection's checkpoint (a global position) by name, sorted by name.

        Read without locking, for monitoring: subtract one from `event_store.position` to
        see how far behind the log a projection is. {} when no projection has run.
        """
        return dict(sorted(self._checkpoint_strategy().positions().items()))
