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
from event_sourcery._versioning import EVENT_ID_INDEX, violates_event_id_index
from event_sourcery.sql._append import AtOnce, append_events, state_of
from event_sourcery.sql._driver_errors import (
    describe_driver_error,
    driver_error_code,
    driver_error_codes,
    is_collision,
    is_connection_failure,
    is_missing_table,
)
from event_sourcery.sql._errors import SQLErrors
from event_sourcery.sql._flavour import MAX_VERSION, Flavour, Tables
from event_sourcery.sql._flavours import flavour_for
from event_sourcery.sql._gaps import GapTracker
from event_sourcery.sql._innodb import innodb_transactions
from event_sourcery.sql._mariadb import MariaDB
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

__all__ = [
    "EVENT_ID_INDEX",
    "MAX_VERSION",
    "AtOnce",
    "Flavour",
    "GapTracker",
    "MariaDB",
    "Outcome",
    "Pause",
    "PostgreSQL",
    "Protocol",
    "SQLErrors",
    "SQLite",
    "Statement",
    "Step",
    "Tables",
    "append_events",
    "describe_driver_error",
    "drive",
    "drive_async",
    "driver_error_code",
    "driver_error_codes",
    "flavour_for",
    "innodb_transactions",
    "is_collision",
    "is_connection_failure",
    "is_missing_table",
    "qmark",
    "raw_from_text",
    "state_of",
    "utc_from_text",
    "uuid_from_hex",
    "violates_event_id_index",
]
