"""Subscriptions: a `LogCursor` per subscription, on a connection of its own.

What a poll decides is `event_sourcery.sql.LogReader`'s (the gap rule, transactions in flight,
the rows the filter selects); the cursor drives it on the DB-API cursor and translates errors.

A cursor never reads through the user's session: it checks a connection out of the session's
engine (``session.get_bind()``) and holds it while it lives, in autocommit, so that every
statement sees what committed before it (MariaDB's REPEATABLE READ included) and reads take no
locks. Autocommit rather than a transaction per poll: PostgreSQL reads ``pg_stat_activity``
once per transaction, and a marker taken from that stale list, while a gap's patience pauses
in one fetch, could miss a transaction begun since. An in-memory SQLite database is one
connection that every session shares: the cursor reads on it as it is, uncommitted writes
included, and controls no transaction there.

Waiting for new events: on PostgreSQL with psycopg, appends notify (`event_sourcery.sql.PostgreSQL`)
and the cursor listens on its own connection, with polling as the fallback for notifications
that never come (behind a transaction pooler, say). Elsewhere it polls, every 10 ms while
events flow, backing off to 100 ms after a second of silence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from event_sourcery.interfaces import (
    LogCursor,
    RecordedRaw,
    SubscriptionFilter,
    SubscriptionStrategy,
)
from event_sourcery.sql import (
    LogReader,
    Outcome,
    Statement,
    drive,
    qmark,
)
from sqlalchemy import Connection
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from event_sourcery_sqlalchemy._driver import runner
from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import OwnWrites, resolve
from event_sourcery_sqlalchemy._sql import flavour_of, notify_channel

AnySession = Session | scoped_session[Session]

_FAST_POLL = 0.01
_SLOW_POLL = 0.1
#: Silence after which polling slows down.
_IDLE_AFTER = 1.0


def _shared_runner(dbapi_connection: Any) -> Callable[[Statement], Outcome]:
    """Runs statements straight on the DB-API connection of an in-memory SQLite database that
    every session shares: in whatever transaction the sessions have, controlling none."""

    def run(statement: Statement) -> Outcome:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(qmark(statement.sql), statement.params)
            return Outcome(cursor.fetchall(), cursor.rowcount, cursor.lastrowid)
        finally:
            cursor.close()

    return run


def _shared_connection(session: Session) -> Any:
    """The DB-API connection every session of an in-memory SQLite engine shares, or None."""
    engine = session.get_bind().engine
    if engine.dialect.name != "sqlite" or not isinstance(
        engine.pool, StaticPool | SingletonThreadPool
    ):
        return None
    return session.connection().connection.dbapi_connection


class SQLAlchemyLogCursor(LogCursor):
    """Reads the global log gap-free on a connection of its own (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        models: SQLAlchemyModels,
        after: int,
        subscription_filter: SubscriptionFilter,
        own_writes: OwnWrites,
    ) -> None:
        self._session = session
        self._models = models
        self._own_writes = own_writes
        self._engine = session.get_bind().engine
        dialect = self._engine.dialect
        self._flavour = flavour_of(models, dialect)
        self._reader = LogReader(self._flavour, after, subscription_filter)
        self._shared = _shared_connection(session)
        self._connection: Connection | None = None
        self._run: Callable[[Statement], Outcome] | None = None
        # Driver errors too: statements run on the DB-API cursor.
        self._errors = (*DATABASE_ERRORS, dialect.loaded_dbapi.Error)
        self._listening = False
        self._quiet_since = time.monotonic()

    # --- the connection -----------------------------------------------------------------------

    def _connect(self) -> Callable[[Statement], Outcome]:
        if self._run is None:
            if self._shared is not None:
                self._run = _shared_runner(self._shared)
            else:
                connection = self._engine.connect()
                self._connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                self._run = runner(self._connection)
        return self._run

    def close(self) -> None:
        connection, self._connection, self._run = self._connection, None, None
        if connection is None:
            return
        try:
            if self._listening:
                self._listening = False
                runner(connection)(Statement(f"UNLISTEN {self._channel()}"))
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
        return self._reader.position

    def fetch(self, limit: int) -> list[RecordedRaw]:
        try:
            own = self._own_writes.of(self._session)
            found = drive(self._reader.fetch(limit, own), self._connect())
        except self._errors as error:
            raise translate(error, "reading the global log") from error
        if found:
            self._quiet_since = time.monotonic()
        return found

    # --- waiting ------------------------------------------------------------------------------

    def _channel(self) -> str:
        return self._engine.dialect.identifier_preparer.quote(notify_channel(self._models))

    def _listen(self, run: Callable[[Statement], Outcome]) -> Any:
        """psycopg 3's connection, listening to appends; None where notifications are not used."""
        # psycopg 3's `notifies()` waits for them; other drivers poll.
        if not self._flavour.notifies or self._engine.dialect.driver != "psycopg":
            return None
        if not self._listening:
            run(Statement(f"LISTEN {self._channel()}"))
            self._listening = True
        assert self._connection is not None  # PostgreSQL's memory is never shared
        return self._connection.connection.dbapi_connection

    def wait(self, timeout: float) -> None:
        if timeout <= 0:
            return
        if self._reader.waiting:
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
    """Subscriptions over the engine of `session`, for the tables of `models`.

    `own_writes` is the backend's record of what its sessions' transactions appended: a
    cursor never waits for its opener's transaction, nor skips what it appended.
    """

    def __init__(
        self, session: AnySession, models: SQLAlchemyModels, own_writes: OwnWrites
    ) -> None:
        self._session = session
        self._models = models
        self._own_writes = own_writes

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> LogCursor:
        return SQLAlchemyLogCursor(
            resolve(self._session), self._models, after, subscription_filter, self._own_writes
        )
