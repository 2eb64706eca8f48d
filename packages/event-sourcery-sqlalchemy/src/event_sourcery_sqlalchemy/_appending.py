"""One append: claim the stream row, then insert the events; the exact error otherwise.

The normal case is two statements (one on PostgreSQL), whatever the number of events and
however long the stream: a claim of the stream row that checks and moves its version in one
conditional statement, and one multi-row INSERT of the events. The stream is read only when the
claim matches no row (the slow path), to raise the exact error, to bind a name, or to create
the stream. Events are never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from event_sourcery.sql import (
    violates_event_id_index,
)
from sqlalchemy import Connection, CursorResult, exc

from event_sourcery_sqlalchemy._errors import is_duplicate_key
from event_sourcery_sqlalchemy._statements import IdFrom, Statements

#: Versions are BIGINT. A larger expected version or range bound matches no stored version;
#: it is clamped or sent down the slow path instead of bound, as some drivers cannot bind it.
MAX_VERSION = 2**63 - 1
# The slow path re-reads when a concurrent writer changed the stream row between its read and
# its conditional write; that needs a writer committing in exactly that gap, so it is rare.
_ATTEMPTS = 3

# Rows are typed `Any`: `Row`'s type parameters differ between SQLAlchemy 2.0 and 2.1.


def state_of(row: Any) -> StreamState:
    """The state `check_append` / `check_snapshot` take, from a stream row (or None)."""
    if row is None:
        return MISSING
    return VERSIONLESS if row.version is None else int(row.version)


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None  # a single-row INSERT always knows it
    return int(key[0])


class _Repeat(Exception):
    """The append was stored before; carries the positions it got then."""

    def __init__(self, positions: list[int]) -> None:
        super().__init__()
        self.positions = positions


class Append:
    """Appends `events` at `expected` to one stream, in the transaction of `connection`."""

    __slots__ = (
        "bound_name",
        "connection",
        "created",
        "events",
        "expected",
        "inserted",
        "key",
        "sql",
        "stream_id",
        "tenant",
        "version",
    )

    def __init__(
        self,
        connection: Connection,
        sql: Statements,
        tenant: str,
        stream_id: StreamId,
        expected: ExpectedVersion,
        events: Sequence[RawEvent],
    ) -> None:
        self.connection = connection
        self.sql = sql
        self.tenant = tenant
        self.stream_id = stream_id
        self.expected = expected
        self.events = events
        self.version = events[-1].version  # the stream's version after the append
        self.key: dict[str, Any] = {
            "p_tenant": tenant,
            "p_category": stream_id.category or "",
            "p_uuid": stream_id.uuid,
        }
        # What the claim did, to take it back if the events are refused (`_undo_claim`).
        self.created = False
        self.bound_name = False
        self.inserted: list[int] = []  # events inserted one by one, see `_insert_rows`

    def run(self) -> list[int]:
        """Store the events; their positions, in order."""
        fits = self.version is None or self.version <= MAX_VERSION
        try:
            if self.sql.append_at_once is not None and fits:
                positions = self._at_once()
                if positions:
                    return positions
                stream_pk = self._after_miss()
            else:
                stream_pk = self._claim()
        except _Repeat as repeat:
            return repeat.positions
        try:
            return self._insert_rows(stream_pk)
        except exc.IntegrityError as error:
            if violates_event_id_index(str(error.orig)):
                self._undo_claim(stream_pk)
            raise

    def _undo_claim(self, stream_pk: int) -> None:
        """Take back the claim after the events were refused: nothing of the append stays.

        Where a failed statement leaves the transaction open, the claim's write would
        otherwise be committed with the caller's work: a stream at a version without events.
        """
        if self.sql.undo_claim is None:
            return
        delete, restore_version, unbind_name, delete_events = self.sql.undo_claim
        if self.inserted:
            self.connection.execute(delete_events, {"p_ids": self.inserted})
        if self.created:
            self.connection.execute(delete, {"p_id": stream_pk})
            return
        if isinstance(self.expected, int):  # a versionless claim leaves the version as it was
            self.connection.execute(
                restore_version, {"p_id": stream_pk, "p_version": self.expected}
            )
        if self.bound_name:
            self.connection.execute(unbind_name, {"p_id": stream_pk})

    # --- the fast paths --------------------------------------------------------------------------

    def _at_once(self) -> list[int]:
        """PostgreSQL: claim and insert in one statement; [] if the claim matched no row."""
        params = dict(self.key)
        name = self.stream_id.name
        if self.expected is NO_VERSIONING:
            kind = "versionless"  # creates the stream if it is missing
            params["p_name"] = name
        elif self.expected == 0:
            kind = "create"
            params.update(p_name=name, p_version=self.version)
        else:
            kind = "bump"
            params.update(p_expected=self.expected, p_version=self.version)
        if name is not None and kind != "create":
            kind += "_named"
            params["p_name"] = name
        events = self.events
        if len(events) == 1:
            (event,) = events
            params.update(
                e1_version=event.version,
                e1_uuid=event.uuid,
                e1_type=event.type,
                e1_schema_version=event.schema_version,
                e1_data=event.data_json(),
                e1_context=event.context_json(),
                e1_created_at=as_utc(event.created_at),
            )
            one = True
        else:
            params.update(
                e_version=[event.version for event in events],
                e_uuid=[event.uuid for event in events],
                e_type=[event.type for event in events],
                e_schema_version=[event.schema_version for event in events],
                e_data=f"[{','.join([event.data_json() for event in events])}]",
                e_context=f"[{','.join([event.context_json() for event in events])}]",
                e_created_at=[as_utc(event.created_at) for event in events],
            )
            one = False
        sql = self.sql
        if sql.driver_at_once is not None:
            rows = sql.driver_at_once[kind, one].rows(self.connection, params)
            return sorted(row[0] for row in rows)
        statements = sql.append_one_at_once if one else sql.append_at_once
        assert statements is not None
        return sorted(self.connection.execute(statements[kind], params).scalars())

    def _after_miss(self) -> int:
        """The claim matched nothing: create a missing versionless stream, else settle why."""
        if self.expected is NO_VERSIONING:
            created = self._create()
            if created is not None:
                return created
        return self._claim_slowly()

    def _claim(self) -> int:
        """Check the stream's state and set its new version; return its row id."""
        expected, name = self.expected, self.stream_id.name
        if expected is NO_VERSIONING:
            touched = self._touch()
            if touched is not None:
                return touched
            row = self.connection.execute(self.sql.find_stream, self.key).first()
            if row is None:
                created = self._create()
                if created is not None:
                    return created
            elif row.version is None and name in (None, row.name):
                return int(row.id)
        elif expected == 0:
            created = self._create()
            if created is not None:
                return created
        elif self.version is not None and self.version <= MAX_VERSION:
            bumped = self._bump(expected)
            if bumped is not None:
                return bumped
        return self._claim_slowly()

    def _touch(self) -> int | None:
        """MariaDB: claim an existing versionless stream with a write; its row id, or None."""
        if self.sql.touch is None:
            return None
        plain, named = self.sql.touch
        name = self.stream_id.name
        params = self.key if name is None else {**self.key, "p_name": name}
        result = self.connection.execute(plain if name is None else named, params)
        return int(result.lastrowid) if result.rowcount == 1 else None

    def _create(self) -> int | None:
        """Insert the stream row; its id, or None if the stream (or its name) exists."""
        sql = self.sql
        params = {**self.key, "p_name": self.stream_id.name, "p_version": self.version}
        try:
            if sql.driver_claim is not None:  # only with RETURNING (`DriverInsert.supports`)
                rows = sql.driver_claim["create"].rows(self.connection, params)
                return self._created(int(rows[0][0]) if rows else None)
            result = self.connection.execute(sql.create_stream, params)
        except exc.IntegrityError as error:
            # Only where the statement is known to fail alone (see `_create_stream`).
            if sql.create_is_conflict_safe or not is_duplicate_key(error):
                raise
            return None
        if sql.create_id_from is IdFrom.RETURNING:
            created = result.scalar()
            return self._created(None if created is None else int(created))
        if result.rowcount != 1:
            return None
        return self._created(_inserted_id(result))

    def _created(self, stream_pk: int | None) -> int | None:
        self.created = stream_pk is not None
        return stream_pk

    def _bump(self, expected: int) -> int | None:
        """Move a versioned stream from `expected` to the new version; its row id, or None."""
        sql, name = self.sql, self.stream_id.name
        params = {**self.key, "p_expected": expected, "p_version": self.version}
        statement = sql.bump
        if name is not None:
            statement = sql.bump_named
            params["p_name"] = name
        # Concurrent writers queue on this row's lock; the loser's WHERE then no longer matches
        # (READ COMMITTED re-checks it on the new row; MariaDB's UPDATE reads the latest row).
        if sql.driver_claim is not None and sql.bump_id_from is not IdFrom.LOOKUP:
            claim = sql.driver_claim["bump" if name is None else "bump_named"]
            outcome = claim.outcome(self.connection, params)
            if sql.bump_id_from is IdFrom.RETURNING:
                return int(outcome.rows[0][0]) if outcome.rows else None
            return int(outcome.lastrowid) if outcome.rowcount == 1 else None
        result = self.connection.execute(statement, params)
        if sql.bump_id_from is IdFrom.RETURNING:
            bumped = result.scalar()
            return None if bumped is None else int(bumped)
        if result.rowcount != 1:
            return None
        if sql.bump_id_from is IdFrom.LAST_INSERT_ID:
            return int(result.lastrowid)
        return int(self.connection.execute(sql.find_stream, self.key).scalar_one())

    # --- the slow path ---------------------------------------------------------------------------

    def _claim_slowly(self) -> int:
        """Read the rows with locks; raise the exact error, or create / rewrite the stream row."""
        connection, sql, stream_id, expected = (
            self.connection,
            self.sql,
            self.stream_id,
            self.expected,
        )
        name = stream_id.name
        state: StreamState = MISSING
        for _ in range(_ATTEMPTS):
            own = connection.execute(sql.lock_own, self.key).first()
            holder = None
            if name is not None:
                holder = connection.execute(
                    sql.read_name_holder, {**self.key, "p_name": name}
                ).first()
                if holder is not None and holder.uuid == stream_id.uuid:
                    holder = None
            state = state_of(own)
            try:
                check_append(stream_id, state, expected)
            except ConcurrentStreamWriteError:
                self._repeat(own)
                raise
            check_name(stream_id, own.name if own else None, holder.uuid if holder else None)
            if own is None:
                created = self._create()
                if created is not None:
                    return created
                continue  # created concurrently: look again
            binds_name = name is not None and own.name is None
            if expected is NO_VERSIONING and not binds_name:
                return int(own.id)  # as required already: nothing to change
            params = {
                "p_id": own.id,
                "p_version": self.version,
                "p_name": name if binds_name else own.name,
            }
            if own.version is None:
                statement = sql.rewrite_versionless
            else:
                statement = sql.rewrite_versioned
                params["p_expected"] = own.version
            if connection.execute(statement, params).rowcount == 1:
                self.bound_name = binds_name
                return int(own.id)
        if expected is NO_VERSIONING:
            raise StorageError(
                f"Stream {stream_id!r} kept changing under concurrent writers; retry the append."
            )
        raise ConcurrentStreamWriteError(
            stream_id, expected, state if isinstance(state, int) else None
        )

    def _repeat(self, own: Any) -> None:
        """Raise `_Repeat` if this append is stored already: a re-send after a lost reply.

        The kit's rule: the events (by uuid, in order) are exactly the stream's events from
        expected + 1 on. Only reached on the slow path, so appends never pay for it.
        """
        expected = self.expected
        if own is None or own.version is None or not isinstance(expected, int):
            return
        last = expected + len(self.events)
        if own.version < last or last > MAX_VERSION:
            return
        params = {"p_id": own.id, "p_first": expected + 1, "p_last": last}
        rows = self.connection.execute(self.sql.stored_range, params).all()
        if is_repeat([row.uuid for row in rows], [event.uuid for event in self.events]):
            raise _Repeat([int(row.id) for row in rows])

    # --- the events ------------------------------------------------------------------------------

    def _insert_rows(self, stream_pk: int) -> list[int]:
        tenant, sql = self.tenant, self.sql
        if sql.driver_insert is not None:
            values = [
                # In `INSERTED` order. Only PostgreSQL keeps the zone; the others store the
                # UTC wall time.
                [
                    stream_pk,
                    event.version,
                    event.uuid,
                    event.type,
                    event.schema_version,
                    event.data_json(),
                    event.context_json(),
                    as_utc(event.created_at),
                    tenant,
                ]
                for event in self.events
            ]
            # Ids grow in the order rows are inserted: sorted, they are the events' positions.
            return sorted(sql.driver_insert.ids(self.connection, values))
        rows = [
            {
                "stream_id": stream_pk,
                "version": event.version,
                "uuid": event.uuid,
                "type": event.type,
                "schema_version": event.schema_version,
                "data": event.data_json(),  # bound as text: see `Statements.insert_events`
                "context": event.context_json(),
                # Only PostgreSQL keeps the zone; the others store the UTC wall time.
                "created_at": as_utc(event.created_at),
                "tenant_id": tenant,
            }
            for event in self.events
        ]
        if sql.events_return_ids:
            # One multi-row INSERT ... RETURNING. Ids grow in the order rows are inserted, so
            # sorted they are the positions of `events` in order.
            # One row goes as a plain execute: the executemany path costs more per call.
            params = rows[0] if len(rows) == 1 else rows
            return sorted(self.connection.execute(sql.insert_events, params).scalars())
        # One at a time: remember each, so a refused later row can be taken back with them.
        for row in rows:
            self.inserted.append(_inserted_id(self.connection.execute(sql.insert_events, row)))
        return self.inserted
