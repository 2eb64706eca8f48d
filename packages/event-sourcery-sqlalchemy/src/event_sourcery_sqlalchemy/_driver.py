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

Reads (`fetch_events`) are compiled once by SQLAlchemy and run so on every dialect
(`DriverStatement`): there SQLAlchemy's result rows cost a sixth of a load. Drivers other than
psycopg 3, which takes the compiled parameters as they are, get their parameters as SQLAlchemy
would bind them: each through its type's bind processor (a uuid as hex text on SQLite and
MariaDB), in the order of the compiled statement's placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from event_sourcery.sql import Outcome, Statement, qmark
from sqlalchemy import Connection, Dialect, exc
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


def takes_compiled_params(dialect: Dialect) -> bool:
    """Whether statements may run on `dialect`'s DB-API cursor with the compiled parameters."""
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


class DriverStatement:
    """`statement` compiled once for `dialect`, run on the DB-API cursor."""

    __slots__ = ("_order", "_processors", "fixed", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # a statement compiles to SQL
        self.sql = compiled.string
        # Values bound in the statement itself (literals); the caller gives every other one.
        self.fixed = {key: value for key, value in compiled.params.items() if value is not None}
        self._processors: dict[str, Callable[[Any], Any]] = {}
        if not takes_compiled_params(dialect):
            for key, bind in compiled.binds.items():
                process = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    self._processors[key] = process
        self._order = list(compiled.positiontup or ()) if compiled.positional else None

    def _arguments(self, params: dict[str, Any]) -> Any:
        values = {**self.fixed, **params}
        for key, process in self._processors.items():
            if key in values:
                values[key] = process(values[key])
        if self._order is None:
            return values
        return [values[key] for key in self._order]

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[Any]:
        """Run it in `connection`'s transaction; the rows it returns."""
        return run(connection, self.sql, self._arguments(params))

    def outcome(self, connection: Connection, params: dict[str, Any]) -> Outcome:
        """Run it in `connection`'s transaction; its rows, row count and last row id."""
        return execute(connection, self.sql, self._arguments(params))


def run(connection: Connection, sql: str, arguments: Any) -> list[Any]:
    """Run `sql` on the DB-API cursor, in `connection`'s transaction; the rows it returns."""
    return execute(connection, sql, arguments).rows


def runner(connection: Connection) -> Callable[[Statement], Outcome]:
    """The SQL protocol's `run` (see `event_sourcery.sql.drive`): each statement on the
    DB-API cursor, in `connection`'s transaction; ``?`` placeholders where the driver takes
    them (sqlite3)."""
    if connection.dialect.paramstyle == "qmark":

        def run_qmark(statement: Statement) -> Outcome:
            return execute(connection, _qmark(statement.sql), statement.params)

        return run_qmark

    def run(statement: Statement) -> Outcome:
        return execute(connection, statement.sql, statement.params)

    return run


# The flavours build a statement's text once, so the same few texts come back.
_qmark = lru_cache(maxsize=1024)(qmark)


def execute(connection: Connection, sql: str, arguments: Any) -> Outcome:
    """Run `sql` on the DB-API cursor, in `connection`'s transaction.

    Errors come as SQLAlchemy's own exception classes, and a lost connection is invalidated,
    as SQLAlchemy's execution would do.
    """
    raw = connection.connection
    dialect = connection.dialect
    cursor = raw.cursor()
    try:
        cursor.execute(sql, arguments)
        rows = list(cursor.fetchall()) if cursor.description is not None else []
        return Outcome(rows, cursor.rowcount, getattr(cursor, "lastrowid", None))
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, raw.dbapi_connection, cursor)
        if lost:
            connection.invalidate(error)
        raise exc.DBAPIError.instance(
            sql,
            arguments,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        ) from error
    finally:
        cursor.close()
