"""For backend authors: the storage port and the rules every backend applies.

Users of the library need only `event_sourcery`; adapters import from here.
"""

from event_sourcery._driver_errors import (
    describe_driver_error,
    driver_error_code,
    driver_error_codes,
    is_collision,
    is_connection_failure,
    is_missing_table,
)
from event_sourcery._gaps import GapTracker
from event_sourcery._innodb import innodb_transactions
from event_sourcery._limits import MAX_IDENTIFIER_LENGTH, check_tenant_id
from event_sourcery._listeners import InTransactionListeners
from event_sourcery._outbox import OutboxConfig, OutboxEntry, OutboxStrategy
from event_sourcery._projection import CheckpointStrategy
from event_sourcery._raw import RawEvent, as_utc, deserialize, raw_from_text, serialize
from event_sourcery._readers import utc_from_text, uuid_from_hex
from event_sourcery._recorded import RecordedRaw, build_recorded_raw
from event_sourcery._sql_errors import SQLErrors
from event_sourcery._storage import StorageStrategy
from event_sourcery._stream_id import StoredStreamIds
from event_sourcery._subscription import LogCursor, SubscriptionFilter, SubscriptionStrategy
from event_sourcery._versioning import (
    EVENT_ID_INDEX,
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
    violates_event_id_index,
)

__all__ = [
    "EVENT_ID_INDEX",
    "MAX_IDENTIFIER_LENGTH",
    "MISSING",
    "NO_VERSIONING",
    "VERSIONLESS",
    "CheckpointStrategy",
    "ExpectedVersion",
    "GapTracker",
    "InTransactionListeners",
    "LogCursor",
    "Missing",
    "NoVersioning",
    "OutboxConfig",
    "OutboxEntry",
    "OutboxStrategy",
    "RawEvent",
    "RecordedRaw",
    "SQLErrors",
    "StorageStrategy",
    "StoredStreamIds",
    "StreamState",
    "SubscriptionFilter",
    "SubscriptionStrategy",
    "as_utc",
    "build_recorded_raw",
    "check_append",
    "check_name",
    "check_snapshot",
    "check_tenant_id",
    "check_unique_event_ids",
    "describe_driver_error",
    "deserialize",
    "driver_error_code",
    "driver_error_codes",
    "innodb_transactions",
    "is_collision",
    "is_connection_failure",
    "is_missing_table",
    "is_repeat",
    "new_versions",
    "raw_from_text",
    "serialize",
    "snapshot_applies",
    "utc_from_text",
    "uuid_from_hex",
    "violates_event_id_index",
]
