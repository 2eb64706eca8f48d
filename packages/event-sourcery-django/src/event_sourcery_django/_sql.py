"""The SQL core's protocols (`event_sourcery.sql`) driven on a Django database alias.

Statements run on the calling thread's connection of the alias, in its current transaction,
through Django's cursor (which takes ``%s`` on every database); errors are translated here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from event_sourcery import sql
from event_sourcery.sql import Flavour, Protocol

from event_sourcery_django import _tables
from event_sourcery_django._dialect import Dialect, dialect_of
from event_sourcery_django._errors import DATABASE_ERRORS, translate
from event_sourcery_django._wakeups import CHANNEL

T = TypeVar("T")


_FLAVOURS: dict[Dialect, Flavour] = {}


def flavour_of(connection: BaseDatabaseWrapper) -> Flavour:
    """The flavour of `connection`'s database, built once per dialect; `StorageError` for a
    database the store does not support (see `dialect_of`)."""
    dialect = dialect_of(connection)
    flavour = _FLAVOURS.get(dialect)
    if flavour is None:
        quote = connection.ops.quote_name
        tables = sql.Tables(
            streams=dialect.streams,
            events=dialect.events,
            snapshots=dialect.snapshots,
            native_uuid=dialect.native_uuid,
            outbox=quote(_tables.OUTBOX),
            checkpoints=quote(_tables.CHECKPOINTS),
            keys=quote(_tables.KEYS),
            json_payload=False,  # the models keep payloads in text columns
            channel=CHANNEL,
        )
        flavour = _FLAVOURS[dialect] = sql.flavour_for(dialect.vendor, tables)
    return flavour


def runner(cursor: Any) -> Callable[[sql.Statement], sql.Outcome]:
    """Runs a statement on `cursor` (a Django cursor)."""

    def run(statement: sql.Statement) -> sql.Outcome:
        cursor.execute(statement.sql, statement.params)
        rows = list(cursor.fetchall()) if cursor.description else []
        # psycopg's cursors have no lastrowid.
        return sql.Outcome(rows, cursor.rowcount, getattr(cursor, "lastrowid", None))

    return run


class OnAlias(sql.Driver):
    """Runs the core's protocols on database alias `using`, in its current transaction."""

    def __init__(self, using: str) -> None:
        self.using = using

    def _drive(
        self, action: str, writing_events: bool, protocol: Callable[[Flavour], Protocol[T]]
    ) -> T:
        try:
            connection = connections[self.using]
            flavour = flavour_of(connection)
            with connection.cursor() as cursor:
                return sql.drive(protocol(flavour), runner(cursor))
        except DATABASE_ERRORS as error:
            raise translate(error, action, writing_events=writing_events) from error
