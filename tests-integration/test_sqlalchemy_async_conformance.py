"""The conformance kit, in asyncio mode, against `AsyncSQLAlchemyBackend` on every asyncio
driver it supports: SQLite through aiosqlite, PostgreSQL through psycopg's async connection
and through asyncpg, MariaDB through asyncmy (`DRIVERS`, one parameter of the backend).

Each test gets an async engine of its own on the worker's database (its connections belong
to the test's event loop) and a fresh `AsyncSession`. The twin the kit reaches the outbox
relay and projectors through is a sync `SQLAlchemyBackend` in the same transaction: on the
session's `sync_session`, each of its outbox and checkpoint calls run with `run_sync` on the
test's loop (SQLAlchemy's documented bridge), so a projector's checkpoint and its handler's
appends share one transaction, as they do on a sync backend (on SQLite, two transactions
writing at once would wait on each other's lock). Its subscriptions read on the sync engine,
knowing what the async session's transaction did (`_OwnWritesOf`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from event_sourcery import AsyncBackend, Backend
from event_sourcery.interfaces import CheckpointStrategy, OutboxStrategy, SubscriptionStrategy
from event_sourcery.sql import OwnTransaction
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend, SQLAlchemyBackend
from event_sourcery_sqlalchemy._own import OwnWrites
from event_sourcery_sqlalchemy._subscription import SQLAlchemySubscriptionStrategy
from event_sourcery_testing.conformance import AsyncBackendConformance, AsyncModeBackend
from event_sourcery_testing.conformance._async_mode import EventLoopThread
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool


class _OnLoop:
    """A sync strategy of the twin whose every method runs in `session` with `run_sync`."""

    def __init__(self, strategy: Any, session: AsyncSession, loop: EventLoopThread) -> None:
        self._strategy, self._session, self._loop = strategy, session, loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._strategy, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run(self._session.run_sync(lambda _: method(*args, **kwargs)))

        return call


class _OwnWritesOf(OwnWrites):
    """`own_writes`' record of `session`, whichever session a cursor asks about."""

    def __init__(self, own_writes: OwnWrites, session: Session) -> None:
        super().__init__()
        self._own_writes, self._session = own_writes, session

    def of(self, session: Session) -> OwnTransaction:
        return self._own_writes.of(self._session)


class _Twin(SQLAlchemyBackend):
    """`SQLAlchemyBackend` on an `AsyncSession`'s `sync_session`, its calls on the loop."""

    def __init__(self, session: AsyncSession, loop: EventLoopThread, reader: Session) -> None:
        super().__init__(session.sync_session)
        self._async_session, self._loop, self._reader = session, loop, reader

    def _outbox_strategy(self) -> OutboxStrategy:
        return _OnLoop(super()._outbox_strategy(), self._async_session, self._loop)  # type: ignore[return-value]

    def _checkpoint_strategy(self) -> CheckpointStrategy:
        return _OnLoop(super()._checkpoint_strategy(), self._async_session, self._loop)  # type: ignore[return-value]

    def _subscription_strategy(self) -> SubscriptionStrategy:
        # A cursor reads on a connection of its own anyway: the sync engine's, for its sync
        # calls; what it must not wait for is what the async session's transaction did.
        own = _OwnWritesOf(self._own_writes, self._async_session.sync_session)
        return SQLAlchemySubscriptionStrategy(self._reader, self._tables(), own)


#: Each asyncio driver of the backend, with the database (fixture `<name>_engine`) it runs on.
DRIVERS = {
    "aiosqlite": "sqlite_file",
    "psycopg": "postgresql",
    "asyncpg": "postgresql",
    "asyncmy": "mariadb",
}


class TestAsyncSQLAlchemy(AsyncBackendConformance):
    """The kit over a fresh `AsyncSession` per test, for each of `DRIVERS`."""

    @pytest.fixture(params=list(DRIVERS))
    def async_driver(self, request: pytest.FixtureRequest) -> str:
        driver: str = request.param
        return driver

    @pytest.fixture
    def async_backend(
        self, request: pytest.FixtureRequest, async_driver: str
    ) -> Iterator[AsyncBackend]:
        database: Engine = request.getfixturevalue(f"{DRIVERS[async_driver]}_engine")
        url = database.url.set(drivername=f"{database.url.get_backend_name()}+{async_driver}")
        engine = create_async_engine(url, poolclass=NullPool)
        with Session(database) as reader:
            self._reader = reader
            yield AsyncSQLAlchemyBackend(AsyncSession(engine))

    def sync_twin(self, backend: AsyncBackend) -> Backend:
        assert isinstance(backend, AsyncSQLAlchemyBackend)
        return _Twin(backend.session, self.loop, self._reader)

    async def finish(self, backend: AsyncBackend) -> None:
        assert isinstance(backend, AsyncSQLAlchemyBackend)
        try:
            await backend.session.close()
        except Exception:
            # A connection a failed test left mid-statement: dropped, so that its open
            # transaction cannot hold up the next tests' reads of the log.
            await backend.session.invalidate()
        bind = backend.session.bind
        assert bind is not None
        await bind.dispose()

    def _sessions(self, backend: Backend) -> tuple[AsyncModeBackend, AsyncSession]:
        assert isinstance(backend, AsyncModeBackend)
        async_backend = backend.async_backend
        assert isinstance(async_backend, AsyncSQLAlchemyBackend)
        return backend, async_backend.session

    def commit(self, backend: Backend) -> None:
        mode, session = self._sessions(backend)
        mode.loop.run(session.commit())

    def rollback(self, backend: Backend) -> None:
        mode, session = self._sessions(backend)
        mode.loop.run(session.rollback())
