"""MariaDB: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from event_sourcery._readers import as_utc
from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._inflight import LogHead, Marker
from event_sourcery.sql._innodb import innodb_transactions
from event_sourcery.sql._protocol import Protocol, Statement


class MariaDB(Flavour):
    """MariaDB (see `Flavour`)."""

    name = "MariaDB"

    # --- values -------------------------------------------------------------------------------

    # --- appending ----------------------------------------------------------------------------

    # --- the log ------------------------------------------------------------------------------
    # Markers: InnoDB's read-write transactions as ``SHOW ENGINE INNODB STATUS`` prints them at
    # the moment of the query (needs the PROCESS privilege), of every database of the server
    # (see `innodb_transactions`). A writer has its transaction id before it draws a position:
    # every append writes the stream row first (InnoDB assigns the id at a transaction's first
    # write, and draws auto-increment values in the INSERT itself, before that). Ids are drawn
    # from one counter under a mutex in every ``innodb_autoinc_lock_mode``, so a lower id was
    # drawn earlier. Markers are taken after the read, and asked about before the next read.

    def take_marker(self, head: LogHead | None, exclude: int) -> Protocol[Marker]:
        outcome = yield Statement("SHOW ENGINE INNODB STATUS")
        status = outcome.rows[0][2]
        text = status if isinstance(status, str) else bytes(status).decode()
        return innodb_transactions(text, excluding={exclude})

    def session_of(self, dbapi_connection: Any) -> Protocol[int]:
        thread_id = getattr(dbapi_connection, "thread_id", None)  # PyMySQL, mysqlclient
        if callable(thread_id):
            return int(thread_id())
        outcome = yield Statement("SELECT CONNECTION_ID()")
        return int(outcome.rows[0][0])

    def position_now(self) -> Statement:
        return Statement(f"SELECT COALESCE(MAX(id), 0), CONNECTION_ID() FROM {self.tables.events}")

    # --- loads, snapshots, deletion, positions --------------------------------------------------

    # On InnoDB two locking reads of a missing checkpoint take gap locks, and the two inserts
    # after them deadlock: insert (or touch) the row first, then lock it.
    checkpoint_create_first = True
    # The session: subscriptions opened in its transaction leave it out of their markers.
    session_identity = "CONNECTION_ID()"

    def bind_uuid(self, value: UUID) -> Any:
        # MariaDB's own UUID type (10.7+) takes the hyphenated text; CHAR(32) the hex digits.
        return str(value) if self.tables.native_uuid else value.hex

    def bind_time(self, moment: datetime) -> Any:
        # DATETIME(6) has no zone: the store writes UTC wall time.
        return as_utc(moment).replace(tzinfo=None)

    def select_time(self, column: str) -> str:
        return f"DATE_FORMAT({column}, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f')"

    def quote(self, name: str) -> str:
        return f"`{name}`"

    def upsert(self, key: str, columns: tuple[str, ...]) -> str:
        sets = ", ".join(f"{column} = VALUES({column})" for column in columns)
        return f" ON DUPLICATE KEY UPDATE {sets}"

    @cached_property
    def checkpoint_create(self) -> str:
        return (
            f"INSERT INTO {self.tables.checkpoints} (name, position) VALUES (%s, 0) "
            "ON DUPLICATE KEY UPDATE position = position"
        )
