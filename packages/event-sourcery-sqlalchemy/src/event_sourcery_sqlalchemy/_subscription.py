"""Subscriptions: a `LogCursor` per subscription, on connections of its own.

A cursor never reads through the user's session: it checks a connection out of the session's
engine (``session.get_bind()``) and holds it while it lives, and each poll is a fresh, short
transaction, so every poll sees what committed before it (MariaDB's REPEATABLE READ included).

A poll reads the positions after the cursor (ids only, unfiltered: the primary key index is
enough), the horizon (newest visible position) and the database's marker of transactions in
flight (`_inflight`); `GapTracker` turns them into a safe bound. Then the records the filter
selects, up to that bound, come in one query filtered in SQL. A subscription that keeps up
therefore never skips an event committed late by a slow transaction, and never waits on a
timer: it waits until the transactions that could still fill a gap have ended.

Waiting for new events: on PostgreSQL with psycopg, appends notify (see `_statements.notify`)
and the cursor listens on its own connection, with polling as the fallback for notifications
that never come (behind a transaction pooler, say). Elsewhere it polls, every 10 ms while
events flow, backing off to 100 ms after a second of silence.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from event_sourcery.exceptions import StorageError
from event_sourcery.interfaces import (
    LogCursor,
    RawEvent,
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
from sqlalchemy import Connection, Dialect, Engine, create_engine, text
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, translate
from event_sourcery_sqlalchemy._inflight import InFlight, in_flight_for
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import current, resolve
from event_sourcery_sqlalchemy._reading import MYSQL_ISO, PG_ISO, LoadColumns
from event_sourcery_sqlalchemy._statements import notify_channel

AnySession = Session | scoped_session[Session]

#: Positions read per poll to find gaps (ids only, from the primary key), when a filter may
#: leave most of them out; unfiltered, a poll reads as many as it may deliver.
_PAGE = 2000
_FAST_POLL = 0.01
_SLOW_POLL = 0.1
#: How long `fetch` waits, with nothing to return, for a gap's transactions to end.
_GAP_PATIENCE = 1.0
#: Silence after which polling slows down.
_IDLE_AFTER = 1.0


class _NoTransactionControl:
    """A DBAPI connection shared with the user's session, whose transaction is not ours.

    An in-memory SQLite database is one connection that every session shares (StaticPool):
    a cursor must not commit or roll back what the user's session is doing on it.
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


_SHARED_ENGINE = "event_sourcery_sqlalchemy.shared_engine"


def _cursor_engine(session: Session) -> Engine:
    """The engine a cursor connects with: the session's, or a wrapper of its shared connection."""
    bind = session.get_bind()
    engine = bind.engine
    if engine.dialect.name != "sqlite" or not isinstance(
        engine.pool, StaticPool | SingletonThreadPool
    ):
        return engine
    # One connection for everyone: read it as it is (its uncommitted writes included).
    pooled = session.connection().connection  # kept with the DBAPI connection: its `info`
    shared: Engine | None = pooled.info.get(_SHARED_ENGINE)
    if shared is None:
        wrapped = _NoTransactionControl(pooled.dbapi_connection)
        shared = create_engine(
            "sqlite://", creator=lambda: wrapped, poolclass=StaticPool, pool_reset_on_return=None
        )
        pooled.info[_SHARED_ENGINE] = shared
    return shared


