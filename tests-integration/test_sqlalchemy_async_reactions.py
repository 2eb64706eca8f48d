"""The asyncio outbox relay, projector and listeners of `AsyncSQLAlchemyBackend`, in the
session's transaction: aiosqlite and psycopg's async connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import AsyncProjector, Recorded, StreamId
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend
from event_sourcery_testing.conformance._events import Deposited, Withdrawn
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


class Boom(Exception):
    """Raised on purpose."""


@pytest.fixture(params=["sqlite_file_engine", "postgresql_engine"])
def database(request: pytest.FixtureRequest) -> Engine:
    engine: Engine = request.getfixturevalue(request.param)
    return engine


def _run(database: Engine, test: Callable[[AsyncSQLAlchemyBackend], Awaitable[Any]]) -> Any:
    """`test(backend)` on a fresh `AsyncSession` of `database`, on an event loop of its own."""

    async def main() -> Any:
        url = database.url.set(drivername=_ASYNC_DRIVERS[database.dialect.name])
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with AsyncSession(engine) as session:
                return await test(AsyncSQLAlchemyBackend(session))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_an_async_publisher_publishes_committed_entries(database: Engine) -> None:
    category = f"aout-{uuid4().hex}"

    async def test(backend: AsyncSQLAlchemyBackend) -> list[int]:
        writer = backend.with_outbox(filterer=lambda r: r.stream_id.category == category)
        stream = StreamId(category=category)
        await writer.event_store.append(Deposited(amount=1), Deposited(amount=2), stream_id=stream)
        await backend.session.commit()
        seen: list[Recorded] = []

        async def publish(record: Recorded) -> None:
            await asyncio.sleep(0)
            seen.append(record)

        while await writer.outbox.run(publish, limit=50):
            await backend.session.commit()
        await backend.session.commit()
        return [r.wrapped_event.event.amount for r in seen if r.stream_id.category == category]

    assert _run(database, test) == [1, 2]


def test_a_failing_handler_rolls_back_its_writes_and_the_checkpoint(database: Engine) -> None:
    category, read_model = f"aproj-{uuid4().hex}", StreamId(category=f"rm-{uuid4().hex}")
    name = f"aproj-{uuid4().hex}"

    async def test(backend: AsyncSQLAlchemyBackend) -> tuple[int, list[Any], int]:
        await backend.event_store.append(Deposited(amount=1), stream_id=StreamId(category=category))
        await backend.session.commit()

        async def write_then_fail(record: Recorded) -> None:
            await backend.event_store.append(Withdrawn(amount=1), stream_id=read_model)
            raise Boom

        failing = AsyncProjector(backend, name=name, handler=write_then_fail, categories=[category])
        with pytest.raises(Boom):
            await failing.run_once()
        await backend.session.rollback()
        position = await failing.position()
        written = list(await backend.event_store.load_stream(read_model))
        await backend.session.rollback()
        working = AsyncProjector(backend, name=name, handler=lambda r: None, categories=[category])
        applied = await working.run_once()
        await backend.session.commit()
        return position, written, applied

    assert _run(database, test) == (0, [], 1)


def test_a_failing_coroutine_listener_rolls_the_append_back(database: Engine) -> None:
    category = f"alisten-{uuid4().hex}"

    async def test(backend: AsyncSQLAlchemyBackend) -> list[Any]:
        async def listener(record: Recorded) -> None:
            await asyncio.sleep(0)
            raise Boom

        backend.in_transaction.register(listener, to=category)
        stream = StreamId(category=category)
        with pytest.raises(Boom):
            await backend.event_store.append(Deposited(amount=1), stream_id=stream)
        await backend.session.rollback()
        backend.in_transaction.unregister(listener)
        return list(await backend.event_store.load_stream(stream))

    assert _run(database, test) == []
