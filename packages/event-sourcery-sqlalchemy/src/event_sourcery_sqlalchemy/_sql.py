"""The SQL core's protocols (`event_sourcery.sql`) driven on a SQLAlchemy session.

Statements run on the DB-API cursor of the session's connection (`_driver.execute`), in its
current transaction; errors come as SQLAlchemy's own classes and are translated here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from event_sourcery.sql import Driver, Flavour, Protocol, Tables, drive, flavour_for
from sqlalchemy import JSON, Dialect
from sqlalchemy.orm import Session, scoped_session

from event_sourcery_sqlalchemy._driver import runner
from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels

T = TypeVar("T")


def notify_channel(models: SQLAlchemyModels) -> str:
    """The PostgreSQL channel appends notify and subscriptions listen on: the events table."""
    return models.events.name


def flavour_of(models: SQLAlchemyModels, dialect: Dialect) -> Flavour:
    """The `Flavour` of `dialect`'s database for the tables of `models`, built once."""
    key = ("flavour", dialect.name)
    flavour: Flavour | None = models.cache.get(key)
    if flavour is None:
        table = dialect.identifier_preparer.format_table
        events = models.events
        tables = Tables(
            streams=table(models.streams),
            events=table(events),
            snapshots=table(models.snapshots),
            # As `_models` declares them: the database's own uuid type where SQLAlchemy has
            # one for the dialect and the model asks for it (PostgreSQL), CHAR(32) elsewhere.
            native_uuid=bool(getattr(events.c.uuid.type.dialect_impl(dialect), "native_uuid", 0))
            and dialect.supports_native_uuid,
            outbox=table(models.outbox),
            checkpoints=table(models.checkpoints),
            keys=table(models.keys),
            # JSON, except where the model keeps the JSON text (LONGTEXT on MariaDB).
            json_payload=isinstance(events.c.data.type.dialect_impl(dialect), JSON),
            channel=notify_channel(models),
        )
        flavour = models.cache[key] = flavour_for(dialect.name, tables)
    return flavour


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
