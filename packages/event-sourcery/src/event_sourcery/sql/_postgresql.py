"""PostgreSQL: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from json import dumps
from typing import TYPE_CHECKING, Any

from event_sourcery._raw import RawEvent, as_utc
from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._protocol import Statement

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

    # --- loads, snapshots, deletion, positions --------------------------------------------------
