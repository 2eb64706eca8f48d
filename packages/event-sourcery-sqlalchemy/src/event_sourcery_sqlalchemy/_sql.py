"""The SQL core's protocols (`event_sourcery.sql`) driven on a SQLAlchemy session.

Statements run on the DB-API cursor of the session's connection (`_driver.execute`), in its
current transaction; errors come as SQLAlchemy's own classes and are translated here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from event_sourcery.sql import (
    Driver,
    Flavour,
    Outcome,
    Protocol,
    Statement,
    Tables,
    drive,
    flavour_for,
    qmark,
)
from sqlalchemy import Connection, Dialect
from sqlalchemy.orm import Session, scoped_session

from event_sourcery_sqlalchemy import _driver
from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels

T = TypeVar("T")


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
            outbox=table(models.outbox),
            checkpoints=table(models.checkpoints),
            keys=table(models.keys),
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


class OnSession(Driver):
    """Runs the core's protocols in the transaction of `session`, on the tables of `models`."""

    def __init__(self, session: Session | scoped_session[Session], models: SQLAlchemyModels):
        self._session = session
        self._models = models

    def _drive(
        self, action: str, writing_events: bool, protocol: Callable[[Flavour], Protocol[T]]
    ) -> T:
        try:
            connection = self._session.connection()
            flavour = flavour_of(self._models, connection.dialect)
            return drive(protocol(flavour), runner(connection))
        except DATABASE_ERRORS as error:
            raise translate(error, action, writing_events=writing_events) from error
