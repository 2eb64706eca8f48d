"""Transactions in flight, per database: the markers `event_sourcery._gaps` works with.

A reader passes a missing position only once every transaction in flight when it saw the gap
has ended. Each database tells those transactions its own way:

- PostgreSQL: the snapshot of the reading statement itself (``pg_current_snapshot()``): its
  in-progress list is exactly the transactions the read could not see. A marker is that list;
  it has ended when none of them is in progress in a later statement's snapshot. Exact, and no
  extra round trip: the ids, the horizon and the snapshot come from one statement. Transaction
  ids are cluster-wide, so transactions of other databases of the cluster count too (a long
  one delays gaps, never loses an event).
- MariaDB: InnoDB's list of read-write transactions (``information_schema.innodb_trx`` rows
  with a real ``trx_id``). InnoDB serves that table from a cache refreshed at most every
  100 ms, so a marker must come from a refresh after the read: the query carries a nonce, and
  the data is known fresh when the reader's own row shows the query running (else the reader
  waits until 120 ms after its read, when any data is newer). Reading it needs the PROCESS
  privilege.
- SQLite: one writer at a time, committing in id order: a position missing below a visible one
  was rolled back or deleted, so every gap is final as soon as it is seen.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from event_sourcery.exceptions import StorageError
from sqlalchemy import Connection, TextClause, bindparam, text

#: How long `current_position` waits for transactions in flight before giving up.
POSITION_TIMEOUT = 30.0
#: InnoDB refreshes its transaction tables at most this often (trx0i_s.cc, 100 ms), plus margin.
_INNODB_CACHE_AGE = 0.12
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
        return Head(list(ids), horizon or 0, self._xip - {exclude})

    def ended(self, connection: Connection, marker: Any, exclude: int | None) -> bool:
        # Called right after `head`: the statement's snapshot is the one the read used, and a
        # transaction absent from it had ended before that read.
        return bool(marker.isdisjoint(self._xip))

    def settled_position(self, connection: Connection) -> int:
        position, snapshot, own = connection.execute(self._position).one()
        waiting = sorted(str(x) for x in self._in_progress(snapshot) - {int(own or 0)})
        started = time.monotonic()
        while waiting:
            # pg_xact_status reads the live state, not the snapshot: right under any isolation.
            waiting = list(connection.execute(self._running, {"xids": waiting}).scalars())
            if waiting:
                _timed_out(started, f"transaction ids {', '.join(waiting)}")
                time.sleep(_PAUSE)
        return int(position)


@dataclass
class InnoDBMarker:
    """Read-write InnoDB transactions in flight after a read; resolved later if need be."""

    read_at: float
    trx: frozenset[int] | None = field(default=None)


class InnoDBInFlight(InFlight):
    """Markers from `information_schema.innodb_trx` (MariaDB)."""

    exact = False

    def __init__(self, events_table: str, quote: Callable[[str], str]) -> None:
        super().__init__(events_table, quote)
        self._head = text(
            f"SELECT id, (SELECT MAX(id) FROM {self.table}) FROM {self.table} "
            "WHERE id > :after ORDER BY id LIMIT :limit"
        )
        self._position = text(f"SELECT COALESCE(MAX(id), 0), CONNECTION_ID() FROM {self.table}")
        self._trx: TextClause = text(
            "SELECT trx_id, trx_mysql_thread_id, trx_query LIKE :nonce, CONNECTION_ID() "
            "FROM information_schema.innodb_trx"
        ).bindparams(bindparam("nonce"))

    def _transactions(
        self, connection: Connection, exclude: int | None
    ) -> tuple[frozenset[int], bool]:
        """Read-write transactions of other connections, and whether the data is fresh."""
        nonce = f"%es-fresh-{uuid.uuid4().hex}%"
        rows = connection.execute(self._trx, {"nonce": nonce}).all()
        own = rows[0][3] if rows else None
        fresh = any(thread == own and seen for _, thread, seen, _ in rows)
        found = frozenset(
            int(trx) for trx, thread, _, _ in rows if int(trx) != 0 and thread not in (own, exclude)
        )
        return found, fresh

    def head(
        self, connection: Connection, after: int, limit: int, exclude: int | None, *, want: bool
    ) -> Head:
        rows = connection.execute(self._head, {"after": after, "limit": limit}).all()
        ids = [int(row[0]) for row in rows]
        marker = InnoDBMarker(read_at=time.monotonic())
        if want and ids and ids[-1] - after != len(ids):  # a gap: try for a fresh marker now
            found, fresh = self._transactions(connection, exclude)
            if fresh:
                marker.trx = found
        return Head(ids, int(rows[0][1]) if rows else 0, marker)

    def ended(self, connection: Connection, marker: Any, exclude: int | None) -> bool:
        assert isinstance(marker, InnoDBMarker)
        if marker.trx is None:
            if time.monotonic() < marker.read_at + _INNODB_CACHE_AGE:
                return False
            # Any data now is newer than the read: it is the marker.
            marker.trx, _ = self._transactions(connection, exclude)
            return not marker.trx
        if not marker.trx:
            return True
        current, _ = self._transactions(connection, exclude)
        return marker.trx.isdisjoint(current)

    def settled_position(self, connection: Connection) -> int:
        position, own = connection.execute(self._position).one()
        read_at = started = time.monotonic()
        while True:
            found, fresh = self._transactions(connection, int(own))
            if fresh or time.monotonic() >= read_at + _INNODB_CACHE_AGE:
                break
            time.sleep(_PAUSE)
        while found:
            _timed_out(started, f"InnoDB transactions {sorted(found)}")
            time.sleep(_PAUSE * 4)
            current, _ = self._transactions(connection, int(own))
            found = found & current
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
