"""Transactions in flight, per database: the markers `event_sourcery.sql._gaps` works with.

A reader passes a missing position only once every transaction in flight when it saw the gap
has ended. Each database tells those transactions its own way:

- PostgreSQL: a marker is the live list of transaction ids of this database's sessions
  (``pg_stat_activity.backend_xid``) and prepared transactions, taken after the read; a
  transaction of another database of the cluster can never write our events. It has ended
  when the snapshot of a later reading statement (``pg_current_snapshot()``, in the same
  statement as the read: no extra round trip) holds none of them as running. A snapshot's
  in-progress list alone is NOT a marker: it lists only ids below the snapshot's ``xmax``,
  which is one past the newest *completed* id, so a transaction whose id is newer than every
  completed one is running but absent (``20806:20806:`` with 20806 running). Such a
  transaction may hold a position below a visible one (it drew its position before an older
  transaction drew and committed a higher one); trusting the list lost events under load.
  "Running in a snapshot" is therefore: in its list, or at or above its ``xmax``.
- MariaDB: InnoDB's list of read-write transactions, as ``SHOW ENGINE INNODB STATUS`` prints
  it at the moment of the query (needs the PROCESS privilege), of every database of the
  server: a connection may select another database while its transaction holds a position
  (see `event_sourcery.interfaces.innodb_transactions`). A writer has its transaction id
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
from event_sourcery.sql import (
    innodb_transactions,
)
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


class InFlight(ABC):
    """Reads the head of the log, takes markers of the transactions in flight, and tells when
    a marker's transactions ended.

    One per cursor: it may keep what its last `head` saw.
    """

    #: Whether `ended` judges by the last `head`'s own read (PostgreSQL: that statement's
    #: snapshot), so that it may be asked right after `head`, about that same read. Otherwise
    #: `ended` must be asked before the next read, as `GapTracker.confirm` says.
    exact: bool = True
    #: Whether every gap is final as soon as it is seen (one writer at a time): the head then
    #: needs no ids, only the horizon.
    final_gaps: bool = False

    def __init__(self, events_table: str, quote: Callable[[str], str]) -> None:
        self.table = quote(events_table)

    @abstractmethod
    def head(self, connection: Connection, after: int, limit: int) -> Head:
        """Positions after `after` (at most `limit`) and the horizon, in one read."""

    @abstractmethod
    def marker(self, connection: Connection, exclude: int | None) -> Any:
        """The transactions in flight now (call it after the read it stands for).

        `exclude` names a transaction (or connection) the marker leaves out: the session's own.
        """

    @abstractmethod
    def ended(self, connection: Connection, marker: Any, exclude: int | None) -> bool:
        """Whether every transaction of `marker` has ended (see `exact` for when to ask)."""

    @abstractmethod
    def settled_position(self, connection: Connection) -> int:
        """The newest position such that nothing lower can still appear, in `connection`'s
        transaction: waits for the other transactions in flight (not the caller's own)."""


def _page_query(table: str) -> str:  # the ids of a head
    return f"SELECT id FROM {table} WHERE id > :after ORDER BY id LIMIT :limit"


def _timed_out(started: float, what: str) -> None:
    if time.monotonic() - started > POSITION_TIMEOUT:
        raise StorageError(
            f"Transactions in flight did not end within {POSITION_TIMEOUT:.0f} s ({what}); "
            "the position is only safe once they have. Is one of them waiting for a lock "
            "held by this session's transaction? Commit or roll back, then ask again."
        )


_XID_SPAN = 1 << 32


def _widen(xid: int, near: int) -> int:
    """The 64-bit id (``xid8``) of 32-bit transaction id `xid`, assigned close to `near`."""
    candidate = (near & ~(_XID_SPAN - 1)) | xid
    if candidate > near + _XID_SPAN // 2:
        return candidate - _XID_SPAN
    if candidate < near - _XID_SPAN // 2:
        return candidate + _XID_SPAN
    return candidate


@dataclass(frozen=True)
class PgSnapshot:
    """A ``pg_snapshot``: which transactions it holds as running."""

    xmax: int
    listed: frozenset[int]

    @classmethod
    def parse(cls, text: str) -> PgSnapshot:
        _, xmax, xip = text.split(":")  # xmin:xmax:xip,...
        return cls(int(xmax), frozenset(int(x) for x in xip.split(",")) if xip else frozenset())

    def running(self, xid: int) -> bool:
        """Whether `xid` (assigned before the snapshot was taken) was running in it.

        Ids at or above ``xmax`` are running although not listed (see the module docstring).
        """
        return xid >= self.xmax or xid in self.listed


class PostgresInFlight(InFlight):
    """Markers from the live list of this database's transactions; "ended" judged by the
    snapshot of the reading statement itself (PostgreSQL 13 or newer)."""

    def __init__(self, events_table: str, quote: Callable[[str], str]) -> None:
        super().__init__(events_table, quote)
        self._head = text(
            "SELECT pg_current_snapshot()::text, "
            f"(SELECT max(id) FROM {self.table}), "
            f"ARRAY({_page_query(self.table)})"
        )
        self._snapshot = PgSnapshot(0, frozenset())
        self._position = text(
            f"SELECT coalesce(max(id), 0), pg_current_snapshot()::text, "
            f"pg_current_xact_id_if_assigned()::text FROM {self.table}"
        )
        # Read live (not as of a snapshot), so it is right whenever it is asked. A PostgreSQL
        # connection belongs to one database: other databases' transactions are left out.
        # Prepared (two-phase) transactions have no session, but may hold positions too.
        self._live = text(
            "SELECT backend_xid::text FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
            "AND datid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "UNION ALL SELECT transaction::text FROM pg_prepared_xacts "
            "WHERE database = current_database()"
        )
        self._running = text(
            "SELECT x FROM unnest(CAST(:xids AS text[])) AS x "
            "WHERE pg_xact_status(CAST(x AS xid8)) = 'in progress'"
        )

    def head(self, connection: Connection, after: int, limit: int) -> Head:
        snapshot, horizon, ids = connection.execute(
            self._head, {"after": after, "limit": limit}
        ).one()
        self._snapshot = PgSnapshot.parse(snapshot)
        return Head(list(ids), horizon or 0)

    def _live_xids(self, connection: Connection, near: int) -> frozenset[int]:
        return frozenset(_widen(int(x), near) for x in connection.execute(self._live).scalars())

    def marker(self, connection: Connection, exclude: int | None) -> Any:
        return self._live_xids(connection, self._snapshot.xmax) - {exclude}

    def ended(self, connection: Connection, marker: Any, exclude: int | None) -> bool:
        # Called right after `head`: its statement's snapshot is the one the read used, and a
        # transaction that snapshot does not hold as running had ended before the read.
        running = self._snapshot.running
        return not any(running(xid) for xid in marker)

    def settled_position(self, connection: Connection) -> int:
        position, snapshot, own = connection.execute(self._position).one()
        others = self._live_xids(connection, PgSnapshot.parse(snapshot).xmax) - {int(own or 0)}
        waiting = sorted(str(x) for x in others)
        started = time.monotonic()
        while waiting:
            # pg_xact_status reads the live state, not the snapshot: right under any isolation.
            waiting = list(connection.execute(self._running, {"xids": waiting}).scalars())
            if waiting:
                _timed_out(started, f"transaction ids {', '.join(waiting)}")
                time.sleep(_PAUSE)
        return int(position)


_CONNECTION_ID = "event_sourcery_sqlalchemy.connection_id"


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
        self._own = text("SELECT CONNECTION_ID()")

    def _transactions(self, connection: Connection, exclude: int | None) -> frozenset[int] | None:
        """Read-write transactions of the server's other connections, whatever database they
        have selected (see `innodb_transactions` for why); None: unknown."""
        status = connection.execute(self._status).one()[2]
        own = connection.info.get(_CONNECTION_ID)  # kept with the DB-API connection
        if own is None:
            own = connection.info[_CONNECTION_ID] = int(connection.execute(self._own).scalar_one())
        return innodb_transactions(status, excluding={own, exclude or own})

    def head(self, connection: Connection, after: int, limit: int) -> Head:
        rows = connection.execute(self._head, {"after": after, "limit": limit}).all()
        return Head([int(row[0]) for row in rows], int(rows[0][1]) if rows else 0)

    def marker(self, connection: Connection, exclude: int | None) -> Any:
        return self._transactions(connection, exclude)

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

    final_gaps = True

    def __init__(self, events_table: str, quote: Callable[[str], str]) -> None:
        super().__init__(events_table, quote)
        self._max = text(f"SELECT coalesce(max(id), 0) FROM {self.table}")

    def head(self, connection: Connection, after: int, limit: int) -> Head:
        return Head([], int(connection.execute(self._max).scalar_one()))

    def marker(self, connection: Connection, exclude: int | None) -> Any:
        return None

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
