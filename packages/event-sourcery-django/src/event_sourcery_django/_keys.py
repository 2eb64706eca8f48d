"""Crypto-shredding keys in the app's key table, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.db import connections
from event_sourcery.encryption import KeyStorage, StoredKey

from event_sourcery_django import _tables
from event_sourcery_django._errors import DATABASE_ERRORS, translate


class DjangoKeyStorage(KeyStorage):
    """Subjects' keys on database alias `using`; the newest key of a subject is its current."""

    def __init__(self, using: str) -> None:
        self.using = using

    def _run(self, action: str, statement: str, params: list[Any]) -> list[Any]:
        try:
            connection = connections[self.using]
            table = connection.ops.quote_name(_tables.KEYS)
            with connection.cursor() as cursor:
                cursor.execute(
                    statement.format(table=table, key=connection.ops.quote_name("key")), params
                )
                return list(cursor.fetchall()) if cursor.description else []
        except DATABASE_ERRORS as error:
            raise translate(error, action) from error

    def _key(self, rows: list[Any]) -> StoredKey | None:
        if not rows:
            return None
        key_id, subject_id, key = rows[0]
        return StoredKey(key_id, subject_id, bytes(key))

    def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        return self._key(
            self._run(
                "reading an encryption key",
                "SELECT key_id, subject_id, {key} FROM {table} "
                "WHERE tenant_id = %s AND subject_id = %s ORDER BY id DESC LIMIT 1",
                [tenant_id or "", subject_id],
            )
        )

    def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        return self._key(
            self._run(
                "reading an encryption key",
                "SELECT key_id, subject_id, {key} FROM {table} "
                "WHERE tenant_id = %s AND key_id = %s",
                [tenant_id or "", key_id],
            )
        )

    def add(self, key: StoredKey, tenant_id: str | None) -> None:
        self._run(
            "storing an encryption key",
            "INSERT INTO {table} (tenant_id, subject_id, key_id, {key}) VALUES (%s, %s, %s, %s)",
            [tenant_id or "", key.subject_id, key.key_id, key.key],
        )

    def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        self._run(
            "shredding a data subject's keys",
            "DELETE FROM {table} WHERE tenant_id = %s AND subject_id = %s",
            [tenant_id or "", subject_id],
        )
