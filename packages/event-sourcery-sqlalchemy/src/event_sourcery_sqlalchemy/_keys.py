"""Encryption keys of data subjects, in the keys table, in the session's transaction."""

from __future__ import annotations

from typing import Any

from event_sourcery.encryption import KeyStorage, StoredKey
from sqlalchemy import Connection, bindparam, delete, insert, select

from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._storage import AnySession


class _KeyStatements:
    def __init__(self, models: SQLAlchemyModels) -> None:
        keys = models.keys
        tenant = keys.c.tenant_id == bindparam("p_tenant")
        columns = (keys.c.key_id, keys.c.subject_id, keys.c.key)
        self.current = (
            select(*columns)
            .where(tenant, keys.c.subject_id == bindparam("p_subject"))
            .order_by(keys.c.id.desc())
            .limit(1)
        )
        self.find = select(*columns).where(tenant, keys.c.key_id == bindparam("p_key_id"))
        self.add = insert(keys)
        self.delete_subject = delete(keys).where(
            tenant, keys.c.subject_id == bindparam("p_subject")
        )


class SQLAlchemyKeyStorage(KeyStorage):
    """The keys table of `models`; keys are written and shredded in `session`'s transaction."""

    def __init__(self, session: AnySession, models: SQLAlchemyModels) -> None:
        self._session = session
        self._models = models

    def _open(self) -> tuple[Connection, _KeyStatements]:
        connection = self._session.connection()
        sql: _KeyStatements | None = self._models.cache.get("keys")
        if sql is None:
            sql = self._models.cache.setdefault("keys", _KeyStatements(self._models))
        return connection, sql

    def _one(self, statement: Any, params: dict[str, Any]) -> StoredKey | None:
        try:
            connection, _ = self._open()
            row = connection.execute(statement, params).first()
        except DATABASE_ERRORS as error:
            raise translate(error, "reading an encryption key") from error
        return None if row is None else StoredKey(row.key_id, row.subject_id, bytes(row.key))

    def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        _, sql = self._open()
        return self._one(sql.current, {"p_tenant": tenant_id or "", "p_subject": subject_id})

    def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        _, sql = self._open()
        return self._one(sql.find, {"p_tenant": tenant_id or "", "p_key_id": key_id})

    def add(self, key: StoredKey, tenant_id: str | None) -> None:
        row = {
            "tenant_id": tenant_id or "",
            "key_id": key.key_id,
            "subject_id": key.subject_id,
            "key": key.key,
        }
        try:
            connection, sql = self._open()
            connection.execute(sql.add, row)
        except DATABASE_ERRORS as error:
            raise translate(error, "storing an encryption key") from error

    def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        try:
            connection, sql = self._open()
            connection.execute(
                sql.delete_subject, {"p_tenant": tenant_id or "", "p_subject": subject_id}
            )
        except DATABASE_ERRORS as error:
            raise translate(error, "shredding a data subject") from error
