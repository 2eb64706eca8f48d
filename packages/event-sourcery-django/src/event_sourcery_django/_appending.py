"""One append: claim the stream row, then insert the events; the exact error otherwise.

The normal case is two statements whatever the number of events: a claim of the stream row
that checks and moves its version in one conditional statement (optimistic concurrency without
a read), and one multi-row INSERT ... RETURNING of the events. The stream is read only when the
claim matches no row (the slow path), to raise the exact error, to bind a name or to create it.

The stream row is always written (or share-locked) BEFORE the events get their positions: that
gives the transaction its id before any position is drawn, which the gap rule of subscriptions
relies on (see `event_sourcery.sql._gaps`). Keep that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError
from django.db.backends.utils import CursorWrapper
from event_sourcery import StreamId
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    StorageError,
)
from event_sourcery.interfaces import (
    MISSING,
    NO_VERSIONING,
    VERSIONLESS,
    ExpectedVersion,
    RawEvent,
    StreamState,
    as_utc,
    check_append,
    check_name,
    is_repeat,
)

from event_sourcery_django._dialect import MAX_VERSION, Dialect, dumps, read_uuid
from event_sourcery_django._errors import is_duplicate_key

# The slow path looks again when a concurrent writer changed the stream row between its read
# and its conditional write; that takes a writer committing in exactly that gap, so it is rare.
_ATTEMPTS = 3
# Rows per INSERT of events: 9 parameters each stays far below every database's limit.
_CHUNK = 1000
#: The channel PostgreSQL appends notify (see `_wakeups`).
CHANNEL = "event_sourcery_django"

#: PostgreSQL's insert of an append's events from one JSON document (`_insert_from_json`).
#: The NOTIFY wakes LISTENing subscriptions when (and only if) the transaction commits;
#: PostgreSQL folds the repeated notifications of one transaction into one.
_INSERT_FROM_JSON = (
    "WITH inserted AS (INSERT INTO {events} "
    "(stream_id, version, uuid, type, schema_version, data, context, created_at, tenant_id) "
    "SELECT %s, v, u, t, s, d::text, c::text, a, %s FROM ROWS FROM (json_to_recordset(%s::json) "
    "AS (v bigint, u uuid, t text, s int, d json, c json, a timestamptz)) "
    "WITH ORDINALITY AS r(v, u, t, s, d, c, a, n) ORDER BY n RETURNING id) "
    "{notify}"
)


def _fits_json(event: RawEvent) -> bool:
    """Whether `event`'s payloads pass PostgreSQL's json parser unchanged (Django's columns
    are text, which keep anything): not escapes such as lone surrogates or NUL. (NaN and
    infinities, which it refuses too, never reach a backend: the core refuses them.)"""
    return all(
        text is not None and "\\u" not in text for text in (event.data_text, event.context_text)
    )


_NOTIFY = f"SELECT inserted.id FROM inserted, pg_notify('{CHANNEL}', '') AS wake"


def state_of(row: Sequence[Any] | None) -> StreamState:
    """The state `check_append` / `check_snapshot` take, from a (id, version, name) row."""
    if row is None:
        return MISSING
    return VERSIONLESS if row[1] is None else int(row[1])


class _Repeat(Exception):
    """The append was stored before; carries the positions it got then."""

    def __init__(self, positions: list[int]) -> None:
        super().__init__()
        self.positions = positions


class Append:
    """Appends `events` at `expected` to one stream, through `cursor` (in a transaction)."""

    def __init__(
        self,
        cursor: CursorWrapper,
        dialect: Dialect,
        tenant: str,
        stream_id: StreamId,
        expected: ExpectedVersion,
        events: Sequence[RawEvent],
    ) -> None:
        self.cursor = cursor
        self.sql = dialect
        self.tenant = tenant
        self.stream_id = stream_id
        self.expected = expected
        self.events = events
        self.version = events[-1].version  # the stream's version after the append
        self.key = [tenant, stream_id.category or "", dialect.uuid(stream_id.uuid)]
        self.ident = "tenant_id = %s AND category = %s AND uuid = %s"

    def run(self) -> list[int]:
        """Store the events; their positions, in order."""
        try:
            stream_pk = self._claim()
        except _Repeat as repeat:
            return repeat.positions
        return self._insert_events(stream_pk)

    def _one(self, sql: str, params: Sequence[Any]) -> Any:
        self.cursor.execute(sql, params)
        return self.cursor.fetchone()

    # --- the fast paths ------------------------------------------------------------------------

    def _claim(self) -> int:
        """Check the stream's state and set its new version; return its row id."""
        expected, name = self.expected, self.stream_id.name
        if expected is NO_VERSIONING:
            row = self._one(self._find(self.sql.share_lock), self.key)
            if row is None:
                created = self._create()
                if created is not None:
                    return created
            elif row[1] is None and name in (None, row[2]):
                return int(row[0])
        elif expected == 0:
            created = self._create()
            if created is not None:
                return created
        elif self.version is not None and self.version <= MAX_VERSION:
            bumped = self._bump(expected)
            if bumped is not None:
                return bumped
        return self._claim_slowly()

    def _find(self, lock: str) -> str:
        return f"SELECT id, version, name FROM {self.sql.streams} WHERE {self.ident}{lock}"

    def _create(self) -> int | None:
        """Insert the stream row; its id, or None if the stream (or its name) exists."""
        sql = self.sql
        statement = (
            f"INSERT INTO {sql.streams} (tenant_id, category, uuid, name, version) "
            f"VALUES (%s, %s, %s, %s, %s){sql.on_conflict_do_nothing}"
        )
        params = [*self.key, self.stream_id.name, self.version]
        if sql.is_mysql:
            try:
                self.cursor.execute(statement, params)
            except IntegrityError as error:
                # MariaDB rolls back only the failed statement: the transaction goes on.
                if not is_duplicate_key(error):
                    raise
                return None
            return int(self.cursor.lastrowid)
        row = self._one(statement + " RETURNING id", params)
        return None if row is None else int(row[0])

    def _bump(self, expected: int) -> int | None:
        """Move a versioned stream from `expected` to the new version; its row id, or None."""
        sql, name = self.sql, self.stream_id.name
        where = f"{self.ident} AND version = %s"
        params = [self.version, *self.key, expected]
        if name is not None:
            where += " AND name = %s"
            params.append(name)
        # Concurrent writers queue on this row's lock; the loser's WHERE then no longer matches
        # (READ COMMITTED re-checks it on the new row; MariaDB's UPDATE reads the latest row).
        if sql.is_mysql:
            # LAST_INSERT_ID(id) makes the server report the matched row's id with the result.
            self.cursor.execute(
                f"UPDATE {sql.streams} SET version = %s, id = LAST_INSERT_ID(id) WHERE {where}",
                params,
            )
            return int(self.cursor.lastrowid) if self.cursor.rowcount == 1 else None
        row = self._one(f"UPDATE {sql.streams} SET version = %s WHERE {where} RETURNING id", params)
        return None if row is None else int(row[0])

    # --- the slow path -------------------------------------------------------------------------

    def _claim_slowly(self) -> int:
        """Read the rows with locks; raise the exact error, or create / rewrite the stream row."""
        sql, stream_id, expected = self.sql, self.stream_id, self.expected
        name = stream_id.name
        state: StreamState = MISSING
        # Shared locks: the losers of a race all get here at once, and on MariaDB each already
        # holds a shared lock from its duplicate key error; exclusive requests would deadlock.
        for _ in range(_ATTEMPTS):
            own = self._one(self._find(sql.share_lock), self.key)
            holder = None
            if name is not None:
                found = self._one(
                    f"SELECT uuid FROM {sql.streams} WHERE tenant_id = %s AND category = %s "
                    f"AND name = %s{sql.share_lock}",
                    [self.tenant, stream_id.category or "", name],
                )
                if found is not None and read_uuid(found[0]) != stream_id.uuid:
                    holder = read_uuid(found[0])
            state = state_of(own)
            try:
                check_append(stream_id, state, expected)
            except ConcurrentStreamWriteError:
                self._repeat(own)
                raise
            check_name(stream_id, own[2] if own else None, holder)
            if own is None:
                created = self._create()
                if created is not None:
                    return created
                continue  # created concurrently: look again
            binds_name = name is not None and own[2] is None
            if expected is NO_VERSIONING and not binds_name:
                return int(own[0])  # as required already: nothing to change
            where = "id = %s AND version IS NULL" if own[1] is None else "id = %s AND version = %s"
            params = [self.version, name if binds_name else own[2], own[0]]
            if own[1] is not None:
                params.append(own[1])
            self.cursor.execute(
                f"UPDATE {sql.streams} SET version = %s, name = %s WHERE {where}", params
            )
            if self.cursor.rowcount == 1:
                return int(own[0])
        if expected is NO_VERSIONING:
            raise StorageError(
                f"Stream {stream_id!r} kept changing under concurrent writers; retry the append."
            )
        raise ConcurrentStreamWriteError(
            stream_id, expected, state if isinstance(state, int) else None
        )

    def _repeat(self, own: Sequence[Any] | None) -> None:
        """Raise `_Repeat` if this append is stored already: a re-send after a lost reply.

        The kit's rule: the events (by uuid, in order) are exactly the stream's events from
        expected + 1 on. Only reached on the slow path, so appends never pay for it.
        """
        expected = self.expected
        if own is None or own[1] is None or not isinstance(expected, int):
            return
        last = expected + len(self.events)
        if own[1] < last or last > MAX_VERSION:
            return
        self.cursor.execute(
            f"SELECT id, uuid FROM {self.sql.events} WHERE stream_id = %s AND version >= %s "
            "AND version <= %s ORDER BY version",
            [own[0], expected + 1, last],
        )
        rows = self.cursor.fetchall()
        if is_repeat([read_uuid(row[1]) for row in rows], [event.uuid for event in self.events]):
            raise _Repeat([int(row[0]) for row in rows])

    # --- the events ----------------------------------------------------------------------------

    def _insert_events(self, stream_pk: int) -> list[int]:
        if self.sql.is_postgresql and len(self.events) > 1 and all(map(_fits_json, self.events)):
            return self._insert_from_json(stream_pk)
        sql, tenant = self.sql, self.tenant
        columns = "stream_id, version, uuid, type, schema_version, data, context, created_at"
        positions: list[int] = []
        at, stored_at = None, None
        for start in range(0, len(self.events), _CHUNK):
            chunk = self.events[start : start + _CHUNK]
            params: list[Any] = []
            for event in chunk:
                if event.created_at is not at:  # an append's events usually share it
                    at, stored_at = event.created_at, sql.time(event.created_at)
                params += [
                    stream_pk,
                    event.version,
                    sql.uuid(event.uuid),
                    event.type,
                    event.schema_version,
                    event.data_json(),
                    event.context_json(),
                    stored_at,
                    tenant,
                ]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            insert = f"INSERT INTO {sql.events} ({columns}, tenant_id) VALUES {values} RETURNING id"
            if sql.is_postgresql:  # one event, or payloads json would refuse (`_fits_json`)
                insert = f"WITH inserted AS ({insert}) {_NOTIFY}"
            self.cursor.execute(insert, params)
            # Ids are drawn in VALUES order, so sorted ids are the events' positions in order.
            positions += sorted(int(row[0]) for row in self.cursor.fetchall())
        return positions

    def _insert_from_json(self, stream_pk: int) -> list[int]:
        """PostgreSQL: every event in one JSON document, one short statement for any number.

        Django binds parameters on the client, and psycopg parses a statement's placeholders
        on every execute unless the statement is short enough to cache: a 100-row VALUES list
        spent more time there than anywhere else in an append. The payloads are JSON already,
        so they go into the document as they are; `json` keeps each value's text exactly.
        """
        types: dict[str, str] = {}
        at, iso = None, ""
        rows: list[str] = []
        for event in self.events:
            if event.created_at is not at:
                at, iso = event.created_at, as_utc(event.created_at).isoformat()
            type_ = types.get(event.type) or types.setdefault(event.type, dumps(event.type))
            version = "null" if event.version is None else event.version
            rows.append(
                f'{{"v":{version},"u":"{event.uuid}","t":{type_},"s":{event.schema_version},'
                f'"d":{event.data_json()},"c":{event.context_json()},"a":"{iso}"}}'
            )
        self.cursor.execute(
            _INSERT_FROM_JSON.format(events=self.sql.events, notify=_NOTIFY),
            [stream_pk, self.tenant, f"[{','.join(rows)}]"],
        )
        # Ids are drawn in document order, so sorted ids are the events' positions in order.
        return sorted(int(row[0]) for row in self.cursor.fetchall())
