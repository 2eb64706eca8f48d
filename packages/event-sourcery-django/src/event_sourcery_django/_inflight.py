"""Transactions in flight: the markers of the gap rule (`event_sourcery._gaps`), per database.

A marker is the set of write transactions in progress, taken after a read; it has ended when
none of them is in progress any more. The caller's own transaction is left out of markers, as
`StorageStrategy.current_position` asks: it cannot end while its owner waits for it (positions
it holds are therefore not waited for: commit them before reading them through the log).

- PostgreSQL: the transaction ids of the sessions connected to this database
  (`pg_stat_activity.backend_xid`); sessions of other databases cannot write our tables, so
  their transactions never hold a subscription back.
- MariaDB: InnoDB's transactions (`information_schema.INNODB_TRX`, needs the PROCESS privilege).
- SQLite: none. Writers take turns, so a position missing below a visible one is never filled.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from event_sourcery_django._dialect import Dialect

Marker = frozenset[str]
NOTHING: Marker = frozenset()

# How long `wait_until_ended` sleeps between two looks, at first and at most.
_FIRST_PAUSE, _LONGEST_PAUSE = 0.002, 0.05


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
        cursor.execute(
            "SELECT backend_xid::text FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid() AND pid <> %s",
            [exclude],
        )
    elif sql.is_mysql:
        cursor.execute(
            "SELECT trx_id FROM information_schema.INNODB_TRX "
            "WHERE trx_mysql_thread_id <> CONNECTION_ID() AND trx_mysql_thread_id <> %s",
            [exclude],
        )
    else:
        return NOTHING
    return frozenset(str(row[0]) for row in cursor.fetchall())


def ended(cursor: CursorWrapper, sql: Dialect, taken: Marker) -> bool:
    """Whether every transaction of `taken` has ended."""
    if not taken:
        return True
    ids: Sequence[str] = sorted(taken)
    if sql.is_postgresql:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_xid::text = ANY(%s)", [list(ids)]
        )
    else:
        placeholders = ", ".join(["%s"] * len(ids))
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX "
            f"WHERE CAST(trx_id AS CHAR) IN ({placeholders})",
            ids,
        )
    row = cursor.fetchone()
    return row is not None and int(row[0]) == 0


def wait_until_ended(cursor: CursorWrapper, sql: Dialect, taken: Marker) -> None:
    """Block until every transaction of `taken` has ended."""
    pause = _FIRST_PAUSE
    while not ended(cursor, sql, taken):
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)
