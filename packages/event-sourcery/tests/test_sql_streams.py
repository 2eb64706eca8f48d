"""Loads, snapshots, deletion, the outbox and checkpoints of the SQL core, on a scripted driver."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from event_sourcery import StreamId
from event_sourcery.encryption import StoredKey
from event_sourcery.exceptions import InvalidSnapshot
from event_sourcery.interfaces import OutboxEntry, RawEvent, RecordedRaw
from event_sourcery.sql import (
    MAX_VERSION,
    Flavour,
    MariaDB,
    Outcome,
    PostgreSQL,
    Protocol,
    SQLCheckpointStrategy,
    SQLite,
    SQLOutboxStrategy,
    SQLStorageStrategy,
    Statement,
    Tables,
    add_key,
    checkpoint_positions,
    current_key,
    delete_stream,
    delete_subject,
    drive,
    find_key,
    load_checkpoint,
    load_events,
    outbox_claim,
    outbox_counts,
    outbox_put,
    outbox_remove,
    outbox_reset_attempts,
    save_checkpoint,
    save_snapshot,
)

T = TypeVar("T")
TABLES = Tables('"s"', '"e"', '"n"', native_uuid=False, outbox='"o"', checkpoints='"c"')
AT = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


class Script:
    """A driver that answers each statement with the next scripted outcome, and records it."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.statements: list[Statement] = []

    def __call__(self, statement: Statement) -> Outcome:
        self.statements.append(statement)
        return self.outcomes.pop(0) if self.outcomes else Outcome([], 1, None)

    def run(self, protocol: Protocol[T]) -> T:
        return drive(protocol, self)


def rows(*rows: Sequence[Any], rowcount: int = 1) -> Outcome:
    return Outcome(list(rows), rowcount, None)


def raw(stream_id: StreamId, version: int | None = 1) -> RawEvent:
    return RawEvent(uuid4(), stream_id, "t.Happened", version, AT, {"n": 1}, {"c": 2})


def test_a_load_binds_the_key_and_clamps_its_bounds() -> None:
    stream_id = StreamId(category="cat")
    script = Script()
    assert script.run(load_events(SQLite(TABLES), "", stream_id, None, None)) == []
    assert script.run(load_events(SQLite(TABLES), "t", stream_id, 2**70, 2**70)) == []
    assert script.run(load_events(SQLite(TABLES), "t", stream_id, None, 5)) == []
    everything, range_, window = script.statements
    key = ["", "cat", stream_id.uuid.hex]
    assert everything.params == [*key, *key]
    assert "UNION ALL" in everything.sql
    # A start beyond the largest version is clamped, a stop beyond it left out.
    assert range_.params == ["t", "cat", stream_id.uuid.hex, MAX_VERSION]
    assert "UNION" not in range_.sql
    assert window.params == [
        "t",
        "cat",
        stream_id.uuid.hex,
        5,
        5,
        "t",
        "cat",
        stream_id.uuid.hex,
        5,
    ]


def test_a_load_reads_rows_as_text_into_raw_events() -> None:
    stream_id = StreamId(category="cat")
    uuid = uuid4()
    row = (3, uuid.hex, "t.Happened", 2, '{"n": 1}', '{"c": 2}', "2024-05-06 07:08:09.123456")
    script = Script(rows((*row, "the-name", 17)))
    (event,) = script.run(load_events(PostgreSQL(TABLES), "", stream_id, 1, None))
    assert (event.uuid, event.version, event.type, event.schema_version) == (uuid, 3, row[2], 2)
    assert (event.data, event.context, event.created_at) == ({"n": 1}, {"c": 2}, AT)
    assert event.stream_id == StreamId(stream_id.uuid, name="the-name", category="cat")
    assert event.stream_id.name == "the-name"


@pytest.mark.parametrize(
    ("flavour", "selected"),
    [
        (PostgreSQL(TABLES), "to_char(e.created_at AT TIME ZONE 'UTC'"),
        (MariaDB(TABLES), "DATE_FORMAT(e.created_at, '%%Y"),
        (SQLite(TABLES), "CAST(e.created_at AS TEXT)"),
    ],
)
def test_each_flavour_selects_timestamps_as_utc_text(flavour: Flavour, selected: str) -> None:
    assert selected in flavour.loads[True, False]


@pytest.mark.parametrize(
    ("state", "message"), [([], "does not exist"), ([(7, None, None)], "versionless")]
)
def test_a_snapshot_needs_a_versioned_stream(state: list[Any], message: str) -> None:
    script = Script(rows(*state))
    with pytest.raises(InvalidSnapshot, match=message):
        script.run(save_snapshot(SQLite(TABLES), "", raw(StreamId(), 1)))
    assert len(script.statements) == 1


