"""How a subscription selects the payload columns of the log, and cheap per-row conversions.

Reads of the log have work per row, so the known dialects select JSON as text and timestamps in
a form that becomes an aware UTC datetime in one cheap call, as the SQL core's loads do
(`event_sourcery.sql`: `Flavour.payload`), and rows turn into `RawEvent`s without SQLAlchemy's
per-value result processing. Only `_subscription` uses it now: it goes when the log's reads
move to the core too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from event_sourcery.interfaces import (
    as_utc,
)
from event_sourcery.sql import (
    utc_from_text,
    uuid_from_hex,
)
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Dialect,
    Table,
    Text,
    cast,
    func,
    literal_column,
    type_coerce,
)

#: PostgreSQL: the format of a timestamptz as UTC ISO text, whatever the session's TimeZone
#: and DateStyle: ``to_char(timezone('UTC', column), PG_ISO)``.
PG_ISO = "'YYYY-MM-DD\"T\"HH24:MI:SS.US'"
#: MariaDB: the format of a DATETIME(6) (stored as UTC wall time) as ISO text, for
#: ``DATE_FORMAT``. PyMySQL would parse the value in Python, and the naive datetime would
#: still need its zone: the text costs a fraction of both.
MYSQL_ISO = "'%Y-%m-%dT%H:%i:%s.%f'"


def _as_is(value: Any) -> Any:
    return value


class LoadColumns:
    """How `fetch_events` selects the payload columns on a dialect, and reads them back."""

    def __init__(self, dialect: Dialect) -> None:
        self.family = dialect.name
        # Timestamps are selected as UTC ISO text (see `payload`), uuids as stored (CHAR(32)).
        self.read_uuid: Callable[[Any], UUID] = uuid_from_hex
        self.read_time: Callable[[Any], datetime] = utc_from_text
        #: Whether payload columns come back as JSON text, the known dialects' way: the core
        #: validates events straight from it. Elsewhere they come as the driver returns them
        #: (`RawEvent` takes JSON text or parsed values alike).
        self.json_is_text = True
        # PostgreSQL's uuids are selected as text too: its drivers build each UUID with
        # UUID's own checks, three times the cost of `uuid_from_hex`.
        if self.family not in ("postgresql", "sqlite", "mysql", "mariadb"):
            self.read_uuid, self.read_time = _as_is, as_utc
            self.json_is_text = False

    def payload(self, table: Table) -> list[ColumnElement[Any]]:
        """The payload columns of `table` (events or snapshots), in `_PAYLOAD` order."""
        c = table.c
        uuid: ColumnElement[Any] = c.uuid
        data: ColumnElement[Any] = c.data
        context: ColumnElement[Any] = c.context
        created_at: ColumnElement[Any] = c.created_at
        if self.family == "postgresql":
            uuid = cast(c.uuid, Text)
            data, context = cast(c.data, Text), cast(c.context, Text)
            utc = func.timezone("UTC", c.created_at, type_=DateTime())
            created_at = func.to_char(utc, literal_column(PG_ISO), type_=Text)
        elif self.family in ("sqlite", "mysql", "mariadb"):
            uuid = type_coerce(c.uuid, Text)
            data, context = type_coerce(c.data, Text), type_coerce(c.context, Text)
            if self.family == "sqlite":
                created_at = type_coerce(c.created_at, Text)
            else:
                created_at = func.date_format(c.created_at, literal_column(MYSQL_ISO), type_=Text)
        columns = [c.version, uuid, c.type, c.schema_version, data, context, created_at]
        return [column.label(name) for column, name in zip(columns, _PAYLOAD, strict=True)]


_PAYLOAD = ("version", "uuid", "type", "schema_version", "data", "context", "created_at")
