"""The conformance kit, in asyncio mode, against `AsyncSQLAlchemyBackend` on every asyncio
driver it supports: SQLite through aiosqlite, PostgreSQL through psycopg's async connection
and through asyncpg, MariaDB through asyncmy (`DRIVERS`, one parameter of the backend).

Each test gets an async engine of its own on the worker's database (its connections belong
to the test's event loop) and a fresh `AsyncSession`. Every call of the kit, the outbox relay
and projectors included, is the asyncio backend's (`AsyncOutbox`, `AsyncProjector`).
"""

from __future__ import annotations

import pytest
from event_sourcery import AsyncBackend, Backend
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend
from event_sourcery_testing.conformance import AsyncBackendConformance, AsyncModeBackend
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

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
    def async_backend(self, request: pytest.FixtureRequest, async_driver: str) -> AsyncBackend:
        database: Engine = request.getfixturevalue(f"{DRIVERS[async_driver]}_engine")
        url = database.url.set(drivername=f"{database.url.get_backend_name()}+{async_driver}")
        engine = create_async_engine(url, poolclass=NullPool)
        return AsyncSQLAlchemyBackend(AsyncSession(engine))

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
