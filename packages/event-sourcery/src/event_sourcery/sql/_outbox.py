"""The outbox and projection checkpoints of the SQL backends, as protocols (see `_protocol`).

Outbox entries are full copies of their events, so an entry is published even if its stream
is deleted first. Workers claim entries with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL,
MariaDB 10.6+): two workers never hold the same entry, and an entry stays claimed until its
worker's transaction ends; a worker that dies mid-run rolls back, so its entries come back for
the next run (at least once). SQLite has one writer at a time: a claim takes the write lock
first (`Flavour.claim_lock`), so a second worker waits for the first one's commit, then sees
what it published.

A checkpoint is one row per projection, locked for the projection's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from event_sourcery._outbox import OutboxEntry
from event_sourcery._raw import raw_from_text
from event_sourcery._readers import utc_from_text, uuid_from_hex
from event_sourcery._recorded import RecordedRaw
from event_sourcery._stream_id import StreamId
from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._protocol import Protocol, Statement

#: The columns `put` writes, in its parameters' order.
_INSERTED = (
    "position, tenant_id, category, stream_uuid, stream_name, version, uuid, type, "
    "schema_version, data, context, created_at, attempts"
)
#: Rows per INSERT: 500 rows of 13 values stay far below every driver's parameter limit.
CHUNK = 500


def outbox_put(flavour: Flavour, records: Sequence[RecordedRaw]) -> Protocol[None]:
    """Write an entry per record, in as few statements as the parameter limits allow."""
    uuid, time = flavour.bind_uuid, flavour.bind_time
    rows = [
        (
            record.position,
            record.tenant_id or "",
            record.raw.stream_id.category or "",
            uuid(record.raw.stream_id.uuid),
            record.raw.stream_id.name,
            record.raw.version,
            uuid(record.raw.uuid),
            record.raw.type,
            record.raw.schema_version,
            record.raw.data_json(),
            record.raw.context_json(),
            time(record.raw.created_at),
            0,
        )
        for record in records
    ]
    head = f"INSERT INTO {flavour.tables.outbox} ({_INSERTED}) VALUES "
    marks = "(" + ", ".join(["%s"] * 13) + ")"
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        yield Statement(head + ", ".join([marks] * len(chunk)), [v for row in chunk for v in row])


def outbox_claim(flavour: Flavour, limit: int, max_attempts: int) -> Protocol[list[OutboxEntry]]:
    """Up to `limit` entries with fewer than `max_attempts` failures, oldest first, locked
    until the caller's transaction ends; entries another worker holds are skipped."""
    if flavour.claim_lock is not None:
        yield Statement(flavour.claim_lock, ())
    where = f" WHERE attempts < %s ORDER BY id LIMIT %s{flavour.skip_locked}"
    outcome = yield Statement(flavour.outbox_entry + where, (max_attempts, limit))
    return read_entries(outcome.rows)


def outbox_dead_letters(
    flavour: Flavour, max_attempts: int, limit: int
) -> Protocol[list[OutboxEntry]]:
    """Up to `limit` entries with `max_attempts` failures or more, oldest first."""
    where = " WHERE attempts >= %s ORDER BY id LIMIT %s"
    outcome = yield Statement(flavour.outbox_entry + where, (max_attempts, limit))
    return read_entries(outcome.rows)


def read_entries(rows: Sequence[Sequence[Any]]) -> list[OutboxEntry]:
    """The entries of `Flavour.outbox_entry`'s rows: id, position, tenant, category, stream
    uuid, stream name, attempts, last error, then the payload as `load` reads it."""
    return [
        OutboxEntry(
            id=int(row[0]),
            record=RecordedRaw(
                raw_from_text(
                    uuid_from_hex(row[9]),
                    StreamId(uuid_from_hex(row[4]), name=row[5], category=row[3] or None),
                    row[10],
                    row[8],
                    utc_from_text(row[14]),
                    row[12],
                    row[13],
                    row[11],
                ),
                int(row[1]),
                row[2] or None,
            ),
            attempts=int(row[6]),
            last_error=row[7],
        )
        for row in rows
    ]


def outbox_published(flavour: Flavour, entry_id: int) -> Protocol[None]:
    """Remove a published entry."""
    yield Statement(f"DELETE FROM {flavour.tables.outbox} WHERE id = %s", (entry_id,))


def outbox_failed(flavour: Flavour, entry_id: int, error: str) -> Protocol[None]:
    """Count a failed publication of an entry, with its error."""
    yield Statement(
        f"UPDATE {flavour.tables.outbox} SET attempts = attempts + 1, last_error = %s "
        "WHERE id = %s",
        (error, entry_id),
    )


def outbox_counts(flavour: Flavour, max_attempts: int) -> Protocol[tuple[int, int]]:
    """(entries waiting, dead letters): dead letters have `max_attempts` failures or more."""
    outcome = yield Statement(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempts >= %s THEN 1 ELSE 0 END), 0) "
        f"FROM {flavour.tables.outbox}",
        (max_attempts,),
    )
    ((total, dead),) = outcome.rows
    return int(total) - int(dead), int(dead)


def outbox_reset_attempts(flavour: Flavour, entry_ids: Sequence[int]) -> Protocol[None]:
    """Give entries their attempts back (a retry of dead letters); nothing for no ids."""
    return _by_ids(f"UPDATE {flavour.tables.outbox} SET attempts = 0, last_error = NULL", entry_ids)


def outbox_remove(flavour: Flavour, entry_ids: Sequence[int]) -> Protocol[None]:
    """Delete entries (a purge); nothing for no ids."""
    return _by_ids(f"DELETE FROM {flavour.tables.outbox}", entry_ids)


def _by_ids(statement: str, entry_ids: Sequence[int]) -> Protocol[None]:
    if entry_ids:
        marks = ", ".join(["%s"] * len(entry_ids))
        yield Statement(f"{statement} WHERE id IN ({marks})", list(entry_ids))


# --- checkpoints ---------------------------------------------------------------------------


def load_checkpoint(flavour: Flavour, name: str) -> Protocol[tuple[int, int | None]]:
    """The position projection `name` has applied up to (0 for a new one, whose row is
    made), its row locked until the caller's transaction ends; and the server's id of the session
    where the flavour has one (`Flavour.session_identity`), else None.

    Inserting a missing row never fails (on PostgreSQL an error would abort the caller's
    whole transaction): a concurrent inserter makes it wait for its commit instead.
    """
    identity = flavour.session_identity
    columns = "position" if identity is None else f"position, {identity}"
    table = flavour.tables.checkpoints
    select = Statement(f"SELECT {columns} FROM {table} WHERE name = %s{flavour.lock_rows}", (name,))
    create = Statement(flavour.checkpoint_create, (name,))
    if flavour.checkpoint_create_first:
        yield create
    rows = (yield select).rows
    if not rows:
        yield create
        rows = (yield select).rows
    row = rows[0]
    return int(row[0]), None if identity is None else int(row[1])


def save_checkpoint(flavour: Flavour, name: str, position: int) -> Protocol[None]:
    """Set projection `name`'s checkpoint to `position`, making its row if there is none."""
    update = Statement(
        f"UPDATE {flavour.tables.checkpoints} SET position = %s WHERE name = %s", (position, name)
    )
    if (yield update).rowcount == 0:
        yield Statement(flavour.checkpoint_create, (name,))
        yield update


def checkpoint_positions(flavour: Flavour) -> Protocol[dict[str, int]]:
    """Every projection's checkpoint, by name."""
    outcome = yield Statement(f"SELECT name, position FROM {flavour.tables.checkpoints}", ())
    return {str(name): int(position) for name, position in outcome.rows}
