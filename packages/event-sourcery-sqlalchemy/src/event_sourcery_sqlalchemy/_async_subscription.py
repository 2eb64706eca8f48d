"""Async subscriptions: an `AsyncLogCursor` per subscription, on a connection of its own.

What a poll decides is `event_sourcery.sql.LogReader`'s, driven with `drive_async`. As the
sync cursor (`_subscription`), it reads on a connection checked out of the session's engine
and held in autocommit while it lives, never through the user's session; `aclose` (called
on cancellation too) returns it to the pool. Waiting polls without blocking the loop: every
10 ms while events flow, every 100 ms after a second of silence. (LISTEN/NOTIFY through
psycopg's async `notifies()` is not wired yet.)
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

from event_sourcery_sqlalchemy._async_driver import AsyncRun, async_runner
from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import OwnWrites
from event_sourcery_sqlalchemy._sql import flavour_of

_FAST_POLL = 0.01
_SLOW_POLL = 0.1
#: Silence after which polling slows down.
_IDLE_AFTER = 1.0


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
        self._connection: AsyncConnection | None = None
        self._run: AsyncRun | None = None
        self._errors = (*DATABASE_ERRORS, self._engine.dialect.loaded_dbapi.Error)
        self._quiet_since = time.monotonic()

    async def _connect(self) -> AsyncRun:
        if self._run is None:
            connection = await self._engine.connect()
            self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            self._run = await async_runner(self._connection)
        return self._run

    async def aclose(self) -> None:
        connection, self._connection, self._run = self._connection, None, None
        if connection is not None:
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
        quiet = time.monotonic() - self._quiet_since
        fast = self._reader.waiting or quiet < _IDLE_AFTER
        await asyncio.sleep(min(timeout, _FAST_POLL if fast else _SLOW_POLL))


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
