"""``outbox`` commands on SQLite: dead letters listed, retried and purged by id."""

from __future__ import annotations

import json
from uuid import uuid4

from event_sourcery import Event, OutboxEntry, Recorded, StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy.orm import Session

from .conftest import Run


class Shipped(Event):
    parcel: str


def _fail(record: Recorded) -> None:
    raise ConnectionError("broker down")


def _dead_letters(backend: SQLAlchemyBackend, session: Session, count: int) -> list[OutboxEntry]:
    """`count` new entries that failed once: dead letters for ``--max-attempts 1``."""
    box = backend.with_outbox(max_attempts=1)
    stream = StreamId(category=f"cli{uuid4().hex[:12]}")
    box.event_store.append(*(Shipped(parcel=str(i)) for i in range(count)), stream_id=stream)
    session.commit()
    box.outbox.run(_fail)
    session.commit()
    return [e for e in box.outbox.dead_letters(1000) if e.record.raw.stream_id == stream]


def _ids(run: Run) -> set[int]:
    result = run("outbox", "dead-letters", "--max-attempts", "1", "--limit", "1000", "--json")
    assert result.exit_code == 0, result.output
    return {row["id"] for row in json.loads(result.stdout)}


def test_dead_letters_are_listed_with_their_error(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    entries = _dead_letters(backend, session, 2)

    result = run("outbox", "dead-letters", "--max-attempts", "1", "--json")

    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert {entry.id for entry in entries} <= set(rows)
    assert rows[entries[0].id]["last_error"] == "ConnectionError"
    assert rows[entries[0].id]["attempts"] == 1


def test_status_counts_pending_entries_and_dead_letters(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    before = json.loads(run("outbox", "status", "--max-attempts", "1", "--json").stdout)
    _dead_letters(backend, session, 2)
    backend.with_outbox().event_store.append(
        Shipped(parcel="p"), stream_id=StreamId(category=f"cli{uuid4().hex[:12]}")
    )
    session.commit()

    result = run("outbox", "status", "--max-attempts", "1")

    assert result.exit_code == 0, result.output
    pending, dead = result.stdout.splitlines()
    assert pending == f"pending: {before['pending'] + 1}"
    assert dead.startswith(f"dead letters: {before['dead_letters'] + 2} (oldest: entry ")


def test_retry_by_id_gives_fresh_attempts(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    first, second = _dead_letters(backend, session, 2)

    result = run("outbox", "retry", str(first.id), "--max-attempts", "1")

    assert result.exit_code == 0, result.output
    assert "retried 1 entries" in result.stdout
    session.rollback()  # a fresh transaction sees the command's commit
    ids = _ids(run)
    assert first.id not in ids
    assert second.id in ids


def test_purge_asks_first_and_keeps_everything_if_declined(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    (entry,) = _dead_letters(backend, session, 1)

    result = run("outbox", "purge", str(entry.id), input="n\n")

    assert result.exit_code == 1
    assert "nothing was removed" in result.stderr
    assert entry.id in _ids(run)


def test_purge_with_yes_removes_the_entries(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    first, second = _dead_letters(backend, session, 2)

    result = run("outbox", "purge", str(first.id), "--yes")

    assert result.exit_code == 0, result.output
    ids = _ids(run)
    assert first.id not in ids
    assert second.id in ids


def test_purge_confirmed_removes_every_dead_letter(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    _dead_letters(backend, session, 2)

    result = run("outbox", "purge", "--max-attempts", "1", input="y\n")

    assert result.exit_code == 0, result.output
    assert _ids(run) == set()


def test_outbox_name_is_refused_where_the_store_has_one_outbox(run: Run) -> None:
    result = run("outbox", "--outbox-name", "billing", "status")

    assert result.exit_code == 1
    assert result.stderr == (
        "error: --outbox-name: this store has one outbox, with no name (KurrentDB has named ones)\n"
    )
