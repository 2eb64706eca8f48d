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

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Dialect, Table, exc
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


class Outcome(NamedTuple):
    """What a statement run on the DB-API cursor gave."""

    rows: list[Any]
    rowcount: int
    lastrowid: Any


def run(connection: Connection, sql: str, arguments: Any) -> list[Any]:
    """Run `sql` on the DB-API cursor, in `connection`'s transaction; the rows it returns."""
    return execute(connection, sql, arguments).rows


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


_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_NOTHING = object()


class DriverInsert:
    """A multi-row ``INSERT ... RETURNING id`` of `columns` into `table`, on the DB-API cursor.

    For SQLite and MariaDB, whose drivers take positional parameters: SQLAlchemy's executemany
    path processed every row's parameters in Python (a third of a 100-event append's CPU).
    Values go through the same bind processors SQLAlchemy would apply (a uuid as hex text, a
    SQLite timestamp as its text); `text_columns` are bound as text as they are.
    """

    #: Rows per statement: 500 rows of 9 values stay far below every driver's limit.
    CHUNK = 500

    def __init__(
        self, table: Table, columns: Sequence[str], dialect: Dialect, text_columns: Sequence[str]
    ) -> None:
        prepare = dialect.identifier_preparer
        mark = _MARKS[dialect.paramstyle]
        names = ", ".join(prepare.quote(name) for name in columns)
        self._head = f"INSERT INTO {prepare.format_table(table)} ({names}) VALUES "
        self._row = f"({', '.join([mark] * len(columns))})"
        self._tail = f" RETURNING {prepare.quote('id')}"
        self._statements: dict[int, str] = {}
        self.processors: list[tuple[int, Callable[[Any], Any]]] = []
        for index, name in enumerate(columns):
            if name not in text_columns:
                process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    self.processors.append((index, process))

    @staticmethod
    def supports(dialect: Dialect) -> bool:
        """Whether `dialect` may insert so: SQLite or MariaDB/MySQL with RETURNING."""
        family = dialect.name in ("sqlite", "mysql", "mariadb")
        return family and dialect.paramstyle in _MARKS and bool(dialect.insert_returning)

    def ids(self, connection: Connection, rows: list[list[Any]]) -> list[int]:
        """Insert `rows` (values in `columns` order, processed here); the new rows' ids."""
        for index, process in self.processors:
            # The events of one append usually share their creation time: process it once.
            last, processed = _NOTHING, None
            for row in rows:
                value = row[index]
                if value is not last:
                    last, processed = value, process(value)
                row[index] = processed
        ids: list[int] = []
        for start in range(0, len(rows), self.CHUNK):
            chunk = rows[start : start + self.CHUNK]
            sql = self._statements.get(len(chunk))
            if sql is None:
                sql = self._head + ", ".join([self._row] * len(chunk)) + self._tail
                if len(self._statements) < self.CHUNK:
                    self._statements[len(chunk)] = sql
            arguments = [value for row in chunk for value in row]
            ids.extend(int(row[0]) for row in run(connection, sql, arguments))
        return ids
