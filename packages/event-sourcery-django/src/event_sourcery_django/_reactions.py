"""The outbox and projection checkpoints, in the caller's transaction on database `using`.

Both need the caller's transaction: a claim of outbox entries and a checkpoint are locked until
it ends, and a projection's checkpoint must commit with its read model. Run them inside
``transaction.atomic(using=...)`` (the worker command does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from event_sourcery import StreamId
from event_sourcery.exceptions import StorageError
from event_sourcery.interfaces import (
    CheckpointStrategy,
    OutboxEntry,
    OutboxStrategy,
    RawEvent,
    RecordedRaw,
)

from event_sourcery_django import _tables
from event_sourcery_django._dialect import (
    Dialect,
    dialect_of,
    dumps,
    read_json,
    read_time,
    read_uuid,
)
from event_sourcery_django._errors import DATABASE_ERRORS, translate

_ENTRY = (
    "id, position, tenant_id, category, stream_uuid, stream_name, version, uuid, type, "
    "schema_version, data, context, {created_at}, attempts, last_error"
)


def _in_transaction(connection: BaseDatabaseWrapper, what: str) -> None:
    if connection.get_autocommit() and not connection.in_atomic_block:
        raise StorageError(
            f"{what} must run in a transaction: wrap it in "
            f"transaction.atomic(using={connection.alias!r}), so that its locks last and its "
            "writes commit together."
        )


class _OnAlias:
    def __init__(self, using: str) -> None:
        self.using = using

    def _open(self) -> tuple[BaseDatabaseWrapper, Dialect, str]:
        connection = connections[self.using]
        sql = dialect_of(connection)
        return connection, sql, connection.ops.quote_name(self._table())

    def _table(self) -> str:
        raise NotImplementedError


class DjangoOutboxStrategy(_OnAlias, OutboxStrategy):
    """Outbox entries in the app's outbox table (system-wide: every tenant)."""

    def _table(self) -> str:
        return _tables.OUTBOX

    def _run(self, action: str, statement: str, params: Sequence[Any]) -> list[Any]:
        try:
            connection, _, table = self._open()
            with connection.cursor() as cursor:
                cursor.execute(statement.format(table=table), params)
                return list(cursor.fetchall()) if cursor.description else []
        except DATABASE_ERRORS as error:
            raise translate(error, action) from error

    def put(self, records: Sequence[RecordedRaw]) -> None:
        try:
            connection, sql, table = self._open()
            params: list[Any] = []
            for record in records:
                raw = record.raw
                params += [
                    record.position,
                    record.tenant_id or "",
                    raw.stream_id.category or "",
                    sql.uuid(raw.stream_id.uuid),
                    raw.stream_id.name,
                    raw.version,
                    sql.uuid(raw.uuid),
                    raw.type,
                    raw.schema_version,
                    dumps(raw.data),
                    dumps(raw.context),
                    sql.time(raw.created_at),
                ]
            values = ", ".join(
                ["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)"] * len(records)
            )
            columns = _ENTRY.format(created_at="created_at").split(", ")[1:-1]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}", params
                )
        except DATABASE_ERRORS as error:
            raise translate(error, "putting events into the outbox", writing_events=True) from error

    def _entries(self, rows: list[Any]) -> list[OutboxEntry]:
        return [
            OutboxEntry(
                id=int(row[0]),
                record=RecordedRaw(
                    RawEvent(
                        uuid=read_uuid(row[7]),
                        stream_id=StreamId(read_uuid(row[4]), name=row[5], category=row[3] or None),
                        type=row[8],
                        version=row[6],
                        created_at=read_time(row[12]),
                        data=read_json(row[10]),
                        context=read_json(row[11]),
                        schema_version=row[9],
                    ),
                    int(row[1]),
                    row[2] or None,
                ),
                attempts=int(row[13]),
                last_error=row[14],
            )
            for row in rows
        ]

    def _select(self, sql: Dialect) -> str:
        return "SELECT " + _ENTRY.format(created_at=sql.time_column("created_at")) + " FROM {table}"

    def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        try:
            connection, sql, _ = self._open()
            _in_transaction(connection, "Publishing the outbox")
        except DATABASE_ERRORS as error:
            raise translate(error, "claiming outbox entries") from error
        # Entries another worker claimed stay locked until its transaction ends: skip them.
        lock = "" if sql.is_sqlite else " FOR UPDATE SKIP LOCKED"
        rows = self._run(
            "claiming outbox entries",
            self._select(sql) + f" WHERE attempts < %s ORDER BY id LIMIT %s{lock}",
            [max_attempts, limit],
        )
        return self._entries(rows)

    def published(self, entry: OutboxEntry) -> None:
        self._run(
            "removing a published outbox entry", "DELETE FROM {table} WHERE id = %s", [entry.id]
        )

    def failed(self, entry: OutboxEntry, error: str) -> None:
        self._run(
            "counting a failed publication",
            "UPDATE {table} SET attempts = attempts + 1, last_error = %s WHERE id = %s",
            [error, entry.id],
        )

    def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        try:
            _, sql, _ = self._open()
        except DATABASE_ERRORS as error:
            raise translate(error, "reading dead letters") from error
        rows = self._run(
            "reading dead letters",
            self._select(sql) + " WHERE attempts >= %s ORDER BY id LIMIT %s",
            [max_attempts, limit],
        )
        return self._entries(rows)

    def counts(self, max_attempts: int) -> tuple[int, int]:
        ((total, dead),) = self._run(
            "counting outbox entries",
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempts >= %s THEN 1 ELSE 0 END), 0) "
            "FROM {table}",
            [max_attempts],
        )
        return int(total) - int(dead), int(dead)

    def _by_ids(self, action: str, statement: str, entry_ids: Sequence[int]) -> None:
        if entry_ids:
            placeholders = ", ".join(["%s"] * len(entry_ids))
            self._run(action, f"{statement} WHERE id IN ({placeholders})", list(entry_ids))

    def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        self._by_ids(
            "retrying outbox entries",
            "UPDATE {table} SET attempts = 0, last_error = NULL",
            entry_ids,
        )

    def remove(self, entry_ids: Sequence[int]) -> None:
        self._by_ids("purging outbox entries", "DELETE FROM {table}", entry_ids)


