"""`AsyncKurrentDBBackend`: Event Sourcery's asyncio API on an `AsyncKurrentDBClient`."""

from __future__ import annotations

from event_sourcery import AsyncBackend
from event_sourcery.encryption import AwaitedKeys, KeyStorage
from event_sourcery.interfaces import (
    AsyncCheckpointStrategy,
    AsyncOutboxStrategy,
    AsyncOutboxWriter,
    AsyncStorageStrategy,
    AsyncSubscriptionStrategy,
)
from kurrentdbclient import AsyncKurrentDBClient

from event_sourcery_kurrentdb._async_client import AsyncConnection
from event_sourcery_kurrentdb._async_storage import (
    AsyncKurrentDBCheckpointStrategy,
    AsyncKurrentDBKeyStorage,
    AsyncKurrentDBOutboxStrategy,
    AsyncKurrentDBStorageStrategy,
)
from event_sourcery_kurrentdb._async_subscription import AsyncKurrentDBSubscriptionStrategy
from event_sourcery_kurrentdb._options import OnClient


class AsyncKurrentDBBackend(OnClient[AsyncKurrentDBClient], AsyncBackend):
    """Event Sourcery's asyncio API on KurrentDB (or EventStoreDB), through one
    `AsyncKurrentDBClient`.

    The same streams, rules and options as `KurrentDBBackend` (the two can share a server
    and read each other's streams): only the requests are awaited. The client connects at
    the first request if it has not yet; close it yourself. Each append is atomic on its
    own and durable when it returns; there is nothing to commit. The outbox relay
    (`AsyncOutbox`) and projectors (`AsyncProjector`) share their streams with the sync
    backend's: sync and asyncio workers may relay the same outbox. The command line is the
    sync backend's, on the same server.

    Takes the arguments of `KurrentDBBackend`, with an ``AsyncKurrentDBClient(uri=...)``.
    """

    __slots__ = ("_connection", "_outbox_name")

    _client_class = AsyncKurrentDBClient
    _connection_class = AsyncConnection
    _connection: AsyncConnection

    def _storage(self) -> AsyncStorageStrategy:
        return AsyncKurrentDBStorageStrategy(self._connection, self.tenant_id)

    def _subscription_strategy(self) -> AsyncSubscriptionStrategy:
        return AsyncKurrentDBSubscriptionStrategy(self._connection)

    def _outbox_writer(self) -> AsyncOutboxWriter:
        return self._outbox_strategy()

    def _outbox_strategy(self) -> AsyncOutboxStrategy:
        return AsyncKurrentDBOutboxStrategy(self._connection, self._outbox_name)

    def _checkpoint_strategy(self) -> AsyncCheckpointStrategy:
        return AsyncKurrentDBCheckpointStrategy(self._connection)

    def _key_storage(self) -> KeyStorage:
        # Awaited by the async store and subscriber ahead of each encrypt/decrypt step.
        return AwaitedKeys(AsyncKurrentDBKeyStorage(self._connection))
