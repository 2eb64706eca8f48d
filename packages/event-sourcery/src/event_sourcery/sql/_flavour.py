"""What differs between the databases the SQL backends run on: one `Flavour` per database.

A flavour supplies a database's SQL text, how values bind to and read from its columns, its
in-flight transaction queries and its capabilities, as attributes and methods of one class
(`PostgreSQL`, `MariaDB`, `SQLite`), the way SQLAlchemy's dialects do. Nothing outside the
flavour modules asks which database it is: to support a new database, add a flavour.

The tables are the backend's (`Tables`): SQLAlchemy's models and Django's models name them
differently and bind uuids differently, and the flavour's statements are built for them once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from event_sourcery._readers import as_utc, utc_from_text, uuid_from_hex

#: Versions are BIGINT: a larger expected version or range bound matches no stored version; it
#: is clamped or sent down the slow path instead of bound, as drivers cannot bind it.
MAX_VERSION = 2**63 - 1


@dataclass(frozen=True)
class Tables:
    """A backend's tables: their names (quoted for the database) and how their columns bind.

    `native_uuid`: the uuid columns have the database's own uuid type (PostgreSQL; Django's
    MariaDB 10.7 or newer); otherwise they are CHAR(32) holding the hex digits.
    """

    streams: str
    events: str
    snapshots: str
    native_uuid: bool


class Flavour:
    """One database's SQL for one set of `Tables` (see the module docstring)."""

    #: The database's name, as in messages.
    name: ClassVar[str]

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    # --- values -------------------------------------------------------------------------------

    def bind_uuid(self, value: UUID) -> Any:
        """`value` as the driver binds it to a uuid column of `tables`."""
        return value if self.tables.native_uuid else value.hex

    def bind_time(self, moment: datetime) -> Any:
        """`moment` (aware) as a timestamp column stores it; see each flavour."""
        return as_utc(moment)

    @staticmethod
    def read_uuid(value: Any) -> UUID:
        """A UUID from a uuid column as the flavour's reads select it (hex or hyphenated text,
        or the driver's own value)."""
        if isinstance(value, str):
            return uuid_from_hex(value)
        if isinstance(value, UUID):
            return value
        if isinstance(value, bytes | bytearray) and len(value) == 16:
            return UUID(bytes=bytes(value))
        return UUID(bytes(value).decode() if isinstance(value, bytes | bytearray) else str(value))

    @staticmethod
    def read_time(value: Any) -> datetime:
        """An aware UTC datetime from a timestamp column as the flavour's reads select it."""
        if isinstance(value, bytes | bytearray):
            value = value.decode()
        if isinstance(value, str):
            return utc_from_text(value)
        return as_utc(value) if value.tzinfo else value.replace(tzinfo=UTC)

    # --- appending ----------------------------------------------------------------------------
    # (the append protocol's statements: `_append`)

    # --- the log ------------------------------------------------------------------------------
    # (gap-aware reads and transactions in flight: `_log`)

    # --- loads, snapshots, deletion, positions --------------------------------------------------
    # (`_streams`)
