"""The asyncio runner: the SQL core's statements on the asyncio driver's own connection.

The twin of `_driver` for an `AsyncSession`: each statement runs on the connection of the
asyncio driver that SQLAlchemy's pool holds for the session's `AsyncConnection`, reached as
SQLAlchemy documents it: ``connection.get_raw_connection()`` (read without awaiting where
the connection holds it), then ``.driver_connection``. Errors become SQLAlchemy's classes
(`_driver.wrapped`), and a lost connection is invalidated, as the sync runner does.

The drivers differ, and this module is the one place that says how (`_Driver`, one per
driver, chosen once per connection); the statements and what they decide are the SQL core's:

- **aiosqlite** and **psycopg** (``AsyncConnection``): ``await connection.execute(sql,
  params)`` returns a cursor whose rows are awaited; aiosqlite takes ``?`` placeholders, and
  a statement runs on its thread as one function (one hop where its cursor's calls take three).
- **asyncmy** (MariaDB): a cursor first (``connection.cursor()``), then the same; its errors
  carry the server's errno as PyMySQL's do (``args[0]``), so they are read alike. Chosen
  over aiomysql, which is built on PyMySQL and would have shared its error classes and
  conversions, because aiomysql (0.3.2, its latest) imports a PyMySQL helper that PyMySQL
  1.2 removed: every bytes parameter (an encryption key) fails with a ``TypeError`` unless
  PyMySQL is held below 1.2, for the sync driver too. asyncmy implements the protocol
  itself (in Cython, installed from wheels).
- **asyncpg** has no DB-API cursor: ``$1`` placeholders, prepared statements (kept per
  connection, as asyncpg's own ``fetch`` does) whose status string (``UPDATE 1``) gives the
  row count, and errors of its own classes, sorted into PEP 249's by their SQLSTATE
  (`event_sourcery.sql.dbapi_class_of`) as SQLAlchemy's adapted DB-API classes, so that they
  mean what psycopg's do. SQLAlchemy's asyncpg adapter begins its transaction lazily, at its
  own cursor's first statement: the runner begins it when a session's transaction has not.
- **LISTEN**: psycopg waits with ``notifies()``, asyncpg calls back (``add_listener``); the
  others have no notifications (`listen` returns None).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from contextlib import aclosing
from typing import Any, NoReturn

from event_sourcery.exceptions import StorageError
from event_sourcery.sql import Outcome, Statement, dbapi_class_of
from sqlalchemy import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import PoolProxiedConnection

from event_sourcery_sqlalchemy._driver import cached_qmark, numbered, wrapped

#: Prepared statements an asyncpg connection keeps (the flavours' texts are few).
_PREPARED_PER_CONNECTION = 256
_PREPARED = "event_sourcery.prepared"
_STATUS_COUNT = re.compile(r"(\d+)$")


class _Driver:
    """How one asyncio driver runs a statement: psycopg's ``AsyncConnection`` here."""

    def placeholders(self, sql: str) -> str:
        return sql

    async def begin(self, raw: PoolProxiedConnection) -> None:
        """Make sure the statements run in the session's transaction (where it has one)."""

    async def execute(self, raw: PoolProxiedConnection, sql: str, params: Any) -> Outcome:
        connection: Any = raw.driver_connection
        return await _fetched(await connection.execute(sql, params))

    async def listen(self, raw: PoolProxiedConnection, channel: str) -> Notifications | None:
        """Listen on `channel` (the name, unquoted) on the connection of `raw`; None where
        the driver does not wait for notifications."""
        return None


async def _fetched(cursor: Any) -> Outcome:
    try:
        rows = list(await cursor.fetchall()) if cursor.description is not None else []
        return Outcome(rows, cursor.rowcount, getattr(cursor, "lastrowid", None))
    finally:
        await cursor.close()


