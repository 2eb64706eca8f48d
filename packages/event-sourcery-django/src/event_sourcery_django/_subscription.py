"""Subscriptions: cursors over the global log, each on a database connection of its own.

A cursor reads in short autocommit transactions, never in the caller's: it sees what others
committed, whatever the caller's transaction does. Positions are handed out before commit, so
the cursor applies the gap rule (`event_sourcery.interfaces.GapTracker`) with the in-flight
markers of `_inflight`.

Each read scans the log in position order, every event, and the filter only decides which
rows carry their payload back: a hole in the positions can only be judged on all of them.
"""

from __future__ import annotations

import contextlib
import select
import time
from typing import Any, cast

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from event_sourcery.interfaces import (
    LogCursor,
    RecordedRaw,
    StoredStreamIds,
    SubscriptionFilter,
    SubscriptionStrategy,
    build_recorded_raw,
)
from event_sourcery.sql import (
    GapTracker,
    raw_from_text,
)

from event_sourcery_django import _inflight, _wakeups
from event_sourcery_django._dialect import Dialect, dialect_of, raw_of_values, read_time, read_uuid
from event_sourcery_django._errors import DATABASE_ERRORS, translate

#: Positions one read scans at most.
SCAN = 1000
#: Longest wait between two reads without a wake-up: PostgreSQL (a lost notification) / others.
LISTEN_FALLBACK, POLL_INTERVAL = 1.0, 0.1
#: Wait between two reads while a gap waits for a transaction to end.
GAP_INTERVAL = 0.01


def _streams_of_page(sql: Dialect) -> str:
    """The join of a page of events to their streams' rows, as `s`.

    PostgreSQL: one primary key lookup per event, whatever the statistics say. Without them
    (a table filled faster than autovacuum analyzes it) it hashed every stream for every page
    of 500 events: 9 ms a page with 10,000 streams, and more as streams are added.
    """
    if sql.is_postgresql:
        return (
            "CROSS JOIN LATERAL (SELECT category, uuid, name "
            f"FROM {sql.streams} WHERE id = e.stream_id LIMIT 1) s"
        )
    return f"JOIN {sql.streams} s ON s.id = e.stream_id"


def _condition(sql: Dialect, subscription_filter: SubscriptionFilter) -> tuple[str, list[Any]]:
    """SQL deciding whether a row matches the filter, and its parameters."""
    parts: list[str] = []
    params: list[Any] = []
    for column, values in (
        ("s.category", subscription_filter.categories),
        ("e.type", subscription_filter.event_types),
        (
            "e.tenant_id",
            None
            if subscription_filter.tenants is None
            else {"" if t is None else t for t in subscription_filter.tenants},
        ),
    ):
        if values is None:
            continue
        if not values:
            return "1 = 0", []
        chosen = sorted(values)
        parts.append(f"{column} IN ({', '.join(['%s'] * len(chosen))})")
        params += chosen
    return (" AND ".join(parts), params) if parts else ("", [])


