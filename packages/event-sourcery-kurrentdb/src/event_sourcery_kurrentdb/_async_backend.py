"""`AsyncKurrentDBBackend`: Event Sourcery's asyncio API on an `AsyncKurrentDBClient`."""

from __future__ import annotations

from event_sourcery import AsyncBackend, BackendConfig, EventRegistry
from event_sourcery.encryption import AwaitedKeys, KeyStorage
from event_sourcery.exceptions import InvalidInput
from event_sourcery.interfaces import (
    AsyncOutboxWriter,
    AsyncStorageStrategy,
    AsyncSubscriptionStrategy,
)
from kurrentdbclient import AsyncKurrentDBClient

from event_sourcery_kurrentdb._async_client import AsyncConnection
from event_sourcery_kurrentdb._async_storage import (
    AsyncKurrentDBKeyStorage,
    AsyncKurrentDBOutboxWriter,
    AsyncKurrentDBStorageStrategy,
)
from event_sourcery_kurrentdb._async_subscription import AsyncKurrentDBSubscriptionStrategy
from event_sourcery_kurrentdb._backend import DEFAULT_OUTBOX, check_outbox_name
from event_sourcery_kurrentdb._client import resolve_deadline
from event_sourcery_kurrentdb._errors import RetryPolicy


class AsyncKurrentDBBackend(AsyncBackend):
    """Event Sourcery's asyncio API on KurrentDB (or EventStoreDB), through one
    `AsyncKurrentDBClient`.

    The same streams, rules and options as `KurrentDBBackend` (the two can share a server
    and read each other's streams): only the requests are awaited. The client connects at
    the first request if it has not yet; close it yourself. Each append is atomic on its
    own and durable when it returns; there is nothing to commit. The outbox relay,
    projectors and the command line are the sync backend's, on the same server.

    Args:
        client: an ``AsyncKurrentDBClient(uri="kurrentdb://localhost:2113")``.
        registry: maps event classes to stored names (default: the global registry).
        config: backend-independent options shared with other backends.
        outbox_name: the outbox this backend's appends put entries into.
        retry: how transient failures (server unavailable, deadlines) are retried.
        deadline: seconds each request may take (see `KurrentDBBackend`).
    """

    __slots__ = ("_connection", "_outbox_name")

    def __init__(
        self,
        client: AsyncKurrentDBClient,
        *,
        registry: EventRegistry | None = None,
        config: BackendConfig | None = None,
        outbox_name: str = DEFAULT_OUTBOX,
        retry: RetryPolicy | None = None,
        deadline: float | None = None,
    ) -> None:
        super().__init__(registry=registry, config=config)
        if not isinstance(client, AsyncKurrentDBClient):
            raise InvalidInput(
                "client must be a kurrentdbclient.AsyncKurrentDBClient, got "
                f"{type(client).__name__}; make one with "
                'AsyncKurrentDBClient(uri="kurrentdb://host:2113") and pass that'
            )
        self._outbox_name = check_outbox_name(outbox_name)
        self._connection = AsyncConnection(
            client, retry or RetryPolicy(), resolve_deadline(client, deadline)
        )

    @property
    def client(self) -> AsyncKurrentDBClient:
        """The client this backend talks through."""
        return self._connection.client

    def _storage(self) -> AsyncStorageStrategy:
        return AsyncKurrentDBStorageStrategy(self._connection, self.tenant_id)

    def _subscription_strategy(self) -> AsyncSubscriptionStrategy:
        return AsyncKurrentDBSubscriptionStrategy(self._connection)

    def _outbox_writer(self) -> AsyncOutboxWriter:
        return AsyncKurrentDBOutboxWriter(self._connection, self._outbox_name)

    def _key_storage(self) -> KeyStorage:
        # Awaited by the async store and subscriber ahead of each encrypt/decrypt step.
        return AwaitedKeys(AsyncKurrentDBKeyStorage(self._connection))
