"""For backend authors: the storage port and the rules every backend applies.

Users of the library need only `event_sourcery`; adapters import from here. What only SQL
backends share (the gap rule, driver error codes, flavours, the SQL protocol) is in
`event_sourcery.sql`.
"""

from event_sourcery._async_ports import (
    AsyncCheckpointStrategy,
    AsyncLogCursor,
    AsyncOutboxStrategy,
    AsyncOutboxWriter,
    AsyncStorageStrategy,
    AsyncSubscriptionStrategy,
)
from event_sourcery._codec import deserialize, serialize
from event_sourcery._configured import Configured
from event_sourcery._in_thread import (
    InThread,
    ThreadedCheckpointStrategy,
    ThreadedKeyStorage,
    ThreadedLogCursor,
    ThreadedOutboxStrategy,
    ThreadedOutboxWriter,
    ThreadedStorageStrategy,
    ThreadedSubscriptionStrategy,
)
from event_sourcery._limits import MAX_IDENTIFIER_LENGTH, check_tenant_id
from event_sourcery._listeners import InTransactionListeners
from event_sourcery._outbox import OutboxConfig, OutboxEntry, OutboxStrategy
from event_sourcery._projection import CheckpointStrategy
from event_sourcery._raw import RawEvent
from event_sourcery._readers import as_utc
from event_sourcery._recorded import RecordedRaw, build_recorded_raw
from event_sourcery._storage import StorageStrategy
from event_sourcery._stream_id import StoredStreamIds
from event_sourcery._subscription import LogCursor, SubscriptionFilter, SubscriptionStrategy
from event_sourcery._versioning import (
    MISSING,
    NO_VERSIONING,
    VERSIONLESS,
    ExpectedVersion,
    Missing,
    NoVersioning,
    StreamState,
    check_append,
    check_name,
    check_snapshot,
    check_unique_event_ids,
    is_repeat,
    new_versions,
    snapshot_applies,
)
from event_sourcery.sql._driver_errors import describe_driver_error

__all__ = [
    "MAX_IDENTIFIER_LENGTH",
    "MISSING",
    "NO_VERSIONING",
    "VERSIONLESS",
    "AsyncCheckpointStrategy",
    "AsyncLogCursor",
    "AsyncOutboxStrategy",
    "AsyncOutboxWriter",
    "AsyncStorageStrategy",
    "AsyncSubscriptionStrategy",
    "CheckpointStrategy",
    "Configured",
    "ExpectedVersion",
    "InThread",
    "InTransactionListeners",
    "LogCursor",
    "Missing",
    "NoVersioning",
    "OutboxConfig",
    "OutboxEntry",
    "OutboxStrategy",
    "RawEvent",
    "RecordedRaw",
    "StorageStrategy",
    "StoredStreamIds",
    "StreamState",
    "SubscriptionFilter",
    "SubscriptionStrategy",
    "ThreadedCheckpointStrategy",
    "ThreadedKeyStorage",
    "ThreadedLogCursor",
    "ThreadedOutboxStrategy",
    "ThreadedOutboxWriter",
    "ThreadedStorageStrategy",
    "ThreadedSubscriptionStrategy",
    "as_utc",
    "build_recorded_raw",
    "check_append",
    "check_name",
    "check_snapshot",
    "check_tenant_id",
    "check_unique_event_ids",
    "describe_driver_error",
    "deserialize",
    "is_repeat",
    "new_versions",
    "serialize",
    "snapshot_applies",
]
