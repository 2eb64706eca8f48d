"""Projection checkpoints: one row per projection, locked for the projection's transaction."""

from __future__ import annotations

from typing import Any

from event_sourcery.interfaces import CheckpointStrategy
from event_sourcery.sql import drive
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import OwnWrites, resolve
from event_sourcery_sqlalchemy._sql import flavour_of, runner
from event_sourcery_sqlalchemy._storage import AnySession


class _CheckpointStatements:
    def __init__(self, models: SQLAlchemyModels, connection: Connection) -> None:
        cp = models.checkpoints
        family = connection.dialect.name
        name = cp.c.name == bindparam("p_name")
        values = {"name": bindparam("p_name"), "position": 0}
        # Inserting a missing row must not fail: on PostgreSQL an error aborts the caller's
        # whole transaction. Both statements below wait for a concurrent inserter instead.
        self.create: Any = None
        self.create_first = False
        if family == "postgresql":
            self.create = postgresql.insert(cp).values(values).on_conflict_do_nothing()
        elif family in ("mysql", "mariadb"):
            # Insert (or touch) first, then lock: on InnoDB two SELECT ... FOR UPDATE of a
            # missing row take gap locks, and the two inserts after them deadlock.
            self.create = (
                mysql.insert(cp).values(values).on_duplicate_key_update(position=cp.c.position)
            )
            self.create_first = True
        elif family == "sqlite":
            self.create = sqlite.insert(cp).values(values).on_conflict_do_nothing()
            self.create_first = True  # the write takes SQLite's lock for the transaction
        else:
            self.create = insert(cp).values(values)
        self.load = select(cp.c.position).where(name).with_for_update()
        self.save = update(cp).where(name).values(position=bindparam("p_position"))
        self.every = select(cp.c.name, cp.c.position)


class SQLAlchemyCheckpointStrategy(CheckpointStrategy):
    """The checkpoints table of `models`, in the transaction of `session`.

    A load notes the server id of the session's connection in `own_writes`, the backend's
    record for the subscriptions its sessions open: a projection loads (and locks) its
    checkpoint, then reads the log, which must not wait for the projection's own transaction.
    """

    def __init__(
        self, session: AnySession, models: SQLAlchemyModels, own_writes: OwnWrites
    ) -> None:
        self._session = session
        self._models = models
        self._own_writes = own_writes

    def _open(self) -> tuple[Connection, _CheckpointStatements]:
        connection = self._session.connection()
        key = ("checkpoints", connection.dialect.name)
        sql: _CheckpointStatements | None = self._models.cache.get(key)
        if sql is None:
            sql = self._models.cache[key] = _CheckpointStatements(self._models, connection)
        return connection, sql

    def load(self, name: str) -> int:
        params = {"p_name": name}
        try:
            connection, sql = self._open()
            if sql.create_first:
                connection.execute(sql.create, params)
            row = connection.execute(sql.load, params).first()
            if row is None:
                connection.execute(sql.create, params)
                row = connection.execute(sql.load, params).one()
            flavour = flavour_of(self._models, connection.dialect)
            session = flavour.session_of(connection.connection.dbapi_connection)
            self._own_writes.note_session(
                resolve(self._session), drive(session, runner(connection))
            )
        except DATABASE_ERRORS as error:
            raise translate(error, f"loading checkpoint {name!r}") from error
        return int(row[0])

    def save(self, name: str, position: int) -> None:
        params = {"p_name": name, "p_position": position}
        try:
            connection, sql = self._open()
            if connection.execute(sql.save, params).rowcount == 0:
                connection.execute(sql.create, {"p_name": name})
                connection.execute(sql.save, params)
        except DATABASE_ERRORS as error:
            raise translate(error, f"saving checkpoint {name!r}") from error

    def positions(self) -> dict[str, int]:
        try:
            connection, sql = self._open()
            rows = connection.execute(sql.every).all()
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the checkpoints") from error
        return {str(name): int(position) for name, position in rows}
