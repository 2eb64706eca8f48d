"""Hot statements run on the DB-API cursor itself, inside the SQLAlchemy connection's transaction.

SQLAlchemy's execution path (execution context, result metadata, parameter processing) cost
about 200 µs of CPU per statement on this project's CI machine, three times what psycopg itself
costs: for the one statement of a PostgreSQL append, that was most of the library's own CPU,
and what limited throughput with many concurrent writers. So the append (the SQL protocol of
`event_sourcery.sql`, whose flavours bind values as the columns store them) runs on the
driver directly (`runner`).

Trade-off, documented for users: SQLAlchemy's ``before_cursor_execute`` /
``after_cursor_execute`` events and engine logging (``echo``) do not see these statements.
Errors are raised as SQLAlchemy's own exception classes (IntegrityError and so on), and a lost
connection is invalidated, as SQLAlchemy would.

Every statement of the SQL core's protocols runs so: their text is the flavour's, with ``%s``
placeholders, turned into ``?`` or ``$1`` for drivers that take those (sqlite3, asyncpg).
Drivers with another parameter style are refused with a `StorageError` naming the supported
ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from event_sourcery.exceptions import StorageError
from event_sourcery.sql import Outcome, Statement, qmark
from sqlalchemy import Connection, Dialect, exc


def runner(connection: Connection) -> Callable[[Statement], Outcome]:
    """The SQL protocol's `run` (see `event_sourcery.sql.drive`): each statement on the
    DB-API cursor, in `connection`'s transaction, with the placeholders its driver takes."""
    rewrite = placeholders(connection.dialect)
    if rewrite is not None:

        def run_rewritten(statement: Statement) -> Outcome:
            return execute(connection, rewrite(statement.sql), statement.params)

        return run_rewritten

    def run(statement: Statement) -> Outcome:
        return execute(connection, statement.sql, statement.params)

    return run


def placeholders(dialect: Dialect) -> Callable[[str], str] | None:
    """How a statement's ``%s`` placeholders become those `dialect`'s driver takes: ``?``
    (sqlite3, aiosqlite), ``$1`` (asyncpg, also through SQLAlchemy's adapted cursor that a
    sync session of an `AsyncSession` runs on); None where ``%s`` is taken as it is.
    `StorageError` for a driver whose parameter style the runners do not write."""
    if dialect.paramstyle in ("format", "pyformat"):
        return None
    if dialect.paramstyle == "qmark":
        return cached_qmark
    if dialect.paramstyle == "numeric_dollar":
        return numbered
    raise StorageError(
        f"Event Sourcery runs its statements on the DB-API driver, and {dialect.driver!r} "
        f"uses the {dialect.paramstyle!r} parameter style; supported: qmark, format, "
        "pyformat, numeric_dollar (sqlite3, aiosqlite, psycopg, psycopg2, PyMySQL, "
        "mysqlclient, asyncmy, asyncpg)."
    )


# The flavours build a statement's text once, so the same few texts come back (to the
# sync and the asyncio runners).
cached_qmark = lru_cache(maxsize=1024)(qmark)


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """`sql` with ``$1, $2, ...`` placeholders instead of ``%s`` (and ``%%`` as ``%``)."""
    numbers = iter(range(1, sql.count("%s") + 1))
    return re.sub("%[s%]", lambda found: "%" if found[0] == "%%" else f"${next(numbers)}", sql)


def execute(connection: Connection, sql: str, arguments: Any) -> Outcome:
    """Run `sql` on the DB-API cursor, in `connection`'s transaction.

    Errors come as SQLAlchemy's own exception classes, and a lost connection is invalidated,
    as SQLAlchemy's execution would do.
    """
    raw = connection.connection
    dbapi = raw.dbapi_connection
    assert dbapi is not None  # a checked-out connection holds one
    cursor = dbapi.cursor()  # the pool's proxy would add a call per statement
    try:
        cursor.execute(sql, arguments)
        rows = list(cursor.fetchall()) if cursor.description is not None else []
        return Outcome(rows, cursor.rowcount, getattr(cursor, "lastrowid", None))
    except connection.dialect.loaded_dbapi.Error as error:
        dialect = connection.dialect
        lost = dialect.is_disconnect(error, dbapi, cursor)
        if lost:
            connection.invalidate(error)
        raise wrapped(dialect, sql, arguments, error, lost=lost) from error
    finally:
        cursor.close()


def wrapped(
    dialect: Dialect, sql: str, arguments: Any, error: Exception, *, lost: bool
) -> exc.StatementError:
    """The driver's `error` as SQLAlchemy's own exception class (IntegrityError, ...), as its
    execution would raise it; for the sync and the asyncio runners alike."""
    return exc.DBAPIError.instance(
        sql,
        arguments,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
