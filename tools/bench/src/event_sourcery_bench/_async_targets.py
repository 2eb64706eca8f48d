"""The asyncio targets: `AsyncSQLAlchemyBackend` on an async driver, against the raw asyncio
driver doing the same work.

An async target shares the database (and tables) of a sync target, its `base`: aiosqlite the
`sqlite-wal` files, psycopg's async connection and asyncpg the `postgresql` database. The
library's engine is made inside each run (an asyncio engine's connections belong to the event
loop that made them, and each run is its own `asyncio.run`). The raw side is aiosqlite on
SQLite and asyncpg on PostgreSQL, whichever driver the library runs on there.
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from event_sourcery import StreamId
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from event_sourcery_bench._payload import payment
from event_sourcery_bench._targets import Target

#: The library's async drivers, each with the sync target whose database it shares.
ASYNC_DRIVERS = {"aiosqlite": "sqlite-wal", "psycopg": "postgresql", "asyncpg": "postgresql"}
_SQLALCHEMY_DRIVER = {
    "aiosqlite": "sqlite+aiosqlite",
    "psycopg": "postgresql+psycopg",
    "asyncpg": "postgresql+asyncpg",
}
_INSERT = (
    "INSERT INTO raw_events (stream_id, version, type, data, created_at) VALUES (?, ?, ?, ?, ?)"
)


def numbered(sql: str) -> str:
    """`sql` with its `?` placeholders as asyncpg's `$1, $2, ...`."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


class RawAsync(ABC):
    """The raw asyncio driver's connection, doing what the sync baselines do: each call one
    transaction (an explicit one, as the sync baselines' DB-API connections open one)."""

    @abstractmethod
    async def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert `rows` into `raw_events` (one `execute`, or `executemany`) and commit."""

    @abstractmethod
    async def select(self, sql: str, params: tuple[Any, ...]) -> Sequence[Sequence[Any]]:
        """The rows of `sql` (with `?` placeholders), read in a transaction of its own."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection."""


class _Aiosqlite(RawAsync):
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if len(rows) == 1:
            await self._connection.execute(_INSERT, rows[0])
        else:
            await self._connection.executemany(_INSERT, rows)
        await self._connection.commit()

    async def select(self, sql: str, params: tuple[Any, ...]) -> Sequence[Sequence[Any]]:
        rows = await self._connection.execute_fetchall(sql, params)
        await self._connection.commit()
        return list(rows)

    async def close(self) -> None:
        await self._connection.close()


class _Asyncpg(RawAsync):
    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._insert = numbered(_INSERT)

    async def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        async with self._connection.transaction():
            if len(rows) == 1:
                await self._connection.execute(self._insert, *rows[0])
            else:
                await self._connection.executemany(self._insert, rows)

    async def select(self, sql: str, params: tuple[Any, ...]) -> Sequence[Sequence[Any]]:
        async with self._connection.transaction():
            return list(await self._connection.fetch(numbered(sql), *params))

    async def close(self) -> None:
        await self._connection.close()


@dataclass(frozen=True)
class AsyncSide:
    """What makes a target an asyncio one: the driver, the library's URL, the raw driver."""

    driver: str  # "aiosqlite", "psycopg" or "asyncpg"
    url: str  # the library's SQLAlchemy URL (an async driver)
    raw: Callable[[], Awaitable[RawAsync]]
    #: The sync target on the same database: its W1 is W7's baseline, its ratios the goals.
    base: Target

    @asynccontextmanager
    async def engine(self, *, pool_size: int = 5) -> AsyncIterator[AsyncEngine]:
        """An engine on this loop, disposed after use."""
        engine = create_async_engine(self.url, pool_size=pool_size, max_overflow=0)
        try:
            yield engine
        finally:
            await engine.dispose()


def _raw_factory(driver: str, base: Target) -> Callable[[], Awaitable[RawAsync]]:
    if driver == "aiosqlite":
        import aiosqlite

        path = base.raw_file

        async def sqlite() -> RawAsync:
            return _Aiosqlite(await aiosqlite.connect(path))  # type: ignore[arg-type]

        return sqlite
    import asyncpg  # type: ignore[import-untyped]  # asyncpg-stubs is not in the dev group

    assert base.engine is not None
    url = base.engine.url

    async def postgresql() -> RawAsync:
        return _Asyncpg(
            await asyncpg.connect(
                host=url.host,
                port=url.port or 5432,
                user=url.username,
                password=url.password or None,
                database=url.database,
            )
        )

    return postgresql


async def _probe(side: AsyncSide) -> None:
    """One append and commit through the library, and a raw connection: a driver the library
    cannot run on is found here, before any row is measured."""
    async with side.engine(pool_size=1) as engine, AsyncSession(engine) as session:
        await AsyncSQLAlchemyBackend(session).event_store.append(payment(0), stream_id=StreamId())
        await session.commit()
    raw = await side.raw()
    await raw.close()


def async_target(driver: str, base: Target) -> Target:
    """The asyncio target of `driver` on `base`'s database (probed: raises if unusable)."""
    assert base.engine is not None
    url = make_url(base.engine.url).set(drivername=_SQLALCHEMY_DRIVER[driver])
    side = AsyncSide(
        driver, url.render_as_string(hide_password=False), _raw_factory(driver, base), base
    )
    asyncio.run(_probe(side))
    name = f"{base.name}+{driver}" if driver != "psycopg" else f"{base.name}+psycopg-async"
    return Target(name, base.dialect, None, None, raw_family=base.family, async_side=side)
