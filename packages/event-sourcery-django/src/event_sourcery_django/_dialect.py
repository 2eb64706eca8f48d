"""What differs between the databases Django runs on: SQL fragments and value conversions.

Statements are plain SQL with ``%s`` parameters, run through Django's cursors; this module is
the only one that looks at ``connection.vendor``. Supported: PostgreSQL, SQLite (3.35 or
newer, for RETURNING) and MariaDB (10.5 or newer, for INSERT ... RETURNING).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import UUID

from django.db.backends.base.base import BaseDatabaseWrapper
from event_sourcery import StreamId
from event_sourcery.exceptions import StorageError
from event_sourcery.interfaces import (
    RawEvent,
    as_utc,
)
from event_sourcery.sql import (
    utc_from_text,
    uuid_from_hex,
)

from event_sourcery_django import _tables

#: Versions are BIGINT: a larger expected version or range bound matches no stored version, so
#: it is clamped or sent down the slow path instead of bound (drivers cannot bind it).
MAX_VERSION = 2**63 - 1


@dataclass(frozen=True)
class Dialect:
    """Table names, SQL fragments and conversions for one database vendor."""

    vendor: str
    native_uuid: bool
    streams: str
    events: str
    snapshots: str

    @property
    def is_postgresql(self) -> bool:
        return self.vendor == "postgresql"

    @property
    def is_mysql(self) -> bool:
        return self.vendor == "mysql"

    @property
    def is_sqlite(self) -> bool:
        return self.vendor == "sqlite"

    def uuid(self, value: UUID) -> Any:
        """`value` as the driver binds it to a UUIDField column."""
        if not self.native_uuid:
            return value.hex
        return str(value) if self.is_mysql else value

    def time(self, moment: datetime) -> Any:
        """`moment` (aware) as stored: UTC, naive where the column has no zone."""
        utc = moment.astimezone(UTC)
        if self.is_postgresql:
            return utc
        naive = utc.replace(tzinfo=None)
        if self.is_sqlite:
            return naive.strftime("%Y-%m-%d %H:%M:%S.%f")  # the text Django stores
        return naive

    def time_column(self, column: str) -> str:
        """Select `column` as UTC ISO text, whatever the connection's time zone.

        Text, because drivers parse timestamps in Python (Django's SQLite converter, PyMySQL)
        and a naive value would still need its zone: `read_time` reads the text for a
        fraction of that. Percent signs are doubled: statements run with parameters.
        """
        if self.is_postgresql:
            return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
        if self.is_mysql:
            return f"DATE_FORMAT({column}, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f')"
        return f"CAST({column} AS TEXT)"  # Django stores SQLite's as UTC ISO text already

    def uuid_column(self, column: str) -> str:
        """Select a uuid `column` as text: drivers build UUIDs with UUID's own slow checks,
        `read_uuid` reads the text for a third of that."""
        return f"{column}::text" if self.is_postgresql else column

    def json_column(self, column: str) -> str:
        """Select a JSON `column` as its text: the core validates events straight from it."""
        return f"{column}::text" if self.is_postgresql else column

    @property
    def json_is_text(self) -> bool:
        """Whether `json_column`s come back as `str` (MySQL drivers may return bytes)."""
        return not self.is_mysql


def read_uuid(value: Any) -> UUID:
    """A UUID from what a driver returns for a UUIDField column."""
    if isinstance(value, str):  # hex on SQLite and MariaDB before 10.7; hyphens after
        return uuid_from_hex(value)
    if isinstance(value, UUID):
        return value
    if isinstance(value, bytes | bytearray) and len(value) == 16:
        return UUID(bytes=bytes(value))
    if isinstance(value, bytes | bytearray):
        value = value.decode()
    return UUID(str(value))


def read_time(value: Any) -> datetime:
    """An aware UTC datetime from a stored (UTC) timestamp, as `time_column` selects it."""
    if isinstance(value, str):
        return utc_from_text(value)
    if isinstance(value, bytes | bytearray):
        value = value.decode()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def read_json(value: Any) -> Any:
    """What `RawEvent` takes for a stored JSON column: the JSON text as the driver returns it
    (SQLite, MariaDB), parsed only when read, and typed loads validate straight from it (far
    faster than parsing to a dict first); or the value a driver already parsed (psycopg)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode()
    return value


def raw_of_values(
    uuid: UUID,
    stream_id: StreamId,
    type_: str,
    version: int | None,
    created_at: datetime,
    data: Any,
    context: Any,
    schema_version: int,
) -> RawEvent:
    """A `RawEvent` of payloads as a driver returned them (bytes, text or parsed values)."""
    return RawEvent(
        uuid,
        stream_id,
        type_,
        version,
        created_at,
        read_json(data),
        read_json(context),
        schema_version,
    )


dumps = json.dumps


@cache
def _dialect(vendor: str, native_uuid: bool, quote: Any) -> Dialect:
    return Dialect(
        vendor=vendor,
        native_uuid=native_uuid,
        streams=quote(_tables.STREAMS),
        events=quote(_tables.EVENTS),
        snapshots=quote(_tables.SNAPSHOTS),
    )


def dialect_of(connection: BaseDatabaseWrapper) -> Dialect:
    """The dialect of `connection`; `StorageError` for a database the store does not support."""
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite", "mysql") or (
        vendor == "mysql" and not getattr(connection, "mysql_is_mariadb", False)
    ):
        raise StorageError(
            f"Event Sourcery supports PostgreSQL, SQLite and MariaDB; database alias "
            f"{connection.alias!r} is {connection.display_name}."
        )
    return _dialect(vendor, bool(connection.features.has_native_uuid_field), _quote(vendor))


def _quote(vendor: str) -> Any:
    return _backtick if vendor == "mysql" else _double_quote


def _backtick(name: str) -> str:
    return f"`{name}`"


def _double_quote(name: str) -> str:
    return f'"{name}"'
