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

from event_sourcery._raw import RawEvent
from event_sourcery._readers import as_utc, utc_from_text, uuid_from_hex
from event_sourcery._subscription import SubscriptionFilter
from event_sourcery.sql._inflight import LogHead, Marker
from event_sourcery.sql._protocol import Outcome, Protocol, Statement

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
    #: The outbox table (a full copy of each event, `attempts`, `last_error`); '' if none.
    outbox: str = ""
    #: The projections' checkpoints table (`name`, `position`); '' if none.
    checkpoints: str = ""
    #: The data subjects' encryption keys table (`tenant_id`, `key_id`, `subject_id`, `key`);
    #: '' if none.
    keys: str = ""
    json_payload: bool = False
    channel: str | None = None


class Flavour:
    """One database's SQL for one set of `Tables` (see the module docstring)."""

    #: The database's name, as in messages.
    name: ClassVar[str]
    #: Whether appends wake listening subscriptions at their commit (`Tables.channel`, with
    #: LISTEN / NOTIFY), so a waiting reader may listen instead of polling.
    notifies: ClassVar[bool] = False

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
        """The INSERTs of `events` into stream row `stream_pk`, in order; `inserted_ids` reads
        the positions from each one's outcome."""
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

    def inserted_ids(self, outcome: Outcome) -> list[int]:
        """The ids of the events one of `insert_events`' statements inserted, in their order
        (so their positions)."""
        # Ids are drawn in the events' order: sorted, they are the events' positions.
        return sorted(int(row[0]) for row in outcome.rows)

    #: What ends `insert_events`' statements: the ids `inserted_ids` reads.
    _returning_ids: ClassVar[str] = " RETURNING id"

    @cached_property
    def _values_row(self) -> str:
        return "(%s, %s, %s, %s, %s, %s, %s, %s, %s)"

    def _insert_values(self, count: int) -> str:
        sql = self._inserts.get(count)
        if sql is None:
            values = ", ".join([self._values_row] * count)
            sql = self._inserts[count] = self._wrap_insert(
                f"INSERT INTO {self.tables.events} ({self._EVENT_COLUMNS}) VALUES {values}"
                + self._returning_ids
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

    def log_rows(self, subscription_filter: SubscriptionFilter) -> tuple[str, tuple[Any, ...]]:
        """The read of the rows `subscription_filter` selects, and its filter's parameters.

        Parameters: after, up to (both positions), the filter's, then the limit. Columns:
        position, tenant, category, stream uuid, stream name, version, uuid, type, schema
        version, data, context, created at.
        """
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
            f"e.id, e.tenant_id, s.category, {self.select_uuid('s.uuid')}, s.name, e.version, "
            f"{self.select_uuid('e.uuid')}, e.type, e.schema_version, "
            f"{self.select_json('e.data')}, {self.select_json('e.context')}, "
            f"{self.select_time('e.created_at')}"
        )
        return (
            f"SELECT {columns} FROM {self.tables.events} e "
            f"JOIN {self.tables.streams} s ON s.id = e.stream_id "
            f"WHERE {' AND '.join(where)} ORDER BY e.id LIMIT %s"
        ), tuple(values)

    # --- loads, snapshots, deletion, positions --------------------------------------------------
    # (the protocols of `_streams` and `_outbox`)

    #: Suffix of a read that locks its rows until the transaction ends ('' on SQLite, whose
    #: writer holds the whole database).
    lock_rows = " FOR UPDATE"
    #: Suffix of an outbox claim: skip the entries another worker holds.
    skip_locked = " FOR UPDATE SKIP LOCKED"
    #: Whether a checkpoint's row is inserted (or touched) before it is locked, rather than
    #: only when the locking read found none.
    checkpoint_create_first = False

    def select_uuid(self, column: str) -> str:
        """`column` (a uuid) selected as text: drivers build UUIDs with UUID's own checks,
        `uuid_from_hex` reads the text for a third of that."""
        return column

    def select_json(self, column: str) -> str:
        """`column` (JSON) selected as its text: the core validates events straight from it."""
        return column

    def select_time(self, column: str) -> str:
        """`column` (a timestamp) selected as UTC ISO text, whatever the session's time zone:
        drivers parse timestamps in Python, `utc_from_text` reads the text for a fraction."""
        raise NotImplementedError

    def quote(self, name: str) -> str:
        """`name` quoted as an identifier (for a column whose name is a reserved word)."""
        return f'"{name}"'

    def upsert(self, key: str, columns: tuple[str, ...]) -> str:
        """The clause making an INSERT replace the other `columns` of the row at `key`."""
        sets = ", ".join(f"{column} = excluded.{column}" for column in columns)
        return f" ON CONFLICT ({key}) DO UPDATE SET {sets}"

    def payload(self, alias: str) -> str:
        """The payload columns of an events-like table `alias`, as the readers take them:
        version, uuid, type, schema_version, data, context, created_at."""
        return (
            f"{alias}.version, {self.select_uuid(f'{alias}.uuid')}, {alias}.type, "
            f"{alias}.schema_version, {self.select_json(f'{alias}.data')}, "
            f"{self.select_json(f'{alias}.context')}, {self.select_time(f'{alias}.created_at')}"
        )

    @cached_property
    def loads(self) -> dict[tuple[bool, bool], str]:
        """`fetch_events`' one query, by (has a start, has a stop): see `_streams.load_events`
        for its parameters."""
        return {
            (has_start, has_stop): (self._load_range if has_start else self._load_all)(has_stop)
            for has_start in (False, True)
            for has_stop in (False, True)
        }

    def _load_range(self, has_stop: bool) -> str:
        t = self.tables
        stop = " AND e.version < %s" if has_stop else ""
        return (
            f"SELECT {self.payload('e')}, s.name, e.id FROM {t.streams} s "
            f"JOIN {t.events} e ON e.stream_id = s.id WHERE {_IDENT} "
            f"AND (e.version IS NULL OR (e.version >= %s{stop})) ORDER BY e.version, e.id"
        )

    def _load_all(self, has_stop: bool) -> str:
        # The snapshot in the window (if any), then the events after it; versions start at 1,
        # so 0 stands for "no snapshot: every event". Ordered by output column number: SQLite
        # orders a UNION by output columns only.
        t = self.tables
        snapshot_stop, stop = (
            (" AND n.version < %s", " AND e.version < %s") if has_stop else ("", "")
        )
        return (
            f"SELECT {self.payload('n')}, s.name, 0 AS position FROM {t.streams} s "
            f"JOIN {t.snapshots} n ON n.stream_id = s.id WHERE {_IDENT}{snapshot_stop} "
            "UNION ALL "
            f"SELECT {self.payload('e')}, s.name, e.id AS position FROM {t.streams} s "
            f"LEFT JOIN {t.snapshots} n ON n.stream_id = s.id{snapshot_stop} "
            f"JOIN {t.events} e ON e.stream_id = s.id WHERE {_IDENT} "
            f"AND (e.version IS NULL OR (e.version > COALESCE(n.version, 0){stop})) "
            "ORDER BY 1, 9"
        )

    @cached_property
    def find_stream(self) -> str:
        """The stream row's id, version and name, by its key (`_streams.stream_key`)."""
        return f"SELECT id, version, name FROM {self.tables.streams} WHERE {_IDENT_BARE}"

    @cached_property
    def save_snapshot(self) -> str:
        """Insert or replace a stream's snapshot: stream_id, then `SNAPSHOT_COLUMNS`."""
        columns = ", ".join(SNAPSHOT_COLUMNS)
        marks = ", ".join(["%s"] * (len(SNAPSHOT_COLUMNS) + 1))
        return (
            f"INSERT INTO {self.tables.snapshots} (stream_id, {columns}) VALUES ({marks})"
            + self.upsert("stream_id", SNAPSHOT_COLUMNS)
        )

    @cached_property
    def delete_stream(self) -> tuple[str, ...]:
        """A stream's events, snapshot and row, each statement by `_IDENT_BARE`."""
        t = self.tables
        stream = f"(SELECT id FROM {t.streams} WHERE {_IDENT_BARE})"
        return (
            f"DELETE FROM {t.events} WHERE stream_id = {stream}",
            f"DELETE FROM {t.snapshots} WHERE stream_id = {stream}",
            f"DELETE FROM {t.streams} WHERE {_IDENT_BARE}",
        )

    @cached_property
    def outbox_entry(self) -> str:
        """The SELECT of outbox entries, as `_outbox.read_entries` reads them (no WHERE yet)."""
        return (
            "SELECT id, position, tenant_id, category, "
            f"{self.select_uuid('o.stream_uuid')}, stream_name, attempts, last_error, "
            f"{self.payload('o')} FROM {self.tables.outbox} o"
        )

    @property
    def claim_lock(self) -> str | None:
        """A statement taking the outbox's write lock before a claim reads it, where rows
        cannot be locked one by one; None elsewhere."""
        return None

    @cached_property
    def checkpoint_create(self) -> str:
        """Insert a checkpoint at 0, doing nothing (and failing on nothing) if it exists."""
        return (
            f"INSERT INTO {self.tables.checkpoints} (name, position) VALUES (%s, 0) "
            "ON CONFLICT DO NOTHING"
        )

    #: An expression naming the server session a checkpoint is read in, as markers of
    #: transactions in flight leave it out (`take_marker`'s `exclude`; see
    #: `_outbox.load_checkpoint`); None where markers name no sessions.
    session_identity: str | None = None


#: A stream's key: tenant '' for none, category '' for none, its uuid as `bind_uuid` binds it.
_IDENT = "s.tenant_id = %s AND s.category = %s AND s.uuid = %s"
_IDENT_BARE = "tenant_id = %s AND category = %s AND uuid = %s"
#: The columns of a snapshot `save_snapshot` writes after its stream_id.
SNAPSHOT_COLUMNS = ("version", "uuid", "type", "schema_version", "data", "context", "created_at")
