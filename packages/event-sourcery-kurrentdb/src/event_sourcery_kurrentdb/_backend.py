"""`KurrentDBBackend`: Event Sourcery on a `kurrentdbclient.KurrentDBClient`."""

from __future__ import annotations

from event_sourcery import Backend
from event_sourcery.encryption import KeyStorage
from event_sourcery.interfaces import (
    CheckpointStrategy,
    OutboxStrategy,
    StorageStrategy,
    SubscriptionStrategy,
)
from kurrentdbclient import KurrentDBClient

from event_sourcery_kurrentdb._checkpoints import KurrentDBCheckpointStrategy
from event_sourcery_kurrentdb._client import Connection
from event_sourcery_kurrentdb._keys import KurrentDBKeyStorage
from event_sourcery_kurrentdb._options import OnClient
from event_sourcery_kurrentdb._outbox import KurrentDBOutboxStrategy
from event_sourcery_kurrentdb._storage import KurrentDBStorageStrategy
from event_sourcery_kurrentdb._subscription import KurrentDBSubscriptionStrategy


class KurrentDBBackend(OnClient[KurrentDBClient], Backend):
    """Event Sourcery on KurrentDB (or EventStoreDB), through one `KurrentDBClient`.

    Cheap to make: it stores references only, and every copy (`in_tenant_mode`,
    `with_outbox`, ...) shares the client. KurrentDB has no transactions: each append is atomic
    on its own and durable when `append` returns; there is nothing to commit.

    Args:
        client: a connected client, e.g. ``KurrentDBClient(uri="kurrentdb://localhost:2113")``.
        registry: maps event classes to stored names (default: the global registry).
        config: backend-independent options shared with other backends.
        outbox_name: the outbox this backend's appends and workers use; applications sharing
            one server keep separate outboxes under different names.
        retry: how transient failures (server unavailable, deadlines) are retried.
        deadline: seconds each request to KurrentDB may take before it fails (and is retried);
            by default the client's ``DefaultDeadline``, else 10. Unlike the client's own
            default it applies to reads too, so a server that stops answering is a
            `StorageError` within about ``retry.attempts`` x 2 x ``deadline`` seconds.
    """

    __slots__ = ("_connection", "_outbox_name")

    _client_class = KurrentDBClient
    _connection_class = Connection
    _connection: Connection

    def _storage(self) -> StorageStrategy:
        return KurrentDBStorageStrategy(self._connection, self.tenant_id)

    def _subscription_strategy(self) -> SubscriptionStrategy:
        return KurrentDBSubscriptionStrategy(self._connection)

    def _outbox_strategy(self) -> OutboxStrategy:
        return KurrentDBOutboxStrategy(self._connection, self._outbox_name)

    def _checkpoint_strategy(self) -> CheckpointStrategy:
        return KurrentDBCheckpointStrategy(self._connection)

    def _key_storage(self) -> KeyStorage:
        return KurrentDBKeyStorage(self._connection)