def test_a_snapshot_at_the_streams_version_is_upserted() -> None:
    snapshot = raw(StreamId(), 4)
    script = Script(rows((7, 4, None)))
    script.run(save_snapshot(MariaDB(TABLES), "", snapshot))
    _, upsert = script.statements
    assert "ON DUPLICATE KEY UPDATE version = VALUES(version)" in upsert.sql
    naive = AT.replace(tzinfo=None)
    assert upsert.params == (
        7,
        4,
        snapshot.uuid.hex,
        "t.Happened",
        1,
        '{"n": 1}',
        '{"c": 2}',
        naive,
    )
    assert "ON CONFLICT (stream_id) DO UPDATE SET" in SQLite(TABLES).save_snapshot


def test_a_snapshot_at_another_version_is_refused() -> None:
    with pytest.raises(InvalidSnapshot, match="current version 5"):
        Script(rows((7, 5, None))).run(save_snapshot(SQLite(TABLES), "", raw(StreamId(), 4)))


def test_deleting_a_stream_deletes_events_snapshot_and_row() -> None:
    stream_id = StreamId()
    script = Script()
    script.run(delete_stream(PostgreSQL(TABLES), "t", stream_id))
    assert [s.sql.split(" WHERE")[0] for s in script.statements] == [
        'DELETE FROM "e"',
        'DELETE FROM "n"',
        'DELETE FROM "s"',
    ]
    assert {tuple(s.params) for s in script.statements} == {("t", "", stream_id.uuid.hex)}


def test_native_uuids_bind_as_the_driver_takes_them() -> None:
    native = Tables("s", "e", "n", native_uuid=True)
    value = UUID(int=5)
    assert PostgreSQL(native).bind_uuid(value) is value
    assert MariaDB(native).bind_uuid(value) == str(value)
    assert SQLite(TABLES).bind_time(AT) == "2024-05-06 07:08:09.123456"


# --- the outbox ----------------------------------------------------------------------------


def test_outbox_entries_are_written_in_chunks() -> None:
    records = [RecordedRaw(raw(StreamId(category="c")), n, None) for n in range(501)]
    script = Script()
    script.run(outbox_put(PostgreSQL(TABLES), records))
    first, second = script.statements
    assert len(first.params) == 500 * 13
    assert len(second.params) == 13
    assert second.params[:5] == [500, "", "c", records[500].raw.stream_id.uuid.hex, None]
    assert first.sql.startswith('INSERT INTO "o" (position, tenant_id')


def test_a_claim_skips_locked_entries_or_takes_sqlites_write_lock_first() -> None:
    script = Script()
    assert script.run(outbox_claim(PostgreSQL(TABLES), 10, 3)) == []
    assert script.statements[0].sql.endswith("LIMIT %s FOR UPDATE SKIP LOCKED")
    assert script.statements[0].params == (3, 10)
    script = Script(rows(), rows())
    script.run(outbox_claim(SQLite(TABLES), 10, 3))
    lock, read = script.statements
    assert lock.sql == 'UPDATE "o" SET attempts = attempts WHERE id = -1'
    assert read.sql.endswith("LIMIT %s")


def test_claimed_rows_become_entries() -> None:
    stream, event = uuid4(), uuid4()
    payload = (2, event.hex, "t.Happened", 1, '{"n": 1}', "{}", "2024-05-06T07:08:09.123456")
    row = (11, 40, "tenant", "cat", str(stream), "name", 2, "Boom", *payload)
    (entry,) = Script(rows(row)).run(outbox_claim(MariaDB(TABLES), 1, 5))
    assert entry == OutboxEntry(
        id=11,
        record=RecordedRaw(
            RawEvent(
                event,
                StreamId(stream, name="name", category="cat"),
                "t.Happened",
                2,
                AT,
                {"n": 1},
                {},
            ),
            40,
            "tenant",
        ),
        attempts=2,
        last_error="Boom",
    )


def test_counts_and_retries() -> None:
    assert Script(rows((5, 2))).run(outbox_counts(SQLite(TABLES), 3)) == (3, 2)
    script = Script()
    script.run(outbox_reset_attempts(SQLite(TABLES), []))
    script.run(outbox_remove(SQLite(TABLES), []))
    assert script.statements == []
    script.run(outbox_remove(SQLite(TABLES), [4, 5]))
    assert script.statements == [Statement('DELETE FROM "o" WHERE id IN (%s, %s)', [4, 5])]