def _sqlite_outcome(connection: Any, sql: str, params: Any) -> Outcome:
    """A statement on aiosqlite's thread, on its `sqlite3` connection: what `_fetched` gives."""
    cursor = connection._conn.execute(sql, params)
    try:
        rows = cursor.fetchall() if cursor.description is not None else []
        return Outcome(rows, cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()


class Notifications:
    """A connection listening on a channel: `wait` for a notification, `stop` listening."""

    async def wait(self, timeout: float) -> None:
        """Return at the first notification (or one that came since the last wait), or after
        `timeout` seconds."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop listening (the connection goes back to the pool)."""
        raise NotImplementedError


class _Psycopg(_Driver):
    async def listen(self, raw: PoolProxiedConnection, channel: str) -> Notifications:
        connection: Any = raw.driver_connection
        quoted = '"' + channel.replace('"', '""') + '"'
        await connection.execute(f"LISTEN {quoted}")
        return _PsycopgNotifications(connection, quoted)


class _PsycopgNotifications(Notifications):
    def __init__(self, connection: Any, quoted: str) -> None:
        self._connection, self._quoted = connection, quoted

    async def wait(self, timeout: float) -> None:
        # Notifications that came during other statements wait in psycopg's backlog, which
        # exists only while no `notifies()` generator is open: each is run to its end (a
        # `break` would leave it open until the loop finalizes it, and a notification that
        # came meanwhile, during the next read, say, would be dropped).
        async with aclosing(self._connection.notifies(timeout=timeout, stop_after=1)) as first:
            async for _ in first:
                pass
        async with aclosing(self._connection.notifies(timeout=0)) as rest:
            async for _ in rest:
                pass  # the rest of the burst: one read takes them all

    async def stop(self) -> None:
        await self._connection.execute(f"UNLISTEN {self._quoted}")


class _Aiosqlite(_Driver):
    def placeholders(self, sql: str) -> str:
        return cached_qmark(sql)

    async def execute(self, raw: PoolProxiedConnection, sql: str, params: Any) -> Outcome:
        connection: Any = raw.driver_connection
        # One hop to aiosqlite's thread per statement where its public calls take three
        # (execute, fetchall, close): the whole statement runs there as one function, through
        # the queue its public calls use (``_execute``, in the aiosqlite versions the extra
        # allows; should a release drop it, those three calls).
        submit = getattr(connection, "_execute", None)
        if submit is None:
            return await super().execute(raw, sql, params)
        outcome: Outcome = await submit(_sqlite_outcome, connection, sql, params)
        return outcome


class _Asyncmy(_Driver):
    async def execute(self, raw: PoolProxiedConnection, sql: str, params: Any) -> Outcome:
        connection: Any = raw.driver_connection
        cursor = connection.cursor()
        try:
            await cursor.execute(sql, params)
        except BaseException:
            await cursor.close()
            raise
        return await _fetched(cursor)


class _Asyncpg(_Driver):
    def placeholders(self, sql: str) -> str:
        return numbered(sql)

    async def begin(self, raw: PoolProxiedConnection) -> None:
        adapter: Any = raw.dbapi_connection
        connection: Any = raw.driver_connection
        if not connection.is_in_transaction():
            # What SQLAlchemy's adapter does before its own cursor's first statement (a no-op
            # in autocommit); its commit and rollback then end this transaction.
            await adapter._start_transaction()

    async def execute(self, raw: PoolProxiedConnection, sql: str, params: Any) -> Outcome:
        prepared: dict[str, Any] = raw.info.setdefault(_PREPARED, {})
        statement = prepared.get(sql)
        if statement is None:
            connection: Any = raw.driver_connection
            statement = await connection.prepare(sql)
            if len(prepared) >= _PREPARED_PER_CONNECTION:
                del prepared[next(iter(prepared))]
            prepared[sql] = statement
        try:
            rows = await statement.fetch(*params)
        except BaseException:
            # Prepared again next time: a schema change may have made it stale.
            prepared.pop(sql, None)
            raise
        count = _STATUS_COUNT.search(statement.get_statusmsg() or "")
        return Outcome(rows, int(count[1]) if count else -1, None)

    async def listen(self, raw: PoolProxiedConnection, channel: str) -> Notifications:
        connection: Any = raw.driver_connection
        notifications = _AsyncpgNotifications(connection, channel)
        await connection.add_listener(channel, notifications.notified)
        return notifications


class _AsyncpgNotifications(Notifications):
    def __init__(self, connection: Any, channel: str) -> None:
        self._connection, self._channel = connection, channel
        self._notified = asyncio.Event()

    def notified(self, *_: Any) -> None:
        self._notified.set()

    async def wait(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._notified.wait()
        except TimeoutError:
            return
        self._notified.clear()

    async def stop(self) -> None:
        await self._connection.remove_listener(self._channel, self.notified)


_DRIVERS: dict[str, _Driver] = {
    "aiosqlite": _Aiosqlite(),
    "psycopg": _Psycopg(),
    "asyncpg": _Asyncpg(),
    "asyncmy": _Asyncmy(),
}


def _driver_of(dialect: Dialect) -> _Driver:
    driver = _DRIVERS.get(dialect.driver)
    if driver is None:
        raise StorageError(
            f"AsyncSQLAlchemyBackend runs its statements on the asyncio driver, and does not "
            f"know {dialect.driver!r}; supported: {', '.join(sorted(_DRIVERS))}."
        )
    return driver


class AsyncRunner:
    """The SQL protocol's `run` for `drive_async` on `connection` (call `open` first): each
    statement on the asyncio driver's connection, in `connection`'s transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._dialect = connection.dialect
        self._driver = _driver_of(self._dialect)
        self._raw: PoolProxiedConnection | None = None

    async def open(self) -> AsyncRunner:
        """Reach the driver's connection and begin the session's transaction on it."""
        self._raw = raw = await _raw_connection(self._connection)
        try:
            await self._driver.begin(raw)
        except Exception as error:
            await self._raise(error, "BEGIN", ())
        return self

    @property
    def raw(self) -> PoolProxiedConnection:
        assert self._raw is not None, "AsyncRunner.open() first"
        return self._raw

    async def __call__(self, statement: Statement) -> Outcome:
        sql = self._driver.placeholders(statement.sql)
        try:
            return await self._driver.execute(self.raw, sql, statement.params)
        except Exception as error:
            await self._raise(error, sql, statement.params)

    async def listen(self, channel: str) -> Notifications | None:
        """Listen on `channel` on this connection (None: the driver has no notifications);
        errors as SQLAlchemy's, as the statements'."""
        try:
            return await self._driver.listen(self.raw, channel)
        except Exception as error:
            await self._raise(error, f"LISTEN {channel}", ())

    async def guarded(self, action: Awaitable[None], what: str) -> None:
        """Await `action` (a wait or a stop of `Notifications`), its errors as SQLAlchemy's."""
        try:
            await action
        except Exception as error:
            await self._raise(error, what, ())

    async def _raise(self, error: Exception, sql: str, params: Any) -> NoReturn:
        """Raise the driver's `error` as SQLAlchemy's class, invalidating a lost connection;
        an error that is not the database's goes on as it is."""
        adapted = _adapted(self._dialect, error)
        if adapted is None:
            raise error
        raw = self._raw
        lost = raw is not None and self._dialect.is_disconnect(adapted, raw.dbapi_connection, None)
        if lost:
            await self._connection.invalidate(adapted)
        raise wrapped(self._dialect, sql, params, adapted, lost=lost) from error


async def _raw_connection(connection: AsyncConnection) -> PoolProxiedConnection:
    """The pool's connection `connection` holds: read where it holds one (no I/O, and no
    greenlet, which ``get_raw_connection`` spawns for every call, a good part of a short
    statement's time), else ``get_raw_connection`` (which may reconnect)."""
    sync = connection.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        return sync.connection
    return await connection.get_raw_connection()


def _adapted(dialect: Dialect, error: Exception) -> Any:
    """The driver's `error` as an error of `dialect`'s DB-API classes; None if it is not the
    database's."""
    dbapi = dialect.loaded_dbapi
    if isinstance(error, dbapi.Error):
        return error
    name = dbapi_class_of(error)
    # SQLAlchemy's adapted DB-API class, for a driver that has none (asyncpg).
    return None if name is None else getattr(dbapi, name)(str(error), error)


async def connected(connecting: Awaitable[AsyncConnection], dialect: Dialect) -> AsyncConnection:
    """The connection `connecting` gives; a driver's error as SQLAlchemy's class (SQLAlchemy
    leaves some of asyncpg's as they are: a refused connection is an `OSError`)."""
    try:
        return await connecting
    except Exception as error:
        adapted = _adapted(dialect, error)
        if adapted is None or adapted is error:
            raise
        raise wrapped(dialect, "", (), adapted, lost=True) from error


async def async_runner(connection: AsyncConnection) -> AsyncRunner:
    """The SQL protocol's `run` for `drive_async`: each statement on the asyncio driver's
    connection, in `connection`'s transaction."""
    return await AsyncRunner(connection).open()
