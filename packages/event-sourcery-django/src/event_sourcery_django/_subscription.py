"""Subscriptions: cursors over the global log, each on a database connection of its own.

What a poll decides is `event_sourcery.sql.LogReader`'s (the gap rule, transactions in flight,
the rows the filter selects); the cursor drives it through Django's cursor and translates
errors. It reads in autocommit, never in the caller's transaction: each statement sees what
others committed, whatever the caller's transaction does.
"""

from __future__ import annotations

import contextlib
import select
import time
from typing import Any, cast

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from event_sourcery.interfaces import (
    LogCursor,
    RecordedRaw,
    SubscriptionFilter,
    SubscriptionStrategy,
)
from event_sourcery.sql import (
    LogReader,
    OwnTransaction,
    drive,
)

from event_sourcery_django import _wakeups
from event_sourcery_django._errors import DATABASE_ERRORS, translate
from event_sourcery_django._sql import flavour_of, runner
from event_sourcery_django._wakeups import CHANNEL

#: Longest wait between two reads without a wake-up: PostgreSQL (a lost notification) / others.
LISTEN_FALLBACK, POLL_INTERVAL = 1.0, 0.1
#: Wait between two reads while a gap waits for a transaction to end.
GAP_INTERVAL = 0.01


class DjangoLogCursor(LogCursor):
    """One reader's place in the global log of database `using`."""

    def __init__(
        self, using: str, after: int, subscription_filter: SubscriptionFilter, caller: int
    ) -> None:
        self._using = using
        self._filter = subscription_filter
        # The session whose transaction the markers leave out. Its uncommitted positions are
        # not waited for: commit them before reading them through the log.
        self._own = OwnTransaction(caller)
        self._after = after
        self._reader: LogReader | None = None
        self._connection: BaseDatabaseWrapper | None = None
        self._listening = False
        self._seen_generation = 0

    # --- the connection ------------------------------------------------------------------------

    def _open(self) -> tuple[BaseDatabaseWrapper, LogReader]:
        if self._connection is None or self._reader is None:
            connection = connections.create_connection(self._using)
            try:
                connection.ensure_connection()
                flavour = flavour_of(connection)
                if flavour.notifies:
                    # Before the first read: no commit after it can go unnoticed.
                    with connection.cursor() as cursor:
                        cursor.execute(f"LISTEN {CHANNEL}")
            except BaseException:
                connection.close()
                raise
            if self._reader is None:
                self._reader = LogReader(flavour, self._after, self._filter)
            self._connection, self._listening = connection, flavour.notifies
        return self._connection, self._reader

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(*DATABASE_ERRORS):
                connection.close()

    # --- reading -------------------------------------------------------------------------------

    def fetch(self, limit: int) -> list[RecordedRaw]:
        self._seen_generation = _wakeups.generation(self._using)
        try:
            connection, reader = self._open()
            with connection.cursor() as cursor:
                return drive(reader.fetch(limit, self._own), runner(cursor))
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the global log") from error

    @property
    def position(self) -> int:
        return self._after if self._reader is None else self._reader.position

    # --- waiting -------------------------------------------------------------------------------

    def wait(self, timeout: float) -> None:
        if self._reader is not None and self._reader.waiting:
            time.sleep(min(timeout, GAP_INTERVAL))
            return
        connection = self._connection
        if self._listening and connection is not None:
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
            try:
                flavour = flavour_of(caller)
                with caller.cursor() as cursor:
                    session = drive(flavour.session_of(caller.connection), runner(cursor))
            except DATABASE_ERRORS as error:
                raise translate(error, "opening a subscription") from error
        return DjangoLogCursor(self.using, after, subscription_filter, session)
