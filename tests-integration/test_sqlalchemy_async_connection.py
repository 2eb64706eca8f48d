"""`AsyncSQLAlchemyBackend` reuses the connection of the session's current transaction from
one call to the next (``AsyncSession.connection()`` is a greenlet hop), and only while that
transaction lasts: after a commit, a rollback, ``close()`` or an invalidated connection, the
next call asks the session again, on every asyncio driver."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from unittest import mock

import pytest
from event_sourcery import Event, StreamId
from event_sourcery.exceptions import StorageError
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

#: Each asyncio driver, with the database (fixture `<name>_engine`) it runs on.
DRIVERS = {
    "aiosqlite": "sqlite_file",
    "psycopg": "postgresql",
    "asyncpg": "postgresql",
    "asyncmy": "mariadb",
}


class Noted(Event):
    __event_name__ = "es_integration.async_connection.Noted"


Scenario = Callable[[AsyncSession, Any, mock.MagicMock], Awaitable[None]]


@pytest.fixture(params=list(DRIVERS))
def run(request: pytest.FixtureRequest) -> Callable[[Scenario], None]:
    database: Engine = request.getfixturevalue(f"{DRIVERS[request.param]}_engine")
    url = database.url.set(drivername=f"{database.url.get_backend_name()}+{request.param}")

    async def scenario(body: Scenario) -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with AsyncSession(engine) as session:
                with mock.patch.object(session, "connection", wraps=session.connection) as asked:
                    await body(session, AsyncSQLAlchemyBackend(session).event_store, asked)
        finally:
            await engine.dispose()

    return lambda body: asyncio.run(scenario(body))


async def _stored(store: Any, stream: StreamId) -> int:
    return len(await store.load_stream(stream))


def test_calls_in_one_transaction_ask_the_session_once(run: Callable[[Scenario], None]) -> None:
    async def body(session: AsyncSession, store: Any, asked: mock.MagicMock) -> None:
        first, second = StreamId(), StreamId()
        await store.append(Noted(), stream_id=first)
        await store.append(Noted(), stream_id=second)
        assert (await _stored(store, first), await _stored(store, second)) == (1, 1)
        assert asked.call_count == 1
        await session.commit()

    run(body)


def test_an_append_after_a_commit_is_in_a_new_transaction(
    run: Callable[[Scenario], None],
) -> None:
    async def body(session: AsyncSession, store: Any, asked: mock.MagicMock) -> None:
        kept, dropped = StreamId(), StreamId()
        await store.append(Noted(), stream_id=kept)
        await session.commit()
        await store.append(Noted(), stream_id=dropped)
        assert asked.call_count == 2
        await session.rollback()
        assert (await _stored(store, kept), await _stored(store, dropped)) == (1, 0)

    run(body)


def test_an_append_after_a_rollback_is_in_a_new_transaction(
    run: Callable[[Scenario], None],
) -> None:
    async def body(session: AsyncSession, store: Any, asked: mock.MagicMock) -> None:
        dropped, kept = StreamId(), StreamId()
        await store.append(Noted(), stream_id=dropped)
        await session.rollback()
        await store.append(Noted(), stream_id=kept)
        await session.commit()
        assert asked.call_count == 2
        assert (await _stored(store, kept), await _stored(store, dropped)) == (1, 0)

    run(body)


def test_an_append_after_close_is_in_a_new_transaction(run: Callable[[Scenario], None]) -> None:
    async def body(session: AsyncSession, store: Any, asked: mock.MagicMock) -> None:
        dropped, kept = StreamId(), StreamId()
        await store.append(Noted(), stream_id=dropped)
        await session.close()
        await store.append(Noted(), stream_id=kept)
        await session.commit()
        assert asked.call_count == 2
        assert (await _stored(store, kept), await _stored(store, dropped)) == (1, 0)

    run(body)


def test_an_invalidated_connection_is_not_reused(run: Callable[[Scenario], None]) -> None:
    async def body(session: AsyncSession, store: Any, asked: mock.MagicMock) -> None:
        dropped, kept = StreamId(), StreamId()
        await store.append(Noted(), stream_id=dropped)
        await (await session.connection()).invalidate()
        # The session's transaction is lost with its connection: the session says so.
        with pytest.raises(StorageError):
            await store.append(Noted(), stream_id=kept)
        assert asked.call_count == 3
        await session.rollback()
        await store.append(Noted(), stream_id=kept)
        await session.commit()
        assert (await _stored(store, kept), await _stored(store, dropped)) == (1, 0)

    run(body)


def test_a_savepoint_is_begun_and_left(
    run: Callable[[Scenario], None],
) -> None:
    async def body(session: AsyncSession, store: Any, asked: mock.MagicMock) -> None:
        kept, dropped, kept2 = StreamId(), StreamId(), StreamId()
        await store.append(Noted(), stream_id=kept)
        savepoint = await session.begin_nested()
        await store.append(Noted(), stream_id=dropped)
        await savepoint.rollback()
        await store.append(Noted(), stream_id=kept2)
        # Again after the savepoint: it is what emits SAVEPOINT.
        assert asked.call_count == 3
        await session.commit()
        stored = [await _stored(store, stream) for stream in (kept, dropped, kept2)]
        assert stored == [1, 0, 1]

    run(body)
