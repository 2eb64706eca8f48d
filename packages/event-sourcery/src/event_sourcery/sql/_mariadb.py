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
from event_sourcery.sql._protocol import Outcome, Protocol, Statement


class MariaDB(Flavour):
    """MariaDB (see `Flavour`)."""

    name = "MariaDB"

    # --- values -------------------------------------------------------------------------------

    def bind_uuid(self, value: UUID) -> Any:
        # MariaDB's own UUID type (Django on 10.7 or newer) takes the hyphenated text.
        return str(value) if self.tables.native_uuid else value.hex

    def bind_time(self, moment: datetime) -> Any:
        # DATETIME keeps no zone: the store writes the UTC wall time, and reads it as UTC.
        return as_utc(moment).replace(tzinfo=None)

    # --- appending ----------------------------------------------------------------------------

    # A failed statement is rolled back alone: a plain INSERT whose duplicate key error the
    # protocol catches is safe (INSERT IGNORE would also hide data errors).
    create_conflict_raises = True
    touches_versionless = True
    # A locking read sees the latest committed row even under REPEATABLE READ.
    share_lock = " LOCK IN SHARE MODE"

    def claimed_id(self, outcome: Outcome) -> int | None:
        # No RETURNING on UPDATE: LAST_INSERT_ID(id) makes the server report the matched
        # row's id with the statement's result (a plain INSERT reports the new one).
        if outcome.rowcount != 1 or outcome.lastrowid is None:
            return None
        return int(outcome.lastrowid)

    @cached_property
    def create_stream(self) -> str:
        return (
            f"INSERT INTO {self.tables.streams} (tenant_id, category, uuid, name, version) "
            "VALUES (%s, %s, %s, %s, %s)"
        )

    @cached_property
    def _bumps(self) -> dict[bool, str]:
        plain = (
            f"UPDATE {self.tables.streams} SET version = %s, id = LAST_INSERT_ID(id) "
            f"WHERE {self._IDENT} AND version = %s"
        )
        return {False: plain, True: plain + " AND name = %s"}

    def touch(self, named: bool) -> str:
        # A versionless append writes the stream row before the events' INSERT, as `_gaps`
        # requires: InnoDB draws auto-increment ids before it gives a transaction its id, so a
        # transaction whose first write is the INSERT would hold positions no marker of
        # transactions in flight shows. The UPDATE changes nothing, but gives the transaction
        # its id (and locks the row, as a versioned claim does).
        return self._touches[named]

    @cached_property
    def _touches(self) -> dict[bool, str]:
        plain = (
            f"UPDATE {self.tables.streams} SET id = LAST_INSERT_ID(id) "
            f"WHERE {self._IDENT} AND version IS NULL"
        )
        return {False: plain, True: plain + " AND name = %s"}

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
