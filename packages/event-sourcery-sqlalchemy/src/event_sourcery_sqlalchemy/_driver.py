"""Hot statements run on the DB-API cursor itself, inside the SQLAlchemy connection's transaction.

SQLAlchemy's execution path (execution context, result metadata, parameter processing) cost
about 200 µs of CPU per statement on this project's CI machine, three times what psycopg itself
costs: for the one statement of a PostgreSQL append, that was most of the library's own CPU,
and what limited throughput with many concurrent writers. So the append's statement is compiled
once by SQLAlchemy and then run by the driver directly.

Only with psycopg 3, which takes the compiled parameters as they are (native uuid, datetime,
lists), so nothing SQLAlchemy would process is skipped. Trade-off, documented for users:
SQLAlchemy's ``before_cursor_execute`` / ``after_cursor_execute`` events and engine logging
(``echo``) do not see these statements. Errors are raised as SQLAlchemy's own exception classes
(IntegrityError and so on), and a lost connection is invalidated, as SQLAlchemy would.

Reads (`fetch_events`) run so on every dialect: there SQLAlchemy's result rows cost a sixth of
a load. Other drivers than psycopg 3 get their parameters as SQLAlchemy would bind them: each
through its type's bind processor (a uuid as hex text on SQLite and MariaDB), in the order of
the compiled statement's placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
        raw = connection.connection
        dialect = connection.dialect
        cursor = raw.cursor()
        try:
            cursor.execute(self.sql, self._arguments(params))
            return list(cursor.fetchall())
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, raw.dbapi_connection, cursor)
            if lost:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(
                self.sql,
                params,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        finally:
            cursor.close()
