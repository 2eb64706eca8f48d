"""Async subscriptions on PostgreSQL wake up at a commit (LISTEN/NOTIFY through the asyncio
driver, no thread) and give their connection back when the task iterating them is cancelled.

Both for each of PostgreSQL's asyncio drivers: psycopg's ``AsyncConnection`` and asyncpg.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import uuid4

import pytest
from event_sourcery import Event, StreamId
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

DRIVERS = ["psycopg", "asyncpg"]
T = TypeVar("T")


class Rang(Event):
    __event_name__ = "es_integration.Rang"
    n: int


def _async_engine(engine: Engine, driver: str) -> AsyncEngine:
    # LIFO: the connection a cursor gave back is the next one handed out.
    url = engine.url.set(drivername=f"postgresql+{driver}")
    return create_async_engine(url, pool_size=3, max_overflow=0, pool_use_lifo=True)


async def _position(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as session:
        return await AsyncSQLAlchemyBackend(session).event_store.position()


async def _append(engine: AsyncEngine, category: str) -> float:
    """Append one event to `category` and commit; the time of the commit."""
    async with AsyncSession(engine) as session:
        await AsyncSQLAlchemyBackend(session).event_store.append(
            Rang(n=1), stream_id=StreamId(category=category)
        )
        await session.commit()
    return time.monotonic()


async def _wakes_at_commit(engine: AsyncEngine) -> float:
    category = f"rang-{uuid4().hex}"
    start = await _position(engine)
    async with AsyncSession(engine) as session:
        subscriber = AsyncSQLAlchemyBackend(session).subscriber
        records = subscriber.start_from(start).to_category(category).build_iter(timelimit=60)
        try:
            waiting = asyncio.create_task(anext(records))
            # Past the second of fast polling after the cursor's last read: a subscription
            # that missed the notification would read again only after its fallback (2 s).
            await asyncio.sleep(1.2)
            assert not waiting.done()
            committed = await _append(engine, category)
            record = await asyncio.wait_for(waiting, 10)
            woke = time.monotonic() - committed
            assert record is not None
            assert record.wrapped_event.event == Rang(n=1)
            return woke
        finally:
            await records.aclose()


def _run(engine: Engine, driver: str, check: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """`check` on an async engine of `driver` on `engine`'s database, disposed after."""
    async_engine = _async_engine(engine, driver)

    async def run() -> T:
        try:
            return await check(async_engine)
        finally:
            await async_engine.dispose()

    return asyncio.run(run())


@pytest.mark.parametrize("driver", DRIVERS)
def test_waiting_subscriber_wakes_at_a_commit(postgresql_engine: Engine, driver: str) -> None:
    woke = _run(postgresql_engine, driver, _wakes_at_commit)
    assert woke < 0.6, f"delivered {woke:.2f} s after the commit"


async def _listening_channels(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql("SELECT pg_listening_channels()")
        return [row[0] for row in result]


async def _cancelled_gives_back(engine: AsyncEngine) -> None:
    start = await _position(engine)
    async with AsyncSession(engine) as session:
        subscriber = AsyncSQLAlchemyBackend(session).subscriber
        records = subscriber.start_from(start).to_category(f"c-{uuid4().hex}").build_iter(60)
        waiting = asyncio.create_task(anext(records))
        await asyncio.sleep(0.5)
        pool = engine.pool
        assert pool.checkedout() == 1  # the cursor's own connection, waiting on LISTEN
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        assert waiting.cancelled()
        assert pool.checkedout() == 0
        assert pool.checkedin() >= 1  # given back, not thrown away
        # The connection handed out next is that one, usable and listening no more.
        assert await _listening_channels(engine) == []
        assert pool.checkedout() == 0


@pytest.mark.parametrize("driver", DRIVERS)
def test_cancelling_the_iterating_task_gives_the_connection_back(
    postgresql_engine: Engine, driver: str
) -> None:
    _run(postgresql_engine, driver, _cancelled_gives_back)
