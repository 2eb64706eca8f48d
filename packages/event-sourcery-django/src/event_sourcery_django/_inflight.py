"""Transactions in flight: the markers of the gap rule (`event_sourcery.sql._gaps`), per database.

A marker is the set of write transactions in progress, taken after a read; it has ended when
none of them is in progress any more. The caller's own transaction is left out of markers, as
`StorageStrategy.current_position` asks: it cannot end while its owner waits for it (positions
it holds are therefore not waited for: commit them before reading them through the log).

- PostgreSQL: the transaction ids of the sessions connected to this database
  (`pg_stat_activity.backend_xid`, the live list) and of its prepared transactions; sessions
  of other databases cannot write our tables, so their transactions never hold a subscription
  back. Not a snapshot's in-progress list: that one leaves out transactions whose id is at or
  above its ``xmax`` (one past the newest *completed* id), which may hold positions.
- MariaDB: InnoDB's read-write transactions of the server's connections, whatever database
  they have selected (one may run ``USE`` while its transaction holds a position), from
  ``SHOW ENGINE INNODB STATUS`` (needs the PROCESS privilege).
- SQLite: none. Writers take turns, so a position missing below a visible one is never filled.
"""

from __future__ import annotations

import time

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from event_sourcery.exceptions import StorageError
from event_sourcery.sql import (
    innodb_transactions,
)

from event_sourcery_django._dialect import Dialect

Marker = frozenset[str]
NOTHING: Marker = frozenset()

# How long `wait_until_ended` sleeps between two looks, at first and at most.
_FIRST_PAUSE, _LONGEST_PAUSE = 0.002, 0.05
#: How long `store.position` waits for transactions in flight before giving up.
POSITION_TIMEOUT = 30.0


def session_id(connection: BaseDatabaseWrapper) -> int:
    """The server's id of `connection`'s session (0 if it is not connected): its own marker."""
    raw = connection.connection
    if raw is None:
        return 0
    if connection.vendor == "postgresql":
        info = getattr(raw, "info", None)  # psycopg 3
        return int(info.backend_pid) if info is not None else int(raw.get_backend_pid())
    if connection.vendor == "mysql":
        return int(raw.thread_id())
    return 0


def marker(cursor: CursorWrapper, sql: Dialect, exclude: int = 0) -> Marker:
    """The write transactions in progress now, but that of session `exclude` and our own."""
    if sql.is_postgresql:
        # Prepared (two-phase) transactions have no session, but may hold positions too.
        cursor.execute(
            "SELECT backend_xid::text FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid() AND pid <> %s "
            "UNION ALL SELECT transaction::text FROM pg_prepared_xacts "
            "WHERE database = current_database()",
            [exclude],
        )
        return frozenset(str(row[0]) for row in cursor.fetchall())
    if sql.is_mysql:
        return _innodb(cursor, exclude)
    return NOTHING


#: A marker that can never end by itself: the list of transactions was cut short.
_UNKNOWN: Marker = frozenset({"unknown"})


def _innodb(cursor: CursorWrapper, exclude: int) -> Marker:
    """InnoDB's read-write transactions of the server's other connections, right now.

    ``SHOW ENGINE INNODB STATUS`` (INNODB_TRX is a cache up to 100 ms stale, and lists
    read-only transactions too); parsed by the core's `innodb_transactions`.
    """
    cursor.execute("SHOW ENGINE INNODB STATUS")
    row = cursor.fetchone()
    # Every connection of the server, whatever database it has selected: see
    # `innodb_transactions` for why, and what it costs.
    excluding = {session_id(cursor.db), exclude}
    found = innodb_transactions(str(row[2]), excluding=excluding) if row is not None else None
    if found is None:
        return _UNKNOWN
    return frozenset(str(trx) for trx in found) if found else NOTHING


def ended(cursor: CursorWrapper, sql: Dialect, taken: Marker) -> bool:
    """Whether every transaction of `taken` has ended."""
    if not taken:
        return True
    if taken is _UNKNOWN:
        return False  # the next marker decides
    if sql.is_postgresql:
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_xid::text = ANY(%s)) "
            "+ (SELECT count(*) FROM pg_prepared_xacts WHERE transaction::text = ANY(%s))",
            [sorted(taken), sorted(taken)],
        )
        row = cursor.fetchone()
        return row is not None and int(row[0]) == 0
    now = _innodb(cursor, 0)
    return now is not _UNKNOWN and taken.isdisjoint(now)


def wait_until_ended(cursor: CursorWrapper, sql: Dialect, taken: Marker) -> None:
    """Block until every transaction of `taken` has ended; `StorageError` after 30 s."""
    pause, started = _FIRST_PAUSE, time.monotonic()
    while not ended(cursor, sql, taken):
        if time.monotonic() - started > POSITION_TIMEOUT:
            raise StorageError(
                f"Transactions in flight did not end within {POSITION_TIMEOUT:.0f} s; the "
                "position is only safe once they have. Is one of them waiting for a lock held "
                "by this transaction? Commit or roll back, then ask again."
            )
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)
        if taken is _UNKNOWN:
            taken = marker(cursor, sql)