# --- checkpoints ---------------------------------------------------------------------------


def test_a_missing_checkpoint_is_made_then_locked() -> None:
    script = Script(rows(), rows(rowcount=1), rows(("0", "901")))
    assert script.run(load_checkpoint(PostgreSQL(TABLES), "p")) == (0, 901)
    select, create, again = script.statements
    assert select.sql == 'SELECT position, pg_backend_pid() FROM "c" WHERE name = %s FOR UPDATE'
    assert create.sql.endswith("ON CONFLICT DO NOTHING")
    assert again == select


def test_mariadb_and_sqlite_make_the_checkpoint_before_they_lock_it() -> None:
    script = Script(rows(rowcount=1), rows((7, 12)))
    assert script.run(load_checkpoint(MariaDB(TABLES), "p")) == (7, 12)
    assert script.statements[0].sql.endswith("ON DUPLICATE KEY UPDATE position = position")
    script = Script(rows(rowcount=1), rows((7,)))
    assert script.run(load_checkpoint(SQLite(TABLES), "p")) == (7, None)
    assert script.statements[1].sql == 'SELECT position FROM "c" WHERE name = %s'


def test_saving_a_checkpoint_without_a_row_makes_one() -> None:
    script = Script(rows(rowcount=0))
    script.run(save_checkpoint(SQLite(TABLES), "p", 9))
    update, create, again = script.statements
    assert update == again == Statement('UPDATE "c" SET position = %s WHERE name = %s', (9, "p"))
    assert create.params == ("p",)
    assert Script(rows(("a", 1), ("b", 2))).run(checkpoint_positions(SQLite(TABLES))) == {
        "a": 1,
        "b": 2,
    }


# --- the strategies over a driver ----------------------------------------------------------


class Scripted(SQLStorageStrategy, SQLOutboxStrategy, SQLCheckpointStrategy):
    def __init__(self, script: Script) -> None:
        self.script = script
        self._tenant = "t"
        self.actions: list[tuple[str, bool]] = []
        self.identities: list[int] = []

    def _drive(
        self, action: str, writing_events: bool, protocol: Callable[[Flavour], Protocol[T]]
    ) -> T:
        self.actions.append((action, writing_events))
        return drive(protocol(PostgreSQL(TABLES)), self.script)

    def _note_identity(self, identity: int) -> None:
        self.identities.append(identity)

    def scoped_for_tenant(self, tenant_id: str | None) -> Scripted:
        raise NotImplementedError

    def insert_events(self, *args: Any) -> list[int]:
        raise NotImplementedError

    def current_position(self) -> int:
        raise NotImplementedError


def test_the_strategies_run_the_protocols_through_the_driver() -> None:
    stream_id = StreamId()
    strategy = Scripted(Script(rows(), rows((3, 1)), rows(rowcount=1), rows((0, 77))))
    assert strategy.fetch_events(stream_id) == []
    strategy.save_snapshot(raw(stream_id, 1))
    assert strategy.load("p") == 0
    assert strategy.identities == [77]
    assert strategy.actions == [
        (f"loading stream {stream_id!r}", False),
        (f"saving a snapshot of stream {stream_id!r}", True),
        ("loading checkpoint 'p'", False),
    ]
    assert strategy.script.statements[0].params[0] == "t"


# --- keys ----------------------------------------------------------------------------------


def test_keys_are_read_newest_first_and_shredded_by_subject() -> None:
    tables = Tables("s", "e", "n", native_uuid=False, keys="`k`")
    script = Script(rows(("k1", "subject", memoryview(b"secret"))), rows())
    found = script.run(current_key(MariaDB(tables), "subject", "t"))
    assert found == StoredKey("k1", "subject", b"secret")
    assert script.run(find_key(MariaDB(tables), "k2", "t")) is None
    script.run(add_key(MariaDB(tables), StoredKey("k3", "subject", b"x"), ""))
    script.run(delete_subject(MariaDB(tables), "subject", ""))
    newest, by_id, add, shred = script.statements
    assert newest == Statement(
        "SELECT key_id, subject_id, `key` FROM `k` WHERE tenant_id = %s AND subject_id = %s "
        "ORDER BY id DESC LIMIT 1",
        ("t", "subject"),
    )
    assert by_id.params == ("t", "k2")
    assert add.params == ("", "k3", "subject", b"x")
    assert shred.sql == "DELETE FROM `k` WHERE tenant_id = %s AND subject_id = %s"
    assert SQLite(tables).quote("key") == '"key"'
