"""The SQL core's protocols (`event_sourcery.sql`) driven on a Django connection.

Statements run through Django's cursor (which takes ``%s`` on every database), in the
connection's current transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from event_sourcery import sql
from event_sourcery.sql import Flavour

from event_sourcery_django._dialect import Dialect, dialect_of

_FLAVOURS: dict[Dialect, Flavour] = {}


def flavour_of(connection: BaseDatabaseWrapper) -> Flavour:
    """The flavour of `connection`'s database, built once per dialect; `StorageError` for a
    database the store does not support (see `dialect_of`)."""
    dialect = dialect_of(connection)
    flavour = _FLAVOURS.get(dialect)
    if flavour is None:
        tables = sql.Tables(
            streams=dialect.streams,
            events=dialect.events,
            snapshots=dialect.snapshots,
            native_uuid=dialect.native_uuid,
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
