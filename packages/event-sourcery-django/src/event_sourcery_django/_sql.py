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
from event_sourcery.exceptions import StorageError
from event_sourcery.sql import Flavour, Protocol

from event_sourcery_django import _tables
from event_sourcery_django._errors import DATABASE_ERRORS, translate
from event_sourcery_django._wakeups import CHANNEL

T = TypeVar("T")


_FLAVOURS: dict[tuple[str, bool], Flavour] = {}


def flavour_of(connection: BaseDatabaseWrapper) -> Flavour:
    """The flavour of `connection`'s database, built once per vendor; `StorageError` for a
    database the store does not support. Supported: PostgreSQL, SQLite (3.35 or newer, for
    RETURNING) and MariaDB (10.5 or newer, for INSERT ... RETURNING)."""
    vendor = connection.vendor
    native_uuid = bool(connection.features.has_native_uuid_field)
    flavour = _FLAVOURS.get((vendor, native_uuid))
    if flavour is None:
        if vendor not in ("postgresql", "sqlite", "mysql") or (
            vendor == "mysql" and not getattr(connection, "mysql_is_mariadb", False)
        ):
            raise StorageError(
                f"Event Sourcery supports PostgreSQL, SQLite and MariaDB; database alias "
                f"{connection.alias!r} is {connection.display_name}."
            )
        quote = connection.ops.quote_name
        tables = sql.Tables(
            streams=quote(_tables.STREAMS),
            events=quote(_tables.EVENTS),
            snapshots=quote(_tables.SNAPSHOTS),
            native_uuid=native_uuid,
            outbox=quote(_tables.OUTBOX),
            checkpoints=quote(_tables.CHECKPOINTS),
            keys=quote(_tables.KEYS),
            json_payload=False,  # the models keep payloads in text columns
            channel=CHANNEL,
        )
        flavour = _FLAVOURS[vendor, native_uuid] = sql.flavour_for(vendor, tables)
    return flavour


def runner(cursor: Any) -> Callable[[sql.Statement], sql.Outcome]:
    """Runs a statement on `cursor` (a Django cursor).

    Statements and fetches go through Django's cursor (its execute wrappers, query logging and
    error wrapping); the plain attributes (description, rowcount, lastrowid) are read from the
    DB-API cursor under it: through Django's wrapper each one is a failed attribute lookup
    then a `__getattr__` call, which made a one-event append on SQLite cost more CPU than
    before the SQL core.
    """
    dbapi = cursor.cursor

    def run(statement: sql.Statement) -> sql.Outcome:
        cursor.execute(statement.sql, statement.params)
        rows = list(cursor.fetchall()) if dbapi.description else []
        # psycopg's cursors have no lastrowid.
        return sql.Outcome(rows, dbapi.rowcount, getattr(dbapi, "lastrowid", None))

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
