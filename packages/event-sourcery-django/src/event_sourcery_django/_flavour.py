"""The SQL protocol's view of the app's tables: the flavour of a database alias."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.db.backends.utils import CursorWrapper
from event_sourcery.sql import Flavour, Outcome, Statement, Tables, flavour_for

from event_sourcery_django._dialect import Dialect
from event_sourcery_django._wakeups import CHANNEL


@cache
def flavour_of(sql: Dialect) -> Flavour:
    """The `Flavour` of `sql`'s database for the app's tables, built once."""
    tables = Tables(
        streams=sql.streams,
        events=sql.events,
        snapshots=sql.snapshots,
        native_uuid=sql.native_uuid,
        json_payload=False,  # the models keep payloads in text columns
        channel=CHANNEL,
    )
    return flavour_for(sql.vendor, tables)


def runner(cursor: CursorWrapper) -> Callable[[Statement], Outcome]:
    """The SQL protocol's `run` (see `event_sourcery.sql.drive`): each statement on `cursor`,
    whose errors are Django's (`IntegrityError`, ...)."""

    def run(statement: Statement) -> Outcome:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall() if cursor.description is not None else []
        return Outcome(rows, cursor.rowcount, getattr(cursor, "lastrowid", None))

    return run