class DjangoLogCursor(LogCursor):
    """One reader's place in the global log of database `using`."""

    def __init__(
        self, using: str, after: int, subscription_filter: SubscriptionFilter, caller: int
    ) -> None:
        self._using = using
        self._filter = subscription_filter
        self._caller = caller  # the session whose transaction markers leave out
        self._tracker: GapTracker[_inflight.Marker] = GapTracker(position=after)
        self._connection: BaseDatabaseWrapper | None = None
        self._sql: Dialect | None = None
        self._statement = ""
        self._params: list[Any] = []
        self._filtered = False
        self._seen_generation = 0
        self._streams = StoredStreamIds()

    # --- the connection ------------------------------------------------------------------------

    def _open(self) -> tuple[BaseDatabaseWrapper, Dialect]:
        if self._connection is None or self._sql is None:
            connection = connections.create_connection(self._using)
            try:
                connection.ensure_connection()
                sql = dialect_of(connection)
                if sql.is_postgresql:
                    # Before the first read: no commit after it can go unnoticed.
                    with connection.cursor() as cursor:
                        cursor.execute(f"LISTEN {_wakeups.CHANNEL}")
            except BaseException:
                connection.close()
                raise
            self._connection, self._sql = connection, sql
            self._statement, self._params = self._read_statement(sql)
        return self._connection, self._sql

    def _read_statement(self, sql: Dialect) -> tuple[str, list[Any]]:
        condition, params = _condition(sql, self._filter)
        self._filtered = bool(condition)
        data, context = sql.json_column("e.data"), sql.json_column("e.context")
        if condition:
            hit = f"CASE WHEN {condition} THEN 1 ELSE 0 END"
            data = f"CASE WHEN {condition} THEN {data} END"
            context = f"CASE WHEN {condition} THEN {context} END"
            params = params * 3
        else:
            hit = "1"
        statement = (
            f"SELECT e.id, {hit}, e.version, {sql.uuid_column('e.uuid')}, e.type, "
            f"e.schema_version, {data}, {context}, {sql.time_column('e.created_at')}, "
            f"e.tenant_id, s.category, {sql.uuid_column('s.uuid')}, s.name "
            # The page of the log first, by the primary key, then its streams: the planner
            # cannot choose to join the whole log and sort it (it did, 26 ms a page, while a
            # freshly filled table had no statistics yet).
            f"FROM (SELECT * FROM {sql.events} WHERE id > %s ORDER BY id LIMIT %s) e "
            f"{_streams_of_page(sql)} ORDER BY e.id"
        )
        return statement, params

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(*DATABASE_ERRORS):
                connection.close()

    # --- reading -------------------------------------------------------------------------------

    def fetch(self, limit: int) -> list[RecordedRaw]:
        try:
            connection, sql = self._open()
            with connection.cursor() as cursor:
                return self._fetch(cursor, sql, limit)
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the global log") from error

    def _fetch(self, cursor: CursorWrapper, sql: Dialect, limit: int) -> list[RecordedRaw]:
        tracker = self._tracker
        found: list[RecordedRaw] = []

        def has_ended(taken: _inflight.Marker) -> bool:
            return _inflight.ended(cursor, sql, taken)

        self._seen_generation = _wakeups.generation(self._using)
        while len(found) < limit:
            tracker.confirm(has_ended)
            # Unfiltered, every row is delivered: read no more than are wanted (each carries
            # its payload). Filtered, rows that do not match come without one: scan further.
            scan = max(SCAN, limit) if self._filtered else limit - len(found)
            cursor.execute(self._statement, [*self._params, tracker.position, scan])
            rows = cursor.fetchall()
            if not rows:
                break
            seen = [int(row[0]) for row in rows]
            # The marker is taken (a query) only if a gap opens here.
            bound = tracker.safe_bound(seen, lambda: _inflight.marker(cursor, sql, self._caller))
            chosen = []
            for position, row in zip(seen, rows, strict=True):
                if position > bound:
                    break
                if row[1]:
                    chosen.append(row)
                    if len(found) + len(chosen) == limit:
                        bound = position
                        break
            found += self._records(chosen, sql)
            tracker.advance(bound)
            if tracker.waiting:
                # Often the transactions behind a gap have ended already: look once more now.
                tracker.confirm(has_ended)
                if tracker.waiting:
                    break
            elif bound < seen[-1] or len(rows) < scan:
                break  # the limit, or the end of the log
        return found

    def _records(self, rows: list[Any], sql: Dialect) -> list[RecordedRaw]:
        # One loop, every lookup hoisted: per event, this is most of a catch-up's own work.
        stream_of = self._streams.get
        build = raw_from_text if sql.json_is_text else raw_of_values
        return [
            build_recorded_raw(
                build(
                    read_uuid(uuid),
                    stream_of(stream, name, category or None, read_uuid),
                    type_,
                    version,
                    read_time(at),
                    data,
                    context,
                    schema,
                ),
                int(position),
                tenant or None,
            )
            for (
                position,
                _,
                version,
                uuid,
                type_,
                schema,
                data,
                context,
                at,
                tenant,
                category,
                stream,
                name,
            ) in rows
        ]

    @property
    def position(self) -> int:
        return self._tracker.position

    # --- waiting -------------------------------------------------------------------------------

    def wait(self, timeout: float) -> None:
        if self._tracker.waiting:
            time.sleep(min(timeout, GAP_INTERVAL))
            return
        sql = self._sql
        connection = self._connection
        if sql is not None and sql.is_postgresql and connection is not None:
            try:
                _wait_for_notification(connection, min(timeout, LISTEN_FALLBACK))
            # The driver's own calls, outside Django's error wrapping: a connection that dies
            # meanwhile raises the driver's error (psycopg's OperationalError).
            except (*DATABASE_ERRORS, _driver_error(connection)) as error:
                raise translate(error, "waiting for new events") from error
            return
        _wakeups.wait(self._using, self._seen_generation, min(timeout, POLL_INTERVAL))


def _driver_error(connection: BaseDatabaseWrapper) -> type[Exception]:
    """The base class of the errors of `connection`'s DB-API driver."""
    error: type[Exception] = cast(Any, connection).Database.Error  # a backend's attribute
    return error


def _wait_for_notification(connection: BaseDatabaseWrapper, timeout: float) -> None:
    """Block until a NOTIFY reaches `connection` (LISTENing), or `timeout` seconds pass."""
    raw = connection.connection
    notifies = getattr(raw, "notifies", None)
    if callable(notifies):  # psycopg 3.2+: waits itself, and keeps what came during reads
        for _ in notifies(timeout=timeout, stop_after=1):
            pass
        return
    # psycopg2: wait for the socket, then take in (and drop) what arrived.
    if not raw.notifies:
        readable, _, _ = select.select([raw], [], [], timeout)
        if readable:
            raw.poll()
    raw.notifies.clear()


class DjangoSubscriptionStrategy(SubscriptionStrategy):
    """Opens cursors on database alias `using` (each with its own connection)."""

    def __init__(self, using: str) -> None:
        self.using = using

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> LogCursor:
        # The caller's session, if it is in a transaction: markers must not wait for it.
        caller = connections[self.using]
        session = 0
        if caller.connection is not None and (
            caller.in_atomic_block or not caller.get_autocommit()
        ):
            session = _inflight.session_id(caller)
        return DjangoLogCursor(self.using, after, subscription_filter, session)