class _RowsQuery:
    """A poll's read of rows, run on the DB-API cursor itself.

    The hottest statement of a catch-up: hand-written once per cursor and executed without
    SQLAlchemy's result machinery, whose per-row objects cost more than the rest of the read.
    Columns come back as `LoadColumns` reads them (the same as `fetch_events`' columns).
    """

    def __init__(self, models: SQLAlchemyModels, dialect: Dialect, flt: SubscriptionFilter) -> None:
        marks = {"qmark": "?", "format": "%s", "pyformat": "%s"}
        if dialect.paramstyle not in marks:
            raise StorageError(
                f"Subscriptions read through the DB-API driver, and {dialect.driver!r} uses "
                f"the {dialect.paramstyle!r} parameter style; supported: {', '.join(marks)} "
                "(sqlite3, psycopg, psycopg2, pg8000, PyMySQL, mysqlclient)."
            )
        mark = marks[dialect.paramstyle]

        def name(identifier: str) -> str:
            quoted = dialect.identifier_preparer.quote(identifier)
            return quoted.replace("%", "%%") if mark == "%s" else quoted

        stream_uuid, uuid = f"s.{name('uuid')}", f"e.{name('uuid')}"
        if dialect.name == "postgresql":
            # Uuids as text, as `LoadColumns` reads them: psycopg would build each UUID with
            # its slow checks, and the text is a cheaper key for the stream id cache.
            stream_uuid, uuid = f"CAST({stream_uuid} AS TEXT)", f"CAST({uuid} AS TEXT)"
            data, context = "CAST(e.data AS TEXT)", "CAST(e.context AS TEXT)"
            created_at = f"to_char(timezone('UTC', e.created_at), {PG_ISO})"
        else:
            data, context, created_at = "e.data", "e.context", "e.created_at"
            if dialect.name in ("mysql", "mariadb"):
                iso = MYSQL_ISO.replace("%", "%%") if mark == "%s" else MYSQL_ISO
                created_at = f"DATE_FORMAT(e.created_at, {iso})"
        where = [f"e.id > {mark}", f"e.id <= {mark}"]
        self._values: list[str] = []
        selected = (
            ("s.category", flt.categories),
            (f"e.{name('type')}", flt.event_types),
            ("e.tenant_id", flt.tenants),
        )
        for column, wanted in selected:
            if wanted is not None:
                values = sorted("" if value is None else value for value in wanted)
                where.append(f"{column} IN ({', '.join([mark] * len(values))})")
                self._values.extend(values)
        columns = ", ".join(
            (
                "e.id",
                "e.tenant_id",
                "s.category",
                stream_uuid,
                f"s.{name('name')}",
                f"e.{name('version')}",
                uuid,
                f"e.{name('type')}",
                "e.schema_version",
                data,
                context,
                created_at,
            )
        )
        self.sql = (
            f"SELECT {columns} FROM {name(models.events.name)} e "
            f"JOIN {name(models.streams.name)} s ON s.id = e.stream_id "
            f"WHERE {' AND '.join(where)} ORDER BY e.id LIMIT {mark}"
        )

    def args(self, after: int, bound: int, limit: int) -> tuple[Any, ...]:
        return (after, bound, *self._values, limit)


