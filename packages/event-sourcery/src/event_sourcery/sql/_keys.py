"""Encryption keys of data subjects (crypto-shredding) in a SQL backend's keys table, as
protocols (see `_protocol`). A subject's newest key is its current one; shredding a subject
deletes its rows."""

from __future__ import annotations

from event_sourcery._encryption import StoredKey
from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._protocol import Protocol, Statement


def _columns(flavour: Flavour) -> str:
    # "key" is a reserved word on MariaDB.
    return f"key_id, subject_id, {flavour.quote('key')}"


def current_key(flavour: Flavour, subject_id: str, tenant: str) -> Protocol[StoredKey | None]:
    """The subject's newest key in tenant `tenant` ('' for none); None if it has none."""
    where = "subject_id = %s ORDER BY id DESC LIMIT 1"
    return _select_key(flavour, where, (tenant, subject_id))


def find_key(flavour: Flavour, key_id: str, tenant: str) -> Protocol[StoredKey | None]:
    """The key `key_id` of tenant `tenant`; None if there is none (it was shredded)."""
    return _select_key(flavour, "key_id = %s", (tenant, key_id))


def _select_key(
    flavour: Flavour, where: str, params: tuple[str, str]
) -> Protocol[StoredKey | None]:
    table = flavour.tables.keys
    outcome = yield Statement(
        f"SELECT {_columns(flavour)} FROM {table} WHERE tenant_id = %s AND {where}", params
    )
    if not outcome.rows:
        return None
    key_id, subject_id, key = outcome.rows[0]
    return StoredKey(key_id, subject_id, bytes(key))


def add_key(flavour: Flavour, key: StoredKey, tenant: str) -> Protocol[None]:
    """Store `key` for its subject in tenant `tenant`."""
    yield Statement(
        f"INSERT INTO {flavour.tables.keys} (tenant_id, {_columns(flavour)}) "
        "VALUES (%s, %s, %s, %s)",
        (tenant, key.key_id, key.subject_id, key.key),
    )


def delete_subject(flavour: Flavour, subject_id: str, tenant: str) -> Protocol[None]:
    """Delete every key of the subject in tenant `tenant` (shredding it)."""
    yield Statement(
        f"DELETE FROM {flavour.tables.keys} WHERE tenant_id = %s AND subject_id = %s",
        (tenant, subject_id),
    )
