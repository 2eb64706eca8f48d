"""`StorageStrategy` over a SQLAlchemy session, with Core statements only.

The session is the user's: statements run in its current transaction, and nothing here ever
commits or rolls back. No ORM object is created, so a long-lived session does not fill up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from event_sourcery import StreamId
from event_sourcery.exceptions import (
    AnotherStreamWithThisNameButOtherIdExists,
    ConcurrentStreamWriteError,
    EventStoreException,
    IncompatibleUuidAndName,
    StorageError,
)
from event_sourcery.interfaces import (
    MISSING,
    NO_VERSIONING,
    VERSIONLESS,
    ExpectedVersion,
    RawEvent,
    StorageStrategy,
    StreamState,
    as_utc,
    check_append,
    check_snapshot,
)
from sqlalchemy import Connection, CursorResult, exc
from sqlalchemy.orm import Session, scoped_session

from event_sourcery_sqlalchemy._errors import (
    DATABASE_ERRORS,
    is_duplicate_key,
    translate,
)
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._statements import IdFrom, Statements, statements_for

# Versions are BIGINT. A larger expected version or range bound matches no stored version;
# it is clamped instead of bound, because some drivers cannot bind it at all.
_MAX_VERSION = 2**63 - 1
# The slow path re-reads when a concurrent writer changed the stream row between its read and
# its conditional write; that needs a writer committing in exactly that gap, so it is rare.
_ATTEMPTS = 3

AnySession = Session | scoped_session[Session]


# Rows are typed `Any`: `Row`'s type parameters differ between SQLAlchemy 2.0 and 2.1.


def _state(row: Any) -> StreamState:
    if row is None:
        return MISSING
    return VERSIONLESS if row.version is None else int(row.version)


def _check_name(stream_id: StreamId, own: Any, holder: Any) -> None:
    """The name rules of the in-memory backend, on the locked rows of the slow path."""
    name = stream_id.name
    if name is None:
        return
    if own is not None and own.name is not None and own.name != name:
        raise IncompatibleUuidAndName(stream_id.uuid, own.name, name)
    if holder is not None:
        raise AnotherStreamWithThisNameButOtherIdExists(
            name, stream_id.category, holder.uuid, stream_id.uuid
        )


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None  # a single-row INSERT always knows it
    return int(key[0])


class SQLAlchemyStorageStrategy(StorageStrategy):
    """Stores streams in the tables of `models`, through `session`, for one tenant.

    Appending runs two statements in the normal case: one that claims the stream row (a
    conditional UPDATE of its version, or an INSERT of a new stream) and one multi-row INSERT
    of the events. Only when the claim matches no row does it read the stream, to raise the
    exact error or to bind a name.
    """

    def __init__(
        self, session: AnySession, models: SQLAlchemyModels, tenant_id: str | None = None
    ) -> None:
        self._session = session
        self._models = models
        self.tenant_id = tenant_id
        # Tenant ids are never empty, so '' stores the default (tenant-less) context.
        self._tenant = "" if tenant_id is None else tenant_id

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self._session, self._models, tenant_id)

    def _open(self) -> tuple[Connection, Statements]:
        connection = self._session.connection()
        return connection, statements_for(self._models, connection.dialect)

    def _key(self, stream_id: StreamId) -> dict[str, Any]:
        return {
            "p_tenant": self._tenant,
            "p_category": stream_id.category or "",
            "p_uuid": stream_id.uuid,
        }

    # --- reading ------------------------------------------------------------------------------

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        params = self._key(stream_id)
        if start is not None:
            params["p_start"] = min(start, _MAX_VERSION)
        if stop is not None and stop <= _MAX_VERSION:
            params["p_stop"] = stop
        try:
            connection, sql = self._open()
            statement = sql.load["p_start" in params, "p_stop" in params]
            rows = connection.execute(statement, params).all()
        except DATABASE_ERRORS as error:
            raise translate(error, f"loading stream {stream_id!r}") from error
        if not rows:
            return []
        stored = StreamId(stream_id.uuid, name=rows[0].name, category=stream_id.category)
        read = sql.load_columns
        uuid_, json_, time_ = read.read_uuid, read.read_json, read.read_time
        return [
            RawEvent(uuid_(uuid), stored, type_, version, time_(at), json_(data), json_(ctx))
            for version, uuid, type_, data, ctx, at, _, _ in rows
        ]

    def current_position(self) -> int:
        try:
            connection, sql = self._open()
            return int(connection.execute(sql.position).scalar_one())
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the current position") from error

    # --- appending ----------------------------------------------------------------------------

    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        try:
            connection, sql = self._open()
            stream_pk = self._claim(connection, sql, stream_id, expected, events[-1].version)
            return self._insert_rows(connection, sql, stream_pk, events)
        except DATABASE_ERRORS as error:
            conflict = None
            if expected is not NO_VERSIONING:
                # A uniqueness or foreign key violation here means a concurrent writer (or a
                # concurrent delete) got in first; the constraints back up the claim.
                def conflict() -> EventStoreException:
                    return ConcurrentStreamWriteError(stream_id, expected, None)

            raise translate(
                error,
                f"appending to stream {stream_id!r}",
                conflict=conflict,
                writing_events=True,
            ) from error

    def _claim(
        self,
        connection: Connection,
        sql: Statements,
        stream_id: StreamId,
        expected: ExpectedVersion,
        version: int | None,
    ) -> int:
        """Check the stream's state, set its new version; return its row id."""
        key = self._key(stream_id)
        if expected is NO_VERSIONING:
            row = connection.execute(sql.find_stream, key).first()
            if row is None:
                created = self._create(connection, sql, key, stream_id.name, None)
                if created is not None:
                    return created
            elif row.version is None and stream_id.name in (None, row.name):
                return int(row.id)
        elif expected == 0:
            created = self._create(connection, sql, key, stream_id.name, version)
            if created is not None:
                return created
        elif version is not None and version <= _MAX_VERSION:
            bumped = self._bump(connection, sql, key, stream_id.name, expected, version)
            if bumped is not None:
                return bumped
        return self._claim_slowly(connection, sql, stream_id, expected, version)

    def _create(
        self,
        connection: Connection,
        sql: Statements,
        key: dict[str, Any],
        name: str | None,
        version: int | None,
    ) -> int | None:
        """Insert the stream row; its id, or None if the stream (or its name) exists."""
        params = {**key, "p_name": name, "p_version": version}
        try:
            result = connection.execute(sql.create_stream, params)
        except exc.IntegrityError as error:
            # Only where the statement is known to fail alone (see `_create_stream`).
            if sql.create_is_conflict_safe or not is_duplicate_key(error):
                raise
            return None
        if sql.create_id_from is IdFrom.RETURNING:
            created = result.scalar()
            return None if created is None else int(created)
        if result.rowcount != 1:
            return None
        return _inserted_id(result)

    def _bump(
        self,
        connection: Connection,
        sql: Statements,
        key: dict[str, Any],
        name: str | None,
        expected: int,
        version: int | None,
    ) -> int | None:
        """Move a versioned stream from `expected` to `version`; its row id, or None."""
        params = {**key, "p_expected": expected, "p_version": version}
        statement = sql.bump
        if name is not None:
            statement = sql.bump_named
            params["p_name"] = name
        # Concurrent writers queue on this row's lock; the loser's WHERE then no longer matches
        # (READ COMMITTED re-checks it on the new row; MariaDB's UPDATE reads the latest row).
        result = connection.execute(statement, params)
        if sql.bump_id_from is IdFrom.RETURNING:
            bumped = result.scalar()
            return None if bumped is None else int(bumped)
        if result.rowcount != 1:
            return None
        if sql.bump_id_from is IdFrom.LAST_INSERT_ID:
            return int(result.lastrowid)
        return int(connection.execute(sql.find_stream, key).scalar_one())

    def _claim_slowly(
        self,
        connection: Connection,
        sql: Statements,
        stream_id: StreamId,
        expected: ExpectedVersion,
        version: int | None,
    ) -> int:
        """Read the locked rows, raise the exact error, or create / rewrite the stream row."""
        key = self._key(stream_id)
        name = stream_id.name
        state: StreamState = MISSING
        for _ in range(_ATTEMPTS):
            own = connection.execute(sql.lock_own, key).first()
            holder = None
            if name is not None:
                holder = connection.execute(sql.read_name_holder, {**key, "p_name": name}).first()
                if holder is not None and holder.uuid == stream_id.uuid:
                    holder = None
            state = _state(own)
            check_append(stream_id, state, expected)
            _check_name(stream_id, own, holder)
            if own is None:
                created = self._create(connection, sql, key, name, version)
                if created is not None:
                    return created
                continue  # created concurrently: look again
            binds_name = name is not None and own.name is None
            if expected is NO_VERSIONING and not binds_name:
                return int(own.id)  # locked and as required: nothing to change
            params = {
                "p_id": own.id,
                "p_version": version,
                "p_name": name if binds_name else own.name,
            }
            if own.version is None:
                statement = sql.rewrite_versionless
            else:
                statement = sql.rewrite_versioned
                params["p_expected"] = own.version
            if connection.execute(statement, params).rowcount == 1:
                return int(own.id)
        if expected is NO_VERSIONING:
            raise StorageError(
                f"Stream {stream_id!r} kept changing under concurrent writers; retry the append."
            )
        raise ConcurrentStreamWriteError(
            stream_id, expected, state if isinstance(state, int) else None
        )

    def _insert_rows(
        self, connection: Connection, sql: Statements, stream_pk: int, events: Sequence[RawEvent]
    ) -> list[int]:
        tenant = self._tenant
        rows = [
            {
                "stream_id": stream_pk,
                "version": event.version,
                "uuid": event.uuid,
                "type": event.type,
                "data": event.data,
                "context": event.context,
                # Only PostgreSQL keeps the zone; the others store the UTC wall time.
                "created_at": as_utc(event.created_at),
                "tenant_id": tenant,
            }
            for event in events
        ]
        if sql.events_return_ids:
            # One multi-row INSERT ... RETURNING. Ids grow in the order rows are inserted, so
            # sorted they are the positions of `events` in order.
            return sorted(connection.execute(sql.insert_events, rows).scalars())
        return [_inserted_id(connection.execute(sql.insert_events, row)) for row in rows]

    # --- snapshots and deletion ----------------------------------------------------------------

    def save_snapshot(self, snapshot: RawEvent) -> None:
        stream_id = snapshot.stream_id
        try:
            connection, sql = self._open()
            row = connection.execute(sql.find_stream, self._key(stream_id)).first()
            version = check_snapshot(stream_id, _state(row), snapshot.version)
            assert row is not None  # check_snapshot refuses a missing stream
            if sql.snapshot_delete is not None:
                connection.execute(sql.snapshot_delete, {"p_id": row.id})
            connection.execute(
                sql.snapshot_upsert,
                {
                    "stream_id": row.id,
                    "version": version,
                    "uuid": snapshot.uuid,
                    "type": snapshot.type,
                    "data": snapshot.data,
                    "context": snapshot.context,
                    "created_at": as_utc(snapshot.created_at),
                },
            )
        except DATABASE_ERRORS as error:
            raise translate(
                error, f"saving a snapshot of stream {stream_id!r}", writing_events=True
            ) from error

    def delete_stream(self, stream_id: StreamId) -> None:
        key = self._key(stream_id)
        try:
            connection, sql = self._open()
            for statement in sql.deletes:
                connection.execute(statement, key)
        except DATABASE_ERRORS as error:
            raise translate(error, f"deleting stream {stream_id!r}") from error
