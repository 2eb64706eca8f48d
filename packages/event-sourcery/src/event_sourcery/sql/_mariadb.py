"""MariaDB: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from event_sourcery._readers import as_utc
from event_sourcery.sql._flavour import Flavour


class MariaDB(Flavour):
    """MariaDB (see `Flavour`)."""

    name = "MariaDB"

    # --- values -------------------------------------------------------------------------------

    # --- appending ----------------------------------------------------------------------------

    # --- the log ------------------------------------------------------------------------------

    # --- loads, snapshots, deletion, positions --------------------------------------------------

    # On InnoDB two locking reads of a missing checkpoint take gap locks, and the two inserts
    # after them deadlock: insert (or touch) the row first, then lock it.
    checkpoint_create_first = True
    # The connection: subscriptions opened on it leave its transaction out of their markers.
    transaction_identity = "CONNECTION_ID()"

    def bind_uuid(self, value: UUID) -> Any:
        # MariaDB's own UUID type (10.7+) takes the hyphenated text; CHAR(32) the hex digits.
        return str(value) if self.tables.native_uuid else value.hex

    def bind_time(self, moment: datetime) -> Any:
        # DATETIME(6) has no zone: the store writes UTC wall time.
        return as_utc(moment).replace(tzinfo=None)

    def select_time(self, column: str) -> str:
        return f"DATE_FORMAT({column}, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f')"

    def quote(self, name: str) -> str:
        return f"`{name}`"

    def upsert(self, key: str, columns: tuple[str, ...]) -> str:
        sets = ", ".join(f"{column} = VALUES({column})" for column in columns)
        return f" ON DUPLICATE KEY UPDATE {sets}"

    @cached_property
    def checkpoint_create(self) -> str:
        return (
            f"INSERT INTO {self.tables.checkpoints} (name, position) VALUES (%s, 0) "
            "ON DUPLICATE KEY UPDATE position = position"
        )
