"""`StorageStrategy` over a Django database alias, with SQL of its own.

Statements run on the calling thread's connection of the alias, in its current transaction (the
event store wraps each write in `transaction.atomic`, see `_backend`); nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from event_sourcery import StreamId
from event_sourcery.interfaces import (
    ExpectedVersion,
    RawEvent,
    StorageStrategy,
    check_snapshot,
)
from event_sourcery.sql import (
    append_events,
    drive,
    raw_from_text,
    state_of,
)

from event_sourcery_django import _inflight
from event_sourcery_django._dialect import (
    MAX_VERSION,
    Dialect,
    dialect_of,
    dumps,
    raw_of_values,
    read_time,
    read_uuid,
)
from event_sourcery_django._errors import DATABASE_ERRORS, ERRORS, translate
from event_sourcery_django._flavour import flavour_of, runner

_PAYLOAD = "{t}.version, {uuid}, {t}.type, {t}.schema_version, {data}, {context}, {time}"


def _payload(sql: Dialect, table: str) -> str:
    return _PAYLOAD.format(
        t=table,
        uuid=sql.uuid_column(f"{table}.uuid"),
        data=sql.json_column(f"{table}.data"),
        context=sql.json_column(f"{table}.context"),
        time=sql.time_column(f"{table}.created_at"),
    )


def _load_statement(sql: Dialect, has_start: bool, has_stop: bool) -> str:
    """One round trip for `fetch_events`: the applicable snapshot, then the newer events.

    Rows: version, uuid, type, schema_version, data, context, created_at, stream name, position;
    ordered by version, then position (the snapshot's version is below those after it).
    """
    ident = "s.tenant_id = %s AND s.category = %s AND s.uuid = %s"
    events = _payload(sql, "e")
    stop = " AND e.version < %s" if has_stop else ""
    if has_start:
        return (
            f"SELECT {events}, s.name, e.id FROM {sql.streams} s "
            f"JOIN {sql.events} e ON e.stream_id = s.id "
            f"WHERE {ident} AND (e.version IS NULL OR (e.version >= %s{stop})) "
            "ORDER BY e.version, e.id"
        )
    snapshot_stop = " AND n.version < %s" if has_stop else ""
    snapshot = _payload(sql, "n")
    # Versions start at 1, so 0 stands for "no snapshot: every event".
    return (
        f"SELECT {snapshot}, s.name, 0 AS position FROM {sql.streams} s "
        f"JOIN {sql.snapshots} n ON n.stream_id = s.id WHERE {ident}{snapshot_stop} "
        "UNION ALL "
        f"SELECT {events}, s.name, e.id AS position FROM {sql.streams} s "
        f"LEFT JOIN {sql.snapshots} n ON n.stream_id = s.id{snapshot_stop} "
        f"JOIN {sql.events} e ON e.stream_id = s.id "
        f"WHERE {ident} AND (e.version IS NULL OR "
        f"(e.version > COALESCE(n.version, 0){stop})) "
        "ORDER BY 1, 9"
    )


class DjangoStorageStrategy(StorageStrategy):
    """Stores streams in the app's tables on database `using`, for one tenant.

    An append is one claim of the stream row plus one multi-row INSERT of its events; a load is
    one query. The append is `event_sourcery.sql`'s protocol, run on a Django cursor.
    """

    def __init__(self, using: str, tenant_id: str | None = None) -> None:
        self.using = using
        self.tenant_id = tenant_id
        # Tenant ids are never empty, so '' stores the default (tenant-less) context.
        self._tenant = "" if tenant_id is None else tenant_id

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self.using, tenant_id)

    def _open(self) -> tuple[BaseDatabaseWrapper, Dialect]:
        connection = connections[self.using]
        return connection, dialect_of(connection)

    def _key(self, sql: Dialect, stream_id: StreamId) -> list[Any]:
        return [self._tenant, stream_id.category or "", sql.uuid(stream_id.uuid)]

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        has_stop = stop is not None and stop <= MAX_VERSION
        try:
            connection, sql = self._open()
            key = self._key(sql, stream_id)
            if start is not None:
                params = [*key, min(start, MAX_VERSION)] + ([stop] if has_stop else [])
            else:
                stops = [stop] if has_stop else []
                params = [*key, *stops, *stops, *key, *stops]
            with connection.cursor() as cursor:
                cursor.execute(_load_statement(sql, start is not None, has_stop), params)
                rows = cursor.fetchall()
        except DATABASE_ERRORS as error:
            raise translate(error, f"loading stream {stream_id!r}") from error
        if not rows:
            return []
        stored = StreamId(stream_id.uuid, name=rows[0][7], category=stream_id.category)
        # One cheap call per value: this loop is most of a load's own work.
        build = raw_from_text if sql.json_is_text else raw_of_values
        return [
            build(read_uuid(uuid), stored, type_, version, read_time(at), data, ctx, schema)
            for version, uuid, type_, schema, data, ctx, at, _, _ in rows
        ]

    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        try:
            connection, sql = self._open()
            append = append_events(
                flavour_of(sql), ERRORS, self._tenant, stream_id, expected, events
            )
            with connection.cursor() as cursor:
                return drive(append, runner(cursor))
        except DATABASE_ERRORS as error:
            raise ERRORS.translate_append(error, stream_id, expected) from error

    def save_snapshot(self, snapshot: RawEvent) -> None:
        stream_id = snapshot.stream_id
        try:
            connection, sql = self._open()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, version, name FROM {sql.streams} "
                    "WHERE tenant_id = %s AND category = %s AND uuid = %s",
                    self._key(sql, stream_id),
                )
                row = cursor.fetchone()
                version = check_snapshot(stream_id, state_of(row), snapshot.version)
                assert row is not None  # check_snapshot refuses a missing stream
                columns = "version, uuid, type, schema_version, data, context, created_at"
                if sql.is_mysql:
                    upsert = "ON DUPLICATE KEY UPDATE " + ", ".join(
                        f"{c} = VALUES({c})" for c in columns.split(", ")
                    )
                else:
                    upsert = "ON CONFLICT (stream_id) DO UPDATE SET " + ", ".join(
                        f"{c} = excluded.{c}" for c in columns.split(", ")
                    )
                cursor.execute(
                    f"INSERT INTO {sql.snapshots} (stream_id, {columns}) "
                    f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s) {upsert}",
                    [
                        row[0],
                        version,
                        sql.uuid(snapshot.uuid),
                        snapshot.type,
                        snapshot.schema_version,
                        dumps(snapshot.data),
                        dumps(snapshot.context),
                        sql.time(snapshot.created_at),
                    ],
                )
        except DATABASE_ERRORS as error:
            raise translate(
                error, f"saving a snapshot of stream {stream_id!r}", writing_events=True
            ) from error

    def delete_stream(self, stream_id: StreamId) -> None:
        try:
            connection, sql = self._open()
            key = self._key(sql, stream_id)
            ident = "tenant_id = %s AND category = %s AND uuid = %s"
            stream = f"(SELECT id FROM {sql.streams} WHERE {ident})"
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {sql.events} WHERE stream_id = {stream}", key)
                cursor.execute(f"DELETE FROM {sql.snapshots} WHERE stream_id = {stream}", key)
                cursor.execute(f"DELETE FROM {sql.streams} WHERE {ident}", key)
        except DATABASE_ERRORS as error:
            raise translate(error, f"deleting stream {stream_id!r}") from error

    def current_position(self) -> int:
        try:
            connection, sql = self._open()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {sql.events}")
                row = cursor.fetchone()
                # Positions below it that are still in flight: wait until their writers end.
                _inflight.wait_until_ended(cursor, sql, _inflight.marker(cursor, sql))
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the current position") from error
        return int(row[0]) if row else 0
