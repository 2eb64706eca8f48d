"""PostgreSQL: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from json import dumps
from typing import TYPE_CHECKING, Any

from event_sourcery._raw import RawEvent
from event_sourcery._readers import as_utc
from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._inflight import LogHead, Marker, PgSnapshot, widen
from event_sourcery.sql._protocol import Protocol, Statement

if TYPE_CHECKING:
    from event_sourcery.sql._append import AtOnce

# The events of an append as one JSON document (`PostgreSQL._document`), read back in order.
_DOCUMENT = (
    "ROWS FROM (json_to_recordset(%s::json) AS (v bigint, u uuid, t text, s int, d json, "
    "c json, a timestamptz)) WITH ORDINALITY AS r(v, u, t, s, d, c, a, n)"
)


class PostgreSQL(Flavour):
    """PostgreSQL (see `Flavour`)."""

    name = "PostgreSQL"
    notifies = True

    # --- values -------------------------------------------------------------------------------

    # --- appending ----------------------------------------------------------------------------

    # A failed statement aborts the transaction: the claim of a refused append never commits.
    failed_statement_aborts_transaction = True
    appends_at_once = True
    share_lock = " FOR SHARE"

    @cached_property
    def _values_row(self) -> str:
        payload = "%s::json" if self.tables.json_payload else "%s"
        return f"(%s, %s, %s, %s, %s, {payload}, {payload}, %s, %s)"

    @cached_property
    def _notify(self) -> str:
        # In the append's own statement: PostgreSQL delivers it at commit, drops it on
        # rollback and folds a transaction's repeats into one, so subscriptions LISTENing on
        # the channel wake up once per committed append, without a round trip more.
        channel = self.tables.channel
        if channel is None:
            return ""
        literal = channel.replace("'", "''").replace("%", "%%")
        return f", pg_notify('{literal}', '') AS wake"

    def _wrap_insert(self, insert: str) -> str:
        return f"WITH inserted AS ({insert}) SELECT inserted.id FROM inserted{self._notify}"

    def insert_events(
        self, stream_pk: int, tenant: str, events: Sequence[RawEvent]
    ) -> list[Statement]:
        if len(events) > 1 and self._fits_document(events):
            return [Statement(self._insert_document, [stream_pk, tenant, self._document(events)])]
        return super().insert_events(stream_pk, tenant, events)

    @cached_property
    def _insert_document(self) -> str:
        return self._wrap_insert(
            f"INSERT INTO {self.tables.events} ({self._EVENT_COLUMNS}) SELECT %s, "
            f"{self._document_columns}, %s FROM {_DOCUMENT} ORDER BY r.n RETURNING id"
        )

    @cached_property
    def _document_columns(self) -> str:
        cast = "" if self.tables.json_payload else "::text"
        return f"r.v, r.u, r.t, r.s, r.d{cast}, r.c{cast}, r.a"

    def _fits_document(self, events: Sequence[RawEvent]) -> bool:
        """Whether `events` may go as one JSON document: their payloads pass PostgreSQL's
        json parser unchanged (it refuses escapes such as lone surrogates or NUL, which the
        columns keep when bound as values), and the uuid columns are native."""
        if not self.tables.native_uuid:
            return False
        return not any(
            "\\u" in event.data_json() or "\\u" in event.context_json() for event in events
        )

    @staticmethod
    def _document(events: Sequence[RawEvent]) -> str:
        """`events` as one JSON document, one object per event; payloads go in as they are.

        Binding arrays (or a long VALUES list) costs the client more than the rest of a batch
        append: psycopg escapes every element of a text array, and parses a long statement's
        placeholders on every execute. One short statement with one text parameter does not.
        """
        types: dict[str, str] = {}
        at, iso = None, ""
        rows: list[str] = []
        for event in events:
            if event.created_at is not at:
                at, iso = event.created_at, as_utc(event.created_at).isoformat()
            type_ = types.get(event.type) or types.setdefault(event.type, dumps(event.type))
            version = "null" if event.version is None else event.version
            rows.append(
                f'{{"v":{version},"u":"{event.uuid}","t":{type_},"s":{event.schema_version},'
                f'"d":{event.data_json()},"c":{event.context_json()},"a":"{iso}"}}'
            )
        return f"[{','.join(rows)}]"

    def append_at_once(
        self, claim: AtOnce, tenant: str, events: Sequence[RawEvent]
    ) -> tuple[Statement, int]:
        # The claim is a CTE (data-modifying where it changes the row) whose RETURNING feeds
        # the events' INSERT ... SELECT: a claim that matches no row inserts no event.
        params: list[Any] = [*self._claim_params(claim), tenant]
        if len(events) > 1 and self._fits_document(events):
            params.append(self._document(events))
            return Statement(self._at_once(claim.kind, claim.named, 0), params), len(events)
        carried = events[: self.insert_chunk]
        params += self._event_params(carried, (), ())
        statement = Statement(self._at_once(claim.kind, claim.named, len(carried)), params)
        return statement, len(carried)

    @staticmethod
    def _claim_params(claim: AtOnce) -> list[Any]:
        if claim.kind != "versionless":
            return list(claim.params)
        tenant, category, uuid, name = claim.params
        existing = [tenant, category, uuid, name] if claim.named else [tenant, category, uuid]
        return [*existing, tenant, category, uuid, name]

    def _at_once(self, kind: str, named: bool, values: int) -> str:
        """The statement of `kind` of claim, with `values` events as VALUES (0: a document)."""
        key = (kind, named, values)
        sql = self._at_once_cache.get(key)
        if sql is None:
            source, columns = (_DOCUMENT, self._document_columns)
            if values:
                source, columns = self._values_source(values), "r.v, r.u, r.t, r.s, r.d, r.c, r.a"
            sql = self._at_once_cache[key] = (
                f"WITH {self._claim_cte(kind, named)}, inserted AS (INSERT INTO "
                f"{self.tables.events} ({self._EVENT_COLUMNS}) SELECT claimed.id, {columns}, %s "
                f"FROM claimed, {source} ORDER BY r.n RETURNING id, stream_id) "
                f"SELECT inserted.id, inserted.stream_id FROM inserted{self._notify}"
            )
        return sql

    @cached_property
    def _at_once_cache(self) -> dict[tuple[str, bool, int], str]:
        return {}

    def _values_source(self, count: int) -> str:
        uuid = "%s::uuid" if self.tables.native_uuid else "%s"
        payload = "%s::json" if self.tables.json_payload else "%s"
        rows = ", ".join(
            f"({n}, %s::bigint, {uuid}, %s, %s::int, {payload}, {payload}, %s::timestamptz)"
            for n in range(count)
        )
        return f"(VALUES {rows}) AS r(n, v, u, t, s, d, c, a)"

    def _claim_cte(self, kind: str, named: bool) -> str:
        if kind == "create":
            return f"claimed AS ({self.create_stream})"
        if kind == "bump":
            return f"claimed AS ({self.bump(named)})"
        # The rule of `_gaps`: the transaction has its id before the INSERT draws positions.
        # The other claims write the stream row; a versionless claim of an existing stream
        # only reads, so it asks for the id itself (a condition on no column runs before the
        # scan returns anything). A missing stream is created in the same statement; a
        # conflict (a racing creator, a name held, a versioned stream) inserts nothing, and
        # the protocol takes the general path.
        streams, name = self.tables.streams, " AND name = %s" if named else ""
        uuid = "%s::uuid" if self.tables.native_uuid else "%s"
        return (
            f"existing AS (SELECT id FROM {streams} WHERE {self._IDENT} AND version IS NULL "
            f"AND pg_current_xact_id() IS NOT NULL{name}), created AS (INSERT INTO {streams} "
            f"(tenant_id, category, uuid, name) SELECT %s, %s, {uuid}, %s WHERE NOT EXISTS "
            "(SELECT FROM existing) ON CONFLICT DO NOTHING RETURNING id), "
            "claimed AS (SELECT id FROM existing UNION ALL SELECT id FROM created)"
        )

    # --- the log ------------------------------------------------------------------------------
    # Markers: the live list of transaction ids of this database's sessions and prepared
    # transactions (a transaction of another database of the cluster can never write our
    # events), taken after the read. The cursor judges them by the snapshot of its next head
    # read (`pg_current_snapshot()`, in the read itself: no extra round trip); the position, by
    # their live status.

    log_judged_by_head = True

    def log_head(self, after: int, limit: int) -> Statement:
        events = self.tables.events
        return Statement(
            f"SELECT pg_current_snapshot()::text, (SELECT max(id) FROM {events}), "
            f"ARRAY(SELECT id FROM {events} WHERE id > %s ORDER BY id LIMIT %s)",
            (after, limit),
        )

    def read_log_head(self, rows: list[Sequence[Any]]) -> LogHead:
        snapshot, horizon, ids = rows[0]
        return LogHead(list(ids), horizon or 0, PgSnapshot.parse(snapshot))

    def take_marker(self, head: LogHead | None, exclude: int) -> Protocol[Marker]:
        # Read live, not as of a snapshot; prepared (two-phase) transactions have no session
        # but may hold positions too. 32-bit ids, widened near the head's snapshot.
        outcome = yield Statement(
            "SELECT backend_xid::text FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
            "AND datid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND pid <> pg_backend_pid() AND pid <> %s "
            "UNION ALL SELECT transaction::text FROM pg_prepared_xacts "
            "WHERE database = current_database()",
            (exclude,),
        )
        near = head.snapshot.xmax if head is not None and head.snapshot is not None else 0
        return frozenset(widen(int(row[0]), near) for row in outcome.rows)

    def still_in_flight(
        self, marker: Marker, head: LogHead | None, exclude: int
    ) -> Protocol[Marker]:
        if head is not None and head.snapshot is not None and marker is not None:
            # A transaction the read's own snapshot does not hold as running had ended before it.
            return frozenset(xid for xid in marker if head.snapshot.running(xid))
        if not marker:
            return marker
        # pg_xact_status reads the live state, not a snapshot: right under any isolation.
        outcome = yield Statement(
            "SELECT x FROM unnest(CAST(%s AS text[])) AS x "
            "WHERE pg_xact_status(CAST(x AS xid8)) = 'in progress'",
            (sorted(str(xid) for xid in marker),),
        )
        return frozenset(int(row[0]) for row in outcome.rows)

    def session_of(self, dbapi_connection: Any) -> Protocol[int]:
        info = getattr(dbapi_connection, "info", None)  # psycopg 3
        pid = getattr(info, "backend_pid", None)
        if pid is None and hasattr(dbapi_connection, "get_backend_pid"):  # psycopg2
            pid = dbapi_connection.get_backend_pid()
        if pid is None:
            outcome = yield Statement("SELECT pg_backend_pid()")
            pid = outcome.rows[0][0]
        return int(pid)

    def position_now(self) -> Statement:
        # The statistics snapshot is cleared: pg_stat_activity is read once per transaction
        # otherwise, and a second position in one transaction would go by the first's list.
        return Statement(
            "SELECT coalesce(max(id), 0), pg_backend_pid(), pg_current_snapshot()::text, "
            f"pg_stat_clear_snapshot()::text FROM {self.tables.events}"
        )

    def read_position_now(self, rows: list[Sequence[Any]]) -> tuple[int, int, LogHead]:
        position, session, snapshot, _ = rows[0]
        return int(position), int(session), LogHead([], int(position), PgSnapshot.parse(snapshot))

    # --- loads, snapshots, deletion, positions --------------------------------------------------

    def select_uuid(self, column: str) -> str:
        # The 32 hex digits: the server drops the hyphens for less than the client's
        # `str.replace` (a fifth of `uuid_from_hex` per event read, by instruction count).
        return f"replace({column}::text, '-', '')"

    def select_json(self, column: str) -> str:
        return f"{column}::text"

    def select_time(self, column: str) -> str:
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""

    # The session: subscriptions opened in its transaction leave it out of their markers.
    session_identity = "pg_backend_pid()"
