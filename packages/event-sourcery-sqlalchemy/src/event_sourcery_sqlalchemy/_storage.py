"""`StorageStrategy` over a SQLAlchemy session, with Core statements only.

The session is the user's: statements run in its current transaction, and nothing here ever
commits or rolls back. No ORM object is created, so a long-lived session does not fill up.
"""

from __future__ import annotations

from collections.abc import Sequence
from json import dumps
from typing import Any, Self

from event_sourcery import StreamId
from event_sourcery.interfaces import (
    ExpectedVersion,
    RawEvent,
    StorageStrategy,
    as_utc,
    check_snapshot,
)
from event_sourcery.sql import (
    MAX_VERSION,
    append_events,
    drive,
    raw_from_text,
    state_of,
)
from sqlalchemy import Connection
from sqlalchemy.orm import Session, scoped_session

from event_sourcery_sqlalchemy._driver import runner
from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, ERRORS, translate
from event_sourcery_sqlalchemy._flavour import flavour_of
from event_sourcery_sqlalchemy._inflight import InFlight, in_flight_for
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import note_positions, resolve
from event_sourcery_sqlalchemy._statements import Statements, statements_for

AnySession = Session | scoped_session[Session]


class SQLAlchemyStorageStrategy(StorageStrategy):
    """Stores streams in the tables of `models`, through `session`, for one tenant.

    An append is one claim of the stream row plus one multi-row INSERT of its events (a single
    statement on PostgreSQL); a load is one query. The append is `event_sourcery.sql`'s
    protocol, run on the DB-API cursor of the session's connection (`_driver`).
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

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        params = self._key(stream_id)
        if start is not None:
            params["p_start"] = min(start, MAX_VERSION)
        if stop is not None and stop <= MAX_VERSION:
            params["p_stop"] = stop
        try:
            connection, sql = self._open()
            key = ("p_start" in params, "p_stop" in params)
            if sql.driver_load is not None:
                rows: Sequence[Any] = sql.driver_load[key].rows(connection, params)
            else:
                rows = connection.execute(sql.load[key], params).all()
        except DATABASE_ERRORS as error:
            raise translate(error, f"loading stream {stream_id!r}") from error
        if not rows:
            return []
        stored = StreamId(stream_id.uuid, name=rows[0][7], category=stream_id.category)
        read = sql.load_columns
        uuid_, time_ = read.read_uuid, read.read_time
        build = raw_from_text if read.json_is_text else RawEvent
        return [
            build(uuid_(uuid), stored, type_, version, time_(at), data, ctx, schema)
            for version, uuid, type_, schema, data, ctx, at, _, _ in rows
        ]

    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        try:
            connection = self._session.connection()
            flavour = flavour_of(self._models, connection.dialect)
            append = append_events(flavour, ERRORS, self._tenant, stream_id, expected, events)
            positions = drive(append, runner(connection))
            note_positions(resolve(self._session), positions)
            return positions
        except DATABASE_ERRORS as error:
            raise ERRORS.translate_append(error, stream_id, expected) from error

    def save_snapshot(self, snapshot: RawEvent) -> None:
        stream_id = snapshot.stream_id
        try:
            connection, sql = self._open()
            row = connection.execute(sql.find_stream, self._key(stream_id)).first()
            version = check_snapshot(stream_id, state_of(row), snapshot.version)
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
                    "schema_version": snapshot.schema_version,
                    "data": dumps(snapshot.data) if sql.json_as_text else snapshot.data,
                    "context": dumps(snapshot.context) if sql.json_as_text else snapshot.context,
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

    def current_position(self) -> int:
        # The newest position in this session's view, once every other transaction that was
        # in flight has ended: see `_inflight` for how each database tells them.
        try:
            connection, _ = self._open()
            key = ("in_flight", connection.dialect.name)
            in_flight: InFlight | None = self._models.cache.get(key)
            if in_flight is None:
                quote = connection.dialect.identifier_preparer.quote
                in_flight = in_flight_for(connection.dialect.name, self._models.events.name, quote)
                self._models.cache[key] = in_flight
            return in_flight.settled_position(connection)
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the current position") from error
