"""The SQL core's protocols (`event_sourcery.sql`) driven on a SQLAlchemy connection.

Statements run on the DB-API cursor of the connection (`_driver.execute`), in its current
transaction; errors come as SQLAlchemy's own classes.
"""

from __future__ import annotations

from collections.abc import Callable

from event_sourcery.sql import Flavour, Outcome, Statement, Tables, flavour_for, qmark
from sqlalchemy import Connection, Dialect

from event_sourcery_sqlalchemy import _driver
from event_sourcery_sqlalchemy._models import SQLAlchemyModels


def flavour_of(models: SQLAlchemyModels, dialect: Dialect) -> Flavour:
    """The flavour of `dialect` for the tables of `models`, built once and then reused."""
    key = ("flavour", dialect.name)
    flavour: Flavour | None = models.cache.get(key)
    if flavour is None:
        table = dialect.identifier_preparer.format_table
        uuid_type = models.events.c.uuid.type.dialect_impl(dialect)
        tables = Tables(
            streams=table(models.streams),
            events=table(models.events),
            snapshots=table(models.snapshots),
            native_uuid=bool(getattr(uuid_type, "native_uuid", False)),
        )
        flavour = models.cache[key] = flavour_for(dialect.name, tables)
    return flavour


def runner(connection: Connection) -> Callable[[Statement], Outcome]:
    """Runs a statement on `connection`'s DB-API cursor, with ``?`` where the driver wants it."""
    convert = qmark if connection.dialect.paramstyle == "qmark" else None

    def run(statement: Statement) -> Outcome:
        sql = statement.sql if convert is None else convert(statement.sql)
        rows, rowcount, lastrowid = _driver.execute(connection, sql, statement.params)
        return Outcome(rows, rowcount, lastrowid)

    return run
