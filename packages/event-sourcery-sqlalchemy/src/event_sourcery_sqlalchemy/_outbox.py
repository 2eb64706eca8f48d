"""The outbox in a table of its own, written in the append's transaction.

Entries are full copies of their events, so an entry is published even if its stream is
deleted first. Workers claim entries with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL,
MariaDB 10.6+): two workers never hold the same entry, and an entry stays claimed until its
worker's transaction ends; a worker that dies mid-run rolls back, so its entries come back
for the next run (at least once). SQLite has one writer at a time: a claim takes the write
lock first (a no-op UPDATE), so a second worker waits for the first one's commit, then sees
what it published.
"""

from __future__ import annotations

from collections.abc import Sequence
from json import dumps
from typing import Any

from event_sourcery import StreamId
from event_sourcery.interfaces import OutboxEntry, OutboxStrategy, RawEvent, RecordedRaw, as_utc
from sqlalchemy import (
    BindParameter,
    Connection,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy import Text as TextType

from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._reading import LoadColumns
from event_sourcery_sqlalchemy._statements import statements_for
from event_sourcery_sqlalchemy._storage import AnySession


class _OutboxStatements:
    def __init__(self, models: SQLAlchemyModels, connection: Connection) -> None:
        ob = models.outbox
        dialect = connection.dialect
        self.columns = LoadColumns(dialect)
        self.json_as_text = statements_for(models, dialect).json_as_text
        self.insert = insert(ob)
        # As text everywhere, as `LoadColumns` reads uuids.
        stream_uuid = (
            cast(ob.c.stream_uuid, TextType)
            if dialect.name == "postgresql"
            else type_coerce(ob.c.stream_uuid, TextType)
        )
        # The event's payload columns, read as `fetch_events` reads them.
        read = select(
            ob.c.id,
            ob.c.position,
            ob.c.tenant_id,
            ob.c.category,
            stream_uuid.label("stream_uuid"),
            ob.c.stream_name,
            ob.c.attempts,
            ob.c.last_error,
            *self.columns.payload(ob),
        ).order_by(ob.c.id)
        claim = read.where(ob.c.attempts < bindparam("max_attempts")).limit(bindparam("lim"))
        self.lock_first = None
        if dialect.name == "sqlite":
            self.lock_first = update(ob).values(attempts=ob.c.attempts).where(ob.c.id == -1)
        else:
            claim = claim.with_for_update(skip_locked=True)
        self.claim = claim
        self.dead = read.where(ob.c.attempts >= bindparam("max_attempts")).limit(bindparam("lim"))
        self.published = delete(ob).where(ob.c.id == bindparam("entry"))
        self.failed = (
            update(ob)
            .where(ob.c.id == bindparam("entry"))
            .values(attempts=ob.c.attempts + 1, last_error=bindparam("error"))
        )
        ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
        self.reset = update(ob).where(ob.c.id.in_(ids)).values(attempts=0, last_error=None)
        self.remove = delete(ob).where(ob.c.id.in_(ids))
        dead = case((ob.c.attempts >= bindparam("max_attempts"), 1), else_=0)
        self.counts = select(func.count(), func.coalesce(func.sum(dead), 0)).select_from(ob)


class SQLAlchemyOutboxStrategy(OutboxStrategy):
    """The outbox table of `models`, in the transaction of `session`."""

    def __init__(self, session: AnySession, models: SQLAlchemyModels) -> None:
        self._session = session
        self._models = models

    def _open(self) -> tuple[Connection, _OutboxStatements]:
        connection = self._session.connection()
        key = ("outbox", connection.dialect.name)
        sql: _OutboxStatements | None = self._models.cache.get(key)
        if sql is None:
            sql = self._models.cache[key] = _OutboxStatements(self._models, connection)
        return connection, sql

    def _run(self, action: str, statement: Any, params: Any = None) -> Any:
        try:
            connection, _ = self._open()
            return connection.execute(statement, params)
        except DATABASE_ERRORS as error:
            raise translate(error, action) from error

    def put(self, records: Sequence[RecordedRaw]) -> None:
        try:
            connection, sql = self._open()
            payload = dumps if sql.json_as_text else _as_is
            rows = [
                {
                    "position": record.position,
                    "tenant_id": record.tenant_id or "",
                    "category": record.raw.stream_id.category or "",
                    "stream_uuid": record.raw.stream_id.uuid,
                    "stream_name": record.raw.stream_id.name,
                    "version": record.raw.version,
                    "uuid": record.raw.uuid,
                    "type": record.raw.type,
                    "schema_version": record.raw.schema_version,
                    "data": payload(record.raw.data),
                    "context": payload(record.raw.context),
                    "created_at": as_utc(record.raw.created_at),
                    "attempts": 0,
                    "last_error": None,
                }
                for record in records
            ]
            connection.execute(sql.insert, rows)
        except DATABASE_ERRORS as error:
            raise translate(error, "writing outbox entries", writing_events=True) from error

    def _entries(self, action: str, params: dict[str, Any], *, claim: bool) -> list[OutboxEntry]:
        try:
            connection, sql = self._open()
            if claim and sql.lock_first is not None:
                connection.execute(sql.lock_first)
            rows = connection.execute(sql.claim if claim else sql.dead, params).all()
        except DATABASE_ERRORS as error:
            raise translate(error, action) from error
        read = sql.columns
        return [
            OutboxEntry(
                id=int(row.id),
                record=RecordedRaw(
                    RawEvent(
                        read.read_uuid(row.uuid),
                        StreamId(
                            read.read_uuid(row.stream_uuid),
                            name=row.stream_name,
                            category=row.category or None,
                        ),
                        row.type,
                        row.version,
                        read.read_time(row.created_at),
                        row.data,
                        row.context,
                        row.schema_version,
                    ),
                    int(row.position),
                    row.tenant_id or None,
                ),
                attempts=int(row.attempts),
                last_error=row.last_error,
            )
            for row in rows
        ]

    def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        params = {"max_attempts": max_attempts, "lim": limit}
        return self._entries("claiming outbox entries", params, claim=True)

    def published(self, entry: OutboxEntry) -> None:
        _, sql = self._open()
        self._run("removing a published outbox entry", sql.published, {"entry": entry.id})

    def failed(self, entry: OutboxEntry, error: str) -> None:
        _, sql = self._open()
        params = {"entry": entry.id, "error": error}
        self._run("counting a failed publication", sql.failed, params)

    def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        params = {"max_attempts": max_attempts, "lim": limit}
        return self._entries("reading dead letters", params, claim=False)

    def counts(self, max_attempts: int) -> tuple[int, int]:
        _, sql = self._open()
        total, dead = self._run(
            "counting outbox entries", sql.counts, {"max_attempts": max_attempts}
        ).one()
        return int(total) - int(dead), int(dead)

    def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        if entry_ids:
            _, sql = self._open()
            self._run("retrying outbox entries", sql.reset, {"ids": list(entry_ids)})

    def remove(self, entry_ids: Sequence[int]) -> None:
        if entry_ids:
            _, sql = self._open()
            self._run("purging outbox entries", sql.remove, {"ids": list(entry_ids)})


def _as_is(value: Any) -> Any:
    return value
