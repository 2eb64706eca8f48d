"""MariaDB: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from typing import Any

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

    def log_time(self, column: str) -> str:
        # As ISO text: a driver would parse the value in Python, and the naive datetime would
        # still need its zone; the text costs a fraction of both.
        return f"DATE_FORMAT({column}, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f')"

    # --- loads, snapshots, deletion, positions --------------------------------------------------
