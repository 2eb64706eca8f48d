"""Async subscriptions: an `AsyncLogCursor` per subscription, on a connection of its own.

What a poll decides is `event_sourcery.sql.LogReader`'s, driven with `drive_async`. As the
sync cursor (`_subscription`), it reads on a connection checked out of the session's engine
and held in autocommit while it lives, never through the user's session; `aclose` (called
on cancellation too) returns it to the pool.

Waiting never blocks the loop. On PostgreSQL, appends notify at commit
(`event_sourcery.sql.PostgreSQL`): the cursor LISTENs on its own connection from the start,
before its first read (so no commit falls between a read and the LISTEN), through the asyncio
driver (psycopg's ``notifies()``, asyncpg's ``add_listener``; `_async_driver` says how), with
no thread. It polls anyway after `_LISTEN_FALLBACK` seconds without a notification, in case
one is lost on the way (behind a transaction pooler, say), and while a gap waits for
transactions to end, which notifies nobody (a rollback). Elsewhere it polls, every 10 ms
while events flow, every 100 ms after a second of silence. `aclose` (called on cancellation
too) stops listening and returns the connection to the pool; a connection that fails to stop
listening is invalidated, never handed out again.
"""

from __future__ import annotations

import asyncio
import time

from event_sourcery.exceptions import InvalidInput
from event_sourcery.interfaces import (
    AsyncLogCursor,
    AsyncSubscriptionStrategy,
    RecordedRaw,
    SubscriptionFilter,
)
from event_sourcery.sql import LogReader, drive_async
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from event_sourcery_sqlalchemy._async_driver import (
    AsyncRunner,
    Notifications,
    async_runner,
    connected,
)
from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import OwnWrites
from event_sourcery_sqlalchemy._sql import flavour_of, notify_channel

_FAST_POLL = 0.01
_SLOW_POLL = 0.1
#: Silence after which polling slows down.
_IDLE_AFTER = 1.0
#: Listening, the longest wait without a read: a notification lost on the way costs this much.
_LISTEN_FALLBACK = 2.0


def _engine_of(session: AsyncSession) -> AsyncEngine:
    bind = session.bind
    if isinstance(bind, AsyncConnection):
        return bind.engine
    if bind is None:
        raise InvalidInput("AsyncSQLAlchemyBackend's session must be bound to an AsyncEngine")
    return bind


class AsyncSQLAlchemyLogCursor(AsyncLogCursor):
    """Reads the global log gap-free on a connection of its own (see the module docstring)."""

    def __init__(
        self,
        session: AsyncSession,
        models: SQLAlchemyModels,
        after: int,
        subscription_filter: SubscriptionFilter,
        own_writes: OwnWrites,
    ) -> None:
        self._session = session
        self._own_writes = own_writes
        self._engine = _engine_of(session)
        flavour = flavour_of(models, self._engine.dialect)
        self._reader = LogReader(flavour, after, subscription_filter)
        self._channel = notify_channel(models) if flavour.notifies else None
        self._connection: AsyncConnection | None = None
        self._run: AsyncRunner | None = None
        self._notifications: Notifications | None = None
        self._errors = (*DATABASE_ERRORS, self._engine.dialect.loaded_dbapi.Error)
        self._quiet_since = time.monotonic()

    async def _connect(self) -> AsyncRunner:
        if self._run is None:
            connection = await connected(self._engine.connect(), self._engine.dialect)
            try:
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
                run = await async_runner(connection)
                if self._channel is not None:
                    self._notifications = await run.listen(self._channel)
            except BaseException:
                await connection.close()
                raise
            self._connection, self._run = connection, run
        return self._run

    async def aclose(self) -> None:
        connection, run, notifications = self._connection, self._run, self._notifications
        self._connection = self._run = self._notifications = None
        if connection is None or run is None:
            return
        try:
            if notifications is not None:
                await run.guarded(notifications.stop(), "UNLISTEN")
        except self._errors:
            # The connection is gone (often why the subscription is closing: the error that
            # ended it is the one its caller must see), and its LISTEN with it. Invalidated,
            # so the pool never hands it out again.
            await connection.invalidate()
        finally:
            await connection.close()

    @property
    def position(self) -> int:
        return self._reader.position

    async def fetch(self, limit: int) -> list[RecordedRaw]:
        try:
            own = self._own_writes.of(self._session.sync_session)
            found = await drive_async(self._reader.fetch(limit, own), await self._connect())
        except self._errors as error:
            raise translate(error, "reading the global log") from error
        if found:
            self._quiet_since = time.monotonic()
        return found

    async def wait(self, timeout: float) -> None:
        if timeout <= 0:
            return
        if self._reader.waiting:
            # A gap waits for transactions to end, which notifies nobody: poll.
            await asyncio.sleep(min(timeout, _FAST_POLL))
            return
        run = await self._wait_on()
        if run is not None and self._notifications is not None:
            wait = self._notifications.wait(min(timeout, _LISTEN_FALLBACK))
            try:
                await run.guarded(wait, "waiting for notifications")
            except self._errors as error:
                raise translate(error, "waiting for new events") from error
            return
        quiet = time.monotonic() - self._quiet_since
        await asyncio.sleep(min(timeout, _FAST_POLL if quiet < _IDLE_AFTER else _SLOW_POLL))

    async def _wait_on(self) -> AsyncRunner | None:
        """The connection to wait on, where its driver listens; None to poll."""
        if self._channel is None:
            return None
        try:
            return await self._connect()
        except self._errors as error:
            raise translate(error, "waiting for new events") from error


class AsyncSQLAlchemySubscriptionStrategy(AsyncSubscriptionStrategy):
    """Subscriptions over the engine of `session`, for the tables of `models`."""

    def __init__(self, session: AsyncSession, models: SQLAlchemyModels, own_writes: OwnWrites):
        self._session = session
        self._models = models
        self._own_writes = own_writes

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> AsyncLogCursor:
        return AsyncSQLAlchemyLogCursor(
            self._session, self._models, after, subscription_filter, self._own_writes
        )
