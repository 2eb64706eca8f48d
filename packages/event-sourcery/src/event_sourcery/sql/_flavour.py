"""What differs between the databases the SQL backends run on: one `Flavour` per database.

A flavour supplies a database's SQL text, how values bind to and read from its columns, its
in-flight transaction queries and its capabilities, as attributes and methods of one class
(`PostgreSQL`, `MariaDB`, `SQLite`), the way SQLAlchemy's dialects do. Nothing outside the
flavour modules asks which database it is: to support a new database, add a flavour.

The tables are the backend's (`Tables`): SQLAlchemy's models and Django's models name them
differently and bind uuids differently, and the flavour's statements are built for them once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from event_sourcery._raw import as_utc
from event_sourcery._readers import utc_from_text, uuid_from_hex
from event_sourcery._subscription import SubscriptionFilter
from event_sourcery.sql._inflight import LogHead, Marker
from event_sourcery.sql._protocol import Protocol, Statement

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

    #: Whether every gap is final as soon as it is seen (one writer at a time, committing in
    #: position order): a poll reads only the horizon, and never takes a marker.
    log_gaps_final: ClassVar[bool] = False
    #: Whether `still_in_flight` judges a marker by the last head read itself (its snapshot),
    #: with no statement: it is then asked right after that read. Otherwise it looks again, and
    #: is asked before the next read, so that read shows what the transactions committed.
    log_judged_by_head: ClassVar[bool] = False

    def log_head(self, after: int, limit: int) -> Statement:
        """One read of the positions after `after` (at most `limit`) and of the horizon."""
        events = self.tables.events
        return Statement(
            f"SELECT id, (SELECT MAX(id) FROM {events}) FROM {events} "
            "WHERE id > %s ORDER BY id LIMIT %s",
            (after, limit),
        )

    def read_log_head(self, rows: list[Sequence[Any]]) -> LogHead:
        """What `log_head`'s rows say."""
        return LogHead([int(row[0]) for row in rows], int(rows[0][1]) if rows else 0)

    def take_marker(self, head: LogHead | None, exclude: int) -> Protocol[Marker]:
        """The transactions in flight now, but those of the caller's connection and of the
        session whose server id is `exclude` (0: none); taken after the read it stands for.

        A flavour whose gaps are final never takes one: this one is empty."""
        return frozenset()
        yield  # a protocol without statements

    def still_in_flight(
        self, marker: Marker, head: LogHead | None, exclude: int
    ) -> Protocol[Marker]:
        """Those of `marker`'s transactions still in flight (empty: every one has ended; None:
        unknown). By default, a new marker's part of it; an unknown marker is answered by the
        whole new one (those still running of the old one are in it)."""
        now = yield from self.take_marker(head, exclude)
        if now is None:
            return marker
        return now if marker is None else marker & now

    def session_of(self, dbapi_connection: Any) -> Protocol[int]:
        """The server's id of the session of `dbapi_connection`, as markers leave it out
        (`take_marker`'s `exclude`): from the driver where it tells, else asked of the server
        (the statement runs on that connection). 0 where markers name no sessions."""
        return 0
        yield  # a protocol without statements

    def position_now(self) -> Statement:
        """In the caller's transaction: the newest position and the server id of the caller's
        session (what its markers leave out), in `read_position_now`'s terms."""
        return Statement(f"SELECT COALESCE(MAX(id), 0), 0 FROM {self.tables.events}")

    def read_position_now(self, rows: list[Sequence[Any]]) -> tuple[int, int, LogHead]:
        """`position_now`'s rows: the position, the session id and the head they stand for."""
        position, session = rows[0][0], rows[0][1]
        return int(position), int(session), LogHead([], int(position))

    def log_text(self, column: str) -> str:
        """`column` (a uuid or JSON) selected as the text `read_log_rows` reads."""
        return column

    def log_time(self, column: str) -> str:
        """Timestamp `column` selected as UTC ISO text (`utc_from_text` reads it)."""
        return f"CAST({column} AS TEXT)"

    def log_rows(self, subscription_filter: SubscriptionFilter) -> tuple[str, tuple[Any, ...]]:
        """The read of the rows `subscription_filter` selects, and its filter's parameters.

        Parameters: after, up to (both positions), the filter's, then the limit. Columns:
        position, tenant, category, stream uuid, stream name, version, uuid, type, schema
        version, data, context, created at.
        """
        text, time = self.log_text, self.log_time
        where, values = ["e.id > %s", "e.id <= %s"], []
        for column, wanted in (
            ("s.category", subscription_filter.categories),
            ("e.type", subscription_filter.event_types),
            ("e.tenant_id", subscription_filter.tenants),
        ):
            if wanted is not None:
                chosen = sorted("" if value is None else value for value in wanted)
                where.append(
                    f"{column} IN ({', '.join(['%s'] * len(chosen))})" if chosen else "1 = 0"
                )
                values.extend(chosen)
        columns = (
            f"e.id, e.tenant_id, s.category, {text('s.uuid')}, s.name, e.version, "
            f"{text('e.uuid')}, e.type, e.schema_version, {text('e.data')}, "
            f"{text('e.context')}, {time('e.created_at')}"
        )
        return (
            f"SELECT {columns} FROM {self.tables.events} e "
            f"JOIN {self.tables.streams} s ON s.id = e.stream_id "
            f"WHERE {' AND '.join(where)} ORDER BY e.id LIMIT %s"
        ), tuple(values)

    # --- loads, snapshots, deletion, positions --------------------------------------------------
    # (`_streams`)