class DjangoCheckpointStrategy(_OnAlias, CheckpointStrategy):
    """Projection checkpoints in the app's checkpoint table."""

    def _table(self) -> str:
        return _tables.CHECKPOINTS

    def load(self, name: str) -> int:
        try:
            connection, sql, table = self._open()
            _in_transaction(connection, "A projection")
            select = f"SELECT position FROM {table} WHERE name = %s{sql.update_lock}"
            with connection.cursor() as cursor:
                cursor.execute(select, [name])
                row = cursor.fetchone()
                if row is None:
                    # A concurrent creator makes this wait for its commit, then do nothing.
                    insert = f"INSERT INTO {table} (name, position) VALUES (%s, 0) " + (
                        "ON DUPLICATE KEY UPDATE name = name"
                        if sql.is_mysql
                        else "ON CONFLICT DO NOTHING"
                    )
                    cursor.execute(insert, [name])
                    cursor.execute(select, [name])
                    row = cursor.fetchone()
        except DATABASE_ERRORS as error:
            raise translate(error, f"loading the checkpoint of projection {name!r}") from error
        return int(row[0]) if row else 0

    def save(self, name: str, position: int) -> None:
        try:
            connection, _, table = self._open()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET position = %s WHERE name = %s", [position, name]
                )
        except DATABASE_ERRORS as error:
            raise translate(error, f"saving the checkpoint of projection {name!r}") from error

    def positions(self) -> dict[str, int]:
        try:
            connection, _, table = self._open()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT name, position FROM {table}")
                rows = cursor.fetchall()
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the checkpoints") from error
        return {str(name): int(position) for name, position in rows}
