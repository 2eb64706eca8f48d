"""Each asyncio driver's errors become the same Event Sourcery errors: a missing table says how
to create the tables, a server that cannot be reached says so, on every driver."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from event_sourcery import Event, StreamId
from event_sourcery.exceptions import StorageError
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

DRIVERS = [
    ("sqlite", "aiosqlite"),
    ("postgresql", "psycopg"),
    ("postgresql", "asyncpg"),
    ("mariadb", "asyncmy"),
]


class Probed(Event):
    __event_name__ = "es_integration.Probed"


async def _append(url: URL) -> None:
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine) as session:
            store = AsyncSQLAlchemyBackend(session).event_store
            await store.append(Probed(), stream_id=StreamId())
    finally:
        await engine.dispose()


@pytest.mark.parametrize(("server", "driver"), DRIVERS)
def test_missing_tables_say_how_to_create_them(
    empty_database: Callable[[str], URL], server: str, driver: str
) -> None:
    url = empty_database(server)
    url = url.set(drivername=f"{url.get_backend_name()}+{driver}")
    with pytest.raises(StorageError, match=r"configure_models\(Base\)"):
        asyncio.run(_append(url))


@pytest.mark.parametrize(("server", "driver"), [d for d in DRIVERS if d[0] != "sqlite"])
def test_an_unreachable_server_is_a_storage_error(
    empty_database: Callable[[str], URL], server: str, driver: str
) -> None:
    url = empty_database(server)
    # A port nothing listens on.
    url = url.set(drivername=f"{url.get_backend_name()}+{driver}", port=1)
    # The message says what failed to connect (connection failures quote no event data).
    with pytest.raises(StorageError, match=r"(?i)refused|connect call failed"):
        asyncio.run(_append(url))
