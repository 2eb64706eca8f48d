"""The asyncio runner: the SQL core's statements on the asyncio driver's own connection.

The twin of `_driver` for an `AsyncSession`: each statement runs on the connection of the
asyncio driver (aiosqlite's, psycopg's `AsyncConnection`) that SQLAlchemy's pool holds for the
session's `AsyncConnection`, reached as SQLAlchemy documents it: ``await
connection.get_raw_connection()``, then ``.driver_connection``. Both drivers offer
``await connection.execute(sql, params)`` returning a cursor whose rows are awaited; that is
all this runner asks of one. Errors become SQLAlchemy's classes (`_driver.wrapped`), and a
lost connection is invalidated, as the sync runner does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from event_sourcery.sql import Outcome, Statement
from sqlalchemy.ext.asyncio import AsyncConnection

from event_sourcery_sqlalchemy._driver import cached_qmark, takes_qmark, wrapped

AsyncRun = Callable[[Statement], Awaitable[Outcome]]


async def async_runner(connection: AsyncConnection) -> AsyncRun:
    """The SQL protocol's `run` for `drive_async`: each statement on the asyncio driver's
    connection, in `connection`'s transaction."""
    dialect = connection.dialect
    qmark = takes_qmark(dialect)
    fairy = await connection.get_raw_connection()
    driver = fairy.driver_connection

    async def run(statement: Statement) -> Outcome:
        sql = cached_qmark(statement.sql) if qmark else statement.sql
        try:
            return await _execute(driver, sql, statement.params)
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, fairy.dbapi_connection, None)
            if lost:
                await connection.invalidate(error)
            raise wrapped(dialect, sql, statement.params, error, lost=lost) from error

    return run


async def _execute(driver: Any, sql: str, arguments: Any) -> Outcome:
    cursor = await driver.execute(sql, arguments)
    try:
        rows = list(await cursor.fetchall()) if cursor.description is not None else []
        return Outcome(rows, cursor.rowcount, getattr(cursor, "lastrowid", None))
    finally:
        await cursor.close()