class SQLAlchemyLogCursor(LogCursor):
    """Reads the global log gap-free on a connection of its own (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        models: SQLAlchemyModels,
        after: int,
        subscription_filter: SubscriptionFilter,
    ) -> None:
        self._session = session
        self._models = models
        self._engine = _cursor_engine(session)
        self._tracker: GapTracker[Any] = GapTracker(position=after)
        self._connection: Connection | None = None
        self._in_flight: InFlight | None = None
        self._columns = LoadColumns(self._engine.dialect)
        self._streams = StoredStreamIds()
        self._rows = _RowsQuery(models, self._engine.dialect, subscription_filter)
        flt = subscription_filter
        filtered = (flt.categories, flt.event_types, flt.tenants) != (None, None, None)
        self._page = _PAGE if filtered else 0
        # Driver errors too: the rows are read on the DB-API cursor.
        self._errors = (*DATABASE_ERRORS, self._engine.dialect.loaded_dbapi.Error)
        self._listening = False
        self._quiet_since = time.monotonic()

    # --- the connection -----------------------------------------------------------------------

    def _connect(self) -> Connection:
        if self._connection is None:
            connection = self._engine.connect()
            if self._engine.dialect.name != "sqlite":
                # Each statement (PostgreSQL) or poll (MariaDB) sees the latest commits, and
                # plain reads never take locks, whatever the engine's default isolation.
                connection = connection.execution_options(isolation_level="READ COMMITTED")
            self._connection = connection
            quote = self._engine.dialect.identifier_preparer.quote
            self._in_flight = in_flight_for(
                self._engine.dialect.name, self._models.events.name, quote
            )
        return self._connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if self._listening:
                self._listening = False
                with connection.begin():
                    connection.execute(text(f"UNLISTEN {self._channel()}"))
        except self._errors:
            # The connection is gone (often why the subscription is closing: the error that
            # ended it is the one its caller must see), and its LISTEN with it. Invalidated,
            # so the pool never hands it out again.
            connection.invalidate()
        finally:
            connection.close()

    # --- reading ------------------------------------------------------------------------------

    @property
    def position(self) -> int:
        return self._tracker.position

    def fetch(self, limit: int) -> list[RecordedRaw]:
        # With nothing to return but a gap in the way, wait a little for the transactions that
        # hold it (they are usually about to commit): so `Projector.run_once` returning 0 means
        # "nothing committed to apply", not "a concurrent writer had not committed yet".
        found: list[RecordedRaw] = []
        patience: float | None = None
        try:
            while len(found) < limit:
                before = self._tracker.position
                found.extend(self._poll(limit - len(found)))
                if self._tracker.position != before:
                    continue
                if found or not self._tracker.waiting:
                    break
                patience = patience or time.monotonic() + _GAP_PATIENCE
                if time.monotonic() >= patience:
                    break
                time.sleep(_FAST_POLL)
        except self._errors as error:
            raise translate(error, "reading the global log") from error
        if found:
            self._quiet_since = time.monotonic()
        return found

    def _bound(self, connection: Connection, exclude: int | None, limit: int) -> int:
        """How far this poll may deliver (see `event_sourcery.sql._gaps`)."""
        tracker, in_flight = self._tracker, self._in_flight
        assert in_flight is not None

        def ended(marker: Any) -> bool:
            return in_flight.ended(connection, marker, exclude)

        def take_marker() -> Any:
            return in_flight.marker(connection, exclude)

        if not in_flight.exact:
            tracker.confirm(ended)  # before the read, so the read shows what they committed
        if tracker.settled > tracker.position:
            return tracker.settled  # every gap up there is final: no need to look
        head = in_flight.head(connection, tracker.position, self._page or limit)
        if in_flight.final_gaps:
            return max(tracker.position, head.horizon)
        if in_flight.exact:
            tracker.confirm(ended)
        bound = tracker.safe_bound(head.ids, take_marker, horizon=head.horizon)
        if in_flight.exact and tracker.waiting:
            # A marker with nothing in flight (or SQLite's) settles its gaps at once.
            tracker.confirm(ended)
            bound = tracker.safe_bound(head.ids, take_marker, horizon=head.horizon)
        return bound

    def _poll(self, limit: int) -> list[RecordedRaw]:
        own = current(self._session)
        exclude = own.identity if own is not None else None
        connection = self._connect()
        tracker = self._tracker
        with connection.begin():
            bound = self._bound(connection, exclude, limit)
            if own is not None and own.lowest_position is not None:
                # The session's own uncommitted events: invisible here, never to be skipped.
                bound = min(bound, own.lowest_position - 1)
            if bound <= tracker.position:
                return []
            cursor = connection.connection.cursor()
            try:
                cursor.execute(self._rows.sql, self._rows.args(tracker.position, bound, limit))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        records = self._records(rows)
        tracker.advance(records[-1].position if len(records) == limit else bound)
        return records

    def _records(self, rows: Sequence[Any]) -> list[RecordedRaw]:
        # One loop, every lookup hoisted: per event, this is most of a catch-up's own work.
        read = self._columns
        uuid_, time_, stream_of = read.read_uuid, read.read_time, self._streams.get
        build = raw_from_text if read.json_is_text else RawEvent
        return [
            build_recorded_raw(
                build(
                    uuid_(uuid),
                    stream_of(stream, name, category or None, uuid_),
                    type_,
                    version,
                    time_(created_at),
                    data,
                    context,
                    schema,
                ),
                position,
                tenant or None,
            )
            # In `_RowsQuery`'s column order.
            for (
                position,
                tenant,
                category,
                stream,
                name,
                version,
                uuid,
                type_,
                schema,
                data,
                context,
                created_at,
            ) in rows
        ]

    # --- waiting ------------------------------------------------------------------------------

    def _channel(self) -> str:
        return self._engine.dialect.identifier_preparer.quote(notify_channel(self._models))

    def _listen(self, connection: Connection) -> Any:
        """psycopg 3's connection, listening to appends; None where notifications are not used."""
        if self._engine.dialect.name != "postgresql" or self._engine.dialect.driver != "psycopg":
            return None
        if not self._listening:
            with connection.begin():
                connection.execute(text(f"LISTEN {self._channel()}"))
            self._listening = True
        return connection.connection.dbapi_connection

    def wait(self, timeout: float) -> None:
        if timeout <= 0:
            return
        if self._tracker.waiting:
            # A gap waits for transactions to end, which notifies nobody (a rollback, or a
            # transaction that wrote no events): poll.
            time.sleep(min(timeout, _FAST_POLL))
            return
        quiet = time.monotonic() - self._quiet_since
        interval = _FAST_POLL if quiet < _IDLE_AFTER else _SLOW_POLL
        try:
            listener = self._listen(self._connect())
            if listener is None:
                time.sleep(min(timeout, interval))
                return
            # Woken by the first notification; without one, poll anyway after a while, in
            # case notifications are lost on the way. The driver's own calls: a connection
            # that dies meanwhile raises the driver's error, translated like SQLAlchemy's.
            for _ in listener.notifies(timeout=min(timeout, _SLOW_POLL), stop_after=1):
                break
            for _ in listener.notifies(timeout=0):
                pass  # the rest of the burst: one poll reads them all
        except self._errors as error:
            raise translate(error, "waiting for new events") from error


class SQLAlchemySubscriptionStrategy(SubscriptionStrategy):
    """Subscriptions over the engine of `session`, for the tables of `models`."""

    def __init__(self, session: AnySession, models: SQLAlchemyModels) -> None:
        self._session = session
        self._models = models

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> LogCursor:
        return SQLAlchemyLogCursor(resolve(self._session), self._models, after, subscription_filter)
