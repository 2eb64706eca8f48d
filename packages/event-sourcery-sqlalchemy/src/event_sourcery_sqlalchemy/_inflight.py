"""Transactions in flight, per database: the markers `event_sourcery._gaps` works with.

A reader passes a missing position only once every transaction in flight when it saw the gap
has ended. Each database tells those transactions its own way:

- PostgreSQL: the snapshot of the reading statement itself (``pg_current_snapshot()``): its
  in-progress list is exactly the transactions the read could not see. A marker is that list;
  it has ended when none of them is in progress in a later statement's snapshot. Exact, and no
  extra round trip: the ids, the horizon and the snapshot come from one statement. Transaction
  ids are cluster-wide, so transactions of other databases of the cluster count too (a long
  one delays gaps, never loses an event).
- MariaDB: InnoDB's list of read-write transactions, as ``SHOW ENGINE INNODB STATUS`` prints
  it at the moment of the query (needs the PROCESS privilege). A writer has its transaction id
  before it draws an auto-increment id: every append writes the stream row first (InnoDB
  assigns the id at a transaction's first write, and draws auto-increment values before that
  in the INSERT itself, so the order matters; see `_statements`). That holds in every
  ``innodb_autoinc_lock_mode``: ids are drawn from one counter under a mutex, so a lower id
  was drawn earlier, whether a statement's ids are consecutive (modes 0, 1) or interleaved
  with another statement's (mode 2). The marker is taken after the read, and asked about
  before the next read.
- SQLite: one writer at a time, committing in id order: a position missing below a visible one
  was rolled back or deleted, so every gap is final as soon as it is seen.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from event_sourcery.exceptions import StorageError
from event_sourcery.interfaces import innodb_transactions
from sqlalchemy import Connection, text

#: How long `current_position` waits for transactions in flight before giving up.
POSITION_TIMEOUT = 30.0
_PAUSE = 0.005


@dataclass
class Head:
    """What one poll saw at the head of the log."""

    #: Positions after the cursor's, ascending (the first page only).
    ids: list[int]
    #: The highest position visible in the same read.
    horizon: int
    #: The transactions in flight after that read (see `InFlight.ended`).
    marker: Any


class InFlight(ABC):
    """Reads the head of the log with a marker, and tells when a marker's transactions ended.

    One per cursor: it may keep what its last `head` saw.
    """

    #: Whether a marker describes its read exactly (the read's own snapshot), so that `ended`
    #: may be asked right after `head`, about that same read. Otherwise `ended` must be asked
    #: before the next read, as `GapTracker.confirm` says.
    exact: bool = True

    def __init__(self, events_table: str, quote: Callable[[str], str]) -> None:
        self.table = quote(events_table)

    @abstractmethod
    def head(
        self, connection: Connection, after: int, limit: int, exclude: int | None, *, want: bool
    ) -> Head:
        """Positions after `after` (at most `limit`), the horizon and a marker taken after.

        `exclude` names a transaction (or connection) the marker leaves out: the session's own.
        `want`: whether a marker will be kept (no gap is pending); some databases skip work
        otherwise.
        """

    @abstractmethod
    def ended(self, connection: Connection, marker: Any, exclude: int | None) -> bool:
        """Whether every transaction of `marker` has ended (see `exact` for when to ask)."""

    @abstractmethod
    def settled_position(self, connection: Connection) -> int:
        """The newest position such that nothing lower can still appear, in `connection`'s
        transaction: waits for the other transactions in flight (not the caller's own)."""


def _page_query(table: str) -> str:
    return f"SELECT id FROM {table} WHERE id > :after ORDER BY id LIMIT :limit"


def _timed_out(started: float, what: str) -> None:
    if time.monotonic() - started > POSITION_TIMEOUT:
        raise StorageError(
            f"Transactions in flight did not end within {POSITION_TIMEOUT:.0f} s ({what}); "
            "the position is only safe once they have. Is one of them waiting for a lock "
            "held by this session's transaction? Commit or roll back, then ask again."
        )


class PostgresInFlight(InFlight):
    """Markers from the reading statement's own snapshot (PostgreSQL 13 or newer)."""

    def __init__(self, events_table: str, quote: Callable[[str], str]) -> None:
        super().__init__(events_table, quote)
        self._head = text(
            "SELECT pg_current_snapshot()::text, "
            f"(SELECT max(id) FROM {self.table}), "
            f"ARRAY({_page_query(self.table)})"
        )
        self._xip: frozenset[int] = frozenset()
        self._position = text(
            f"SELECT coalesce(max(id), 0), pg_current_snapshot()::text, "
            f"pg_current_xact_id_if_assigned()::text FROM {self.table}"
        )
        # A PostgreSQL connection belongs to one database, so a transaction of another database
        # of the cluster can never write our events: leave those out of markers.
        self._elsewhere = text(
            "SELECT backend_xid::text FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
            "AND datid <> (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        self._running = text(
            "SELECT x FROM unnest(CAST(:xids AS text[])) AS x "
            "WHERE pg_xact_status(CAST(x AS xid8)) = 'in progress'"
        )

    @staticmethod
    def _in_progress(snapshot: str) -> frozenset[int]:
        # xmin:xmax:xip,... ; only the in-progress list matters (it is exact for the snapshot).
        xip = snapshot.split(":")[2]
        return frozenset(int(x) for x in xip.split(",")) if xip else frozenset()

    def head(
        self, connection: Connection, after: int, limit: int, exclude: int | None, *, want: bool
    ) -> Head:
        snapshot, horizon, ids = connection.execute(
            self._head, {"after": after, "limit": limit}
        ).one()
        self._xip = self._in_progress(snapshot)
        marker = self._xip - {exclude}
        if want and marker and ids and ids[-1] - after != len(ids):
            marker = self._here(connection, marker)
        return Head(list(ids), horizon or 0, marker)

    def _here(self, connection: Connection, xids: frozenset[int]) -> frozenset[int]:
        """`xids` less those known to belong to another database."""
        elsewhere = {int(x) for x in connection.execute(self._elsewhere).scalars()}
        return xids - elsewhere

    def ended(self, connection: Connection, marker: Any, exclude: int | None) -> bool:
        # Called right after `head`: the statement's snapshot is the one the read used, and a
        # transaction absent from it had ended before that read.
        return bool(marker.isdisjoint(self._xip))

    def settled_position(self, connection: Connection) -> int:
        position, snapshot, own = connection.execute(self._position).one()
        others = self._in_progress(snapshot) - {int(own or 0)}
        waiting = sorted(str(x) for x in (self._here(connection, others) if others else others))
        started = time.monotonic()
        while waiting:
            # pg_xact_status reads the live state, not the snapshot: right under any isolation.
            waiting = list(connection.execute(self._running, {"xids": waiting}).scalars())
            if waiting:
                _timed_out(started, f"transaction ids {', '.join(waiting)}")
                time.sleep(_PAUSE)
        return int(position)


class InnoDBInFlight(InFlight):
    """Markers from InnoDB's own list of read-write transactions (MariaDB).

    ``SHOW ENGINE INNODB STATUS`` lists them as they are at the moment of the query
    (``information_schema.innodb_trx`` would do, but InnoDB serves it from a cache up to
    100 ms old). A marker is the set of their ids; it has ended when none is listed any more.
    """

    exact = False

    def __init__(self, events_table: str, quote: Callable[[str], str]) -> None:
        super().__init__(events_table, quote)
        self._head = text(
            f"SELECT id, (SELECT MAX(id) FROM {self.table}) FROM {self.table} "
            "WHERE id > :after ORDER BY id LIMIT :limit"
        )
        self._position = text(f"SELECT COALESCE(MAX(id), 0), CONNECTION_ID() FROM {self.table}")
        self._status = text("SHOW ENGINE INNODB STATUS")
        # Connections working in another database are left out: the store's tables are
        # written unqualified, by connections whose default database holds them.
        self._elsewhere = text(
            "SELECT id FROM information_schema.processlist "
            "WHERE db IS NOT NULL AND db <> DATABASE() OR id = CONNECTION_ID()"
        )

    def _transactions(self, connection: Connection, exclude: int | None) -> frozenset[int] | None:
        """Read-write transactions of the other connections on this database; None: unknown."""
        status = connection.execute(self._status).one()[2]
        found = innodb_transactions(status)
        if found is None:
            return None
        if not found:
            return frozenset()
        elsewhere = set(connection.execute(self._elsewhere).scalars())
        return frozenset(
            trx for trx, thread in found.items() if thread not in elsewhere and thread != exclude
        )

    def head(
        self, connection: Connection, after: int, limit: int, exclude: int | None, *, want: bool
    ) -> Head:
        rows = connection.execute(self._head, {"after": after, "limit": limit}).all()
        ids = [int(row[0]) for row in rows]
        marker = None
        if want and ids and ids[-1] - after != len(ids):  # a gap: the marker, after the read
            marker = self._transactions(connection, exclude)
        return Head(ids, int(rows[0][1]) if rows else 0, marker)

    def ended(self, connection: Connection, marker: Any, exclude: int | None) -> bool:
        if marker is None:
            return False  # never known: the gap waits for the next marker
        if not marker:
            return True
        current = self._transactions(connection, exclude)
        return current is not None and marker.isdisjoint(current)

    def settled_position(self, connection: Connection) -> int:
        position, own = connection.execute(self._position).one()
        started = time.monotonic()
        marker = self._transactions(connection, int(own))
        while marker is None or marker:
            _timed_out(started, f"InnoDB transactions {sorted(marker or ())}")
            time.sleep(_PAUSE)
            current = self._transactions(connection, int(own))
            if current is not None:
                marker = current if marker is None else marker & current
        return int(position)


class SerialInFlight(InFlight):
    """SQLite: writers are serialised and commit in id order; a gap is final when seen."""

    def __init__(self, events_table: str, quote: Callable[[str], str]) -> None:
        super().__init__(events_table, quote)
        self._page = text(_page_query(self.table))
        self._max = text(f"SELECT coalesce(max(id), 0) FROM {self.table}")

    def head(
        self, connection: Connection, after: int, limit: int, exclude: int | None, *, want: bool
    ) -> Head:
        ids = list(connection.execute(self._page, {"after": after, "limit": limit}).scalars())
        horizon = ids[-1] if ids else 0
        return Head(ids, horizon, None)

    def ended(self, connection: Connection, marker: Any, exclude: int | None) -> bool:
        return True

    def settled_position(self, connection: Connection) -> int:
        return int(connection.execute(self._max).scalar_one())


def in_flight_for(dialect_name: str, events_table: str, quote: Callable[[str], str]) -> InFlight:
    """The `InFlight` of a database."""
    if dialect_name == "postgresql":
        return PostgresInFlight(events_table, quote)
    if dialect_name in ("mysql", "mariadb"):
        return InnoDBInFlight(events_table, quote)
    return SerialInFlight(events_table, quote)
