"""What every backend exposes, and how it is configured."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Self

from event_sourcery._event_store import EventStore
from event_sourcery._limits import check_tenant_id
from event_sourcery._registry import EventRegistry, default_registry
from event_sourcery._storage import StorageStrategy
from event_sourcery._subscription import Subscriber, SubscriptionStrategy


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """Backend-independent options; later features (outbox, encryption, ...) add fields here
    with defaults, so existing code keeps working."""

    registry: EventRegistry = field(default=default_registry)
    tenant_id: str | None = None


class Backend(ABC):
    """A configured backend: the entry point to every feature of the library.

    Construction stores references only, so making one per request or per session is cheap;
    the `event_store` is built on first use.
    """

    __slots__ = ("_config", "_event_store")

    def __init__(self, *, registry: EventRegistry | None = None) -> None:
        self._config = BackendConfig(registry=registry or default_registry)
        self._event_store: EventStore | None = None

    @abstractmethod
    def _storage(self) -> StorageStrategy:
        """The storage strategy of this backend, scoped to `self.tenant_id`."""

    def _subscription_strategy(self) -> SubscriptionStrategy:
        """The subscription strategy of this backend (system-wide: all tenants)."""
        # Becomes abstract once every backend of the workspace implements subscriptions.
        raise NotImplementedError(f"{type(self).__name__} does not implement subscriptions yet")

    def _with_config(self, config: BackendConfig) -> Self:
        """A copy of this backend over the same connection/session, with `config`.

        Subclasses keep their connection/session attributes; the copy shares them.
        """
        clone = copy.copy(self)
        clone._config = config
        clone._event_store = None
        return clone

    @property
    def config(self) -> BackendConfig:
        """The options this backend was made with."""
        return self._config

    @property
    def tenant_id(self) -> str | None:
        """The tenant this backend is scoped to; None for the default (tenant-less) context."""
        return self._config.tenant_id

    @property
    def event_store(self) -> EventStore:
        """Load and append events of this backend's tenant."""
        if self._event_store is None:
            self._event_store = EventStore(self._storage(), self._config.registry)
        return self._event_store

    @property
    def subscriber(self) -> Subscriber:
        """Build catch-up subscriptions to the global log of every tenant."""
        return Subscriber(self._subscription_strategy(), self._config.registry)

    def with_registry(self, registry: EventRegistry) -> Self:
        """A copy that maps event classes through `registry` instead of the current one."""
        return self._with_config(replace(self._config, registry=registry))

    def in_tenant_mode(self, tenant_id: str) -> Self:
        """A copy scoped to `tenant_id`: it sees only that tenant's streams."""
        return self._with_config(replace(self._config, tenant_id=check_tenant_id(tenant_id)))

    def without_tenant(self) -> Self:
        """A copy scoped to the default (tenant-less) context."""
        return self._with_config(replace(self._config, tenant_id=None))
