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
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from event_sourcery._raw import RawEvent, as_utc
from event_sourcery._readers import utc_from_text, uuid_from_hex
from event_sourcery.sql._protocol import Outcome, Statement

if TYPE_CHECKING:
    from event_sourcery.sql._append import AtOnce

#: Versions are BIGINT: a larger expected version or range bound matches no stored version; it
#: is clamped or sent down the slow path instead of bound, as drivers cannot bind it.
MAX_VERSION = 2**63 - 1


@dataclass(frozen=True)
class Tables:
    """A backend's tables: their names (quoted for the database) and how their columns bind.

    `native_uuid`: the uuid columns have the database's own uuid type (PostgreSQL; Django's
    MariaDB 10.7 or newer); otherwise they are CHAR(32) holding the hex digits.
    `json_payload`: the events' data and context columns have the database's JSON type
    (SQLAlchemy's models on PostgreSQL), so the JSON text an append binds is cast to it;
    otherwise they hold text (Django's models; LONGTEXT on MariaDB; SQLite).
    `channel`: the PostgreSQL channel an append notifies, so that live subscriptions
    listening on it wake up at its commit; None notifies nothing.
    """

    streams: str
    events: str
    snapshots: str
    native_uuid: bool
    json_payload: bool = False
    channel: str | None = None


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

    #: Whether a failed statement aborts the whole transaction (PostgreSQL). Where it does not,
    #: a claim whose events were refused must be taken back (`undo_*`), or the caller's commit
    #: would keep a stream at a version without its events.
    failed_statement_aborts_transaction: ClassVar[bool] = False
    #: Whether the claim and the events' INSERT go as one statement (`append_at_once`).
    appends_at_once: ClassVar[bool] = False
    #: Whether a versionless append first claims an existing stream with a write (`touch`).
    touches_versionless: ClassVar[bool] = False
    #: Whether `create_stream` raises a duplicate key error on a taken stream or name, where
    #: the others insert nothing (ON CONFLICT DO NOTHING).
    create_conflict_raises: ClassVar[bool] = False
    #: Suffix of the slow path's locking reads: a lock other readers may share.
    share_lock: ClassVar[str] = ""
    #: Events per INSERT: 9 parameters each stays far below every driver's limit.
    insert_chunk: ClassVar[int] = 500

    _IDENT = "tenant_id = %s AND category = %s AND uuid = %s"
    _EVENT_COLUMNS = (
        "stream_id, version, uuid, type, schema_version, data, context, created_at, tenant_id"
    )

    def claimed_id(self, outcome: Outcome) -> int | None:
        """The stream row's id from a claim's outcome (`create_stream`, `bump`, `touch`);
        None if it matched no row."""
        return int(outcome.rows[0][0]) if outcome.rows else None

    @cached_property
    def find_stream_locked(self) -> str:
        """Params: tenant, category, uuid. Rows: (id, version, name), share-locked."""
        return f"SELECT id, version, name FROM {self.tables.streams} WHERE {self._IDENT}" + (
            self.share_lock
        )

    @cached_property
    def find_name_holder(self) -> str:
        """Params: tenant, category, name. Rows: (uuid,) of the stream holding the name."""
        return (
            f"SELECT uuid FROM {self.tables.streams} WHERE tenant_id = %s AND category = %s "
            f"AND name = %s{self.share_lock}"
        )

    @cached_property
    def create_stream(self) -> str:
        """Params: tenant, category, uuid, name, version. Inserts the stream row; see
        `claimed_id` and `create_conflict_raises`."""
        return (
            f"INSERT INTO {self.tables.streams} (tenant_id, category, uuid, name, version) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id"
        )

    def bump(self, named: bool) -> str:
        """Params: new version, tenant, category, uuid, expected version (, name if `named`).
        Moves a versioned stream to its new version if it is at the expected one."""
        return self._bumps[named]

    @cached_property
    def _bumps(self) -> dict[bool, str]:
        streams = self.tables.streams
        plain = f"UPDATE {streams} SET version = %s WHERE {self._IDENT} AND version = %s"
        return {False: plain + " RETURNING id", True: plain + " AND name = %s RETURNING id"}

    def touch(self, named: bool) -> str:
        """Params: tenant, category, uuid (, name if `named`). Claims an existing versionless
        stream with a write (where `touches_versionless`)."""
        raise NotImplementedError(f"{self.name} does not touch versionless streams")

    def rewrite(self, versioned: bool) -> str:
        """Params: version, name, id (, the version it had if `versioned`). The slow path's
        conditional write of a stream row it read."""
        where = "version = %s" if versioned else "version IS NULL"
        return f"UPDATE {self.tables.streams} SET version = %s, name = %s WHERE id = %s AND {where}"

    @cached_property
    def stored_range(self) -> str:
        """Params: stream row id, first and last version. Rows: (id, uuid) of those events."""
        return (
            f"SELECT id, uuid FROM {self.tables.events} WHERE stream_id = %s "
            "AND version >= %s AND version <= %s ORDER BY version"
        )

    @cached_property
    def undo_create(self) -> str:
        """Params: id. Deletes the stream row a refused append created."""
        return f"DELETE FROM {self.tables.streams} WHERE id = %s"

    @cached_property
    def undo_bump(self) -> str:
        """Params: version, id. Puts back the version a refused append moved."""
        return f"UPDATE {self.tables.streams} SET version = %s WHERE id = %s"

    @cached_property
    def undo_name(self) -> str:
        """Params: id. Unbinds the name a refused append bound."""
        return f"UPDATE {self.tables.streams} SET name = NULL WHERE id = %s"

    def undo_events(self, count: int) -> str:
        """Params: `count` event ids. Deletes the events a refused append inserted before."""
        marks = ", ".join(["%s"] * count)
        return f"DELETE FROM {self.tables.events} WHERE id IN ({marks})"

    def insert_events(
        self, stream_pk: int, tenant: str, events: Sequence[RawEvent]
    ) -> list[Statement]:
        """The INSERTs of `events` into stream row `stream_pk`, in order. Rows: (id,) per
        event; ids are drawn in the order of `events`, so sorted they are their positions."""
        chunk = self.insert_chunk
        return [
            Statement(
                self._insert_values(len(events[start : start + chunk])),
                self._event_params(events[start : start + chunk], (stream_pk,), (tenant,)),
            )
            for start in range(0, len(events), chunk)
        ]

    def _event_params(
        self, events: Sequence[RawEvent], head: tuple[Any, ...], tail: tuple[Any, ...]
    ) -> list[Any]:
        """Per event: `head`, version, uuid, type, schema version, data, context, created_at
        (bound), `tail`; one flat list."""
        bind_uuid, bind_time = self.bind_uuid, self.bind_time
        at, stored_at = None, None
        params: list[Any] = []
        for event in events:
            if event.created_at is not at:  # an append's events usually share it
                at, stored_at = event.created_at, bind_time(event.created_at)
            params += (
                *head,
                event.version,
                bind_uuid(event.uuid),
                event.type,
                event.schema_version,
                event.data_json(),
                event.context_json(),
                stored_at,
                *tail,
            )
        return params

    @cached_property
    def _values_row(self) -> str:
        return "(%s, %s, %s, %s, %s, %s, %s, %s, %s)"

    def _insert_values(self, count: int) -> str:
        sql = self._inserts.get(count)
        if sql is None:
            values = ", ".join([self._values_row] * count)
            sql = self._inserts[count] = self._wrap_insert(
                f"INSERT INTO {self.tables.events} ({self._EVENT_COLUMNS}) VALUES {values} "
                "RETURNING id"
            )
        return sql

    @cached_property
    def _inserts(self) -> dict[int, str]:
        return {}

    def _wrap_insert(self, insert: str) -> str:
        """The statement that runs the events' `insert` (PostgreSQL adds its NOTIFY)."""
        return insert

    def append_at_once(
        self, claim: AtOnce, tenant: str, events: Sequence[RawEvent]
    ) -> tuple[Statement, int]:
        """The claim and the events' INSERT as one statement (where `appends_at_once`), and
        how many of `events` it carries (the rest go by `insert_events`). Rows: (id, stream
        row id) per inserted event; none if the claim matched no row."""
        raise NotImplementedError(f"{self.name} does not append in one statement")

    # --- the log ------------------------------------------------------------------------------
    # (gap-aware reads and transactions in flight: `_log`)

    # --- loads, snapshots, deletion, positions --------------------------------------------------
    # (`_streams`)
