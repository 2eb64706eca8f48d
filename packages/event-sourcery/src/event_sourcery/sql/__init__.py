"""For SQL backend authors: what every SQL driver of the store shares.

`event_sourcery.interfaces` holds the ports and the rules of any backend (KurrentDB's too);
this package holds what only SQL backends need: the gap rule of the global log, the reading of
driver errors, the database flavours and the protocol the drivers run. It imports no driver.

It is a subpackage of the core rather than a distribution of its own: it imports nothing the
core does not, it is versioned with the ports it implements, and a separate distribution would
add a pin to every SQL backend without letting anyone install less.
"""

from event_sourcery._raw import raw_from_text
from event_sourcery._readers import utc_from_text, uuid_from_hex
from event_sourcery.sql._append import AtOnce, append_events, state_of
from event_sourcery.sql._async_strategies import (
    AsyncDriver,
    AsyncSQLKeyStorage,
    AsyncSQLOutboxWriter,
    AsyncSQLStorageStrategy,
)
from event_sourcery.sql._driver import Driver
from event_sourcery.sql._driver_errors import (
    EVENT_ID_INDEX,
    describe_driver_error,
    driver_error_code,
    driver_error_codes,
    is_collision,
    is_connection_failure,
    is_missing_table,
    violates_event_id_index,
)
from event_sourcery.sql._errors import SQLErrors
from event_sourcery.sql._flavour import MAX_VERSION, Flavour, Tables
from event_sourcery.sql._flavours import flavour_for
from event_sourcery.sql._gaps import GapTracker
from event_sourcery.sql._innodb import innodb_transactions
from event_sourcery.sql._keys import add_key, current_key, delete_subject, find_key
from event_sourcery.sql._log import LogReader, OwnTransaction, settled_position
from event_sourcery.sql._mariadb import MariaDB
from event_sourcery.sql._outbox import (
    checkpoint_positions,
    load_checkpoint,
    outbox_claim,
    outbox_counts,
    outbox_dead_letters,
    outbox_failed,
    outbox_published,
    outbox_put,
    outbox_remove,
    outbox_reset_attempts,
    read_entries,
    save_checkpoint,
)
from event_sourcery.sql._postgresql import PostgreSQL
from event_sourcery.sql._protocol import (
    Outcome,
    Pause,
    Protocol,
    Statement,
    Step,
    drive,
    drive_async,
    qmark,
)
from event_sourcery.sql._sqlite import SQLite
from event_sourcery.sql._strategies import (
    SQLCheckpointStrategy,
    SQLKeyStorage,
    SQLOutboxStrategy,
    SQLStorageStrategy,
)
from event_sourcery.sql._streams import (
    delete_stream,
    load_events,
    read_events,
    save_snapshot,
    stream_key,
)

__all__ = [
    "EVENT_ID_INDEX",
    "MAX_VERSION",
    "AsyncDriver",
    "AsyncSQLKeyStorage",
    "AsyncSQLOutboxWriter",
    "AsyncSQLStorageStrategy",
    "AtOnce",
    "Driver",
    "Flavour",
    "GapTracker",
    "LogReader",
    "MariaDB",
    "Outcome",
    "OwnTransaction",
    "Pause",
    "PostgreSQL",
    "Protocol",
    "SQLCheckpointStrategy",
    "SQLErrors",
    "SQLKeyStorage",
    "SQLOutboxStrategy",
    "SQLStorageStrategy",
    "SQLite",
    "Statement",
    "Step",
    "Tables",
    "add_key",
    "append_events",
    "checkpoint_positions",
    "current_key",
    "delete_stream",
    "delete_subject",
    "describe_driver_error",
    "drive",
    "drive_async",
    "driver_error_code",
    "driver_error_codes",
    "find_key",
    "flavour_for",
    "innodb_transactions",
    "is_collision",
    "is_connection_failure",
    "is_missing_table",
    "load_checkpoint",
    "load_events",
    "outbox_claim",
    "outbox_counts",
    "outbox_dead_letters",
    "outbox_failed",
    "outbox_published",
    "outbox_put",
    "outbox_remove",
    "outbox_reset_attempts",
    "qmark",
    "raw_from_text",
    "read_entries",
    "read_events",
    "save_checkpoint",
    "save_snapshot",
    "settled_position",
    "state_of",
    "stream_key",
    "utc_from_text",
    "uuid_from_hex",
    "violates_event_id_index",
]
