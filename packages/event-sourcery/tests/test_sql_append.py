"""The append protocol (`event_sourcery.sql.append_events`), driven by a scripted fake driver.

Each test scripts what the database answers, statement by statement, and checks the
statements the protocol asked for and what it returned or raised. No database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from event_sourcery import NO_VERSIONING, StreamId
from event_sourcery.exceptions import (
    AnotherStreamWithThisNameButOtherIdExists,
    ConcurrentStreamWriteError,
    ExpectedVersionUsedOnVersionlessStream,
    StorageError,
)
from event_sourcery.interfaces import ExpectedVersion, RawEvent
from event_sourcery.sql import (
    Flavour,
    MariaDB,
    Outcome,
    PostgreSQL,
    SQLErrors,
    SQLite,
    Statement,
    Tables,
    append_events,
    drive,
)


class Integrity(Exception):
    """A fake driver's constraint violation."""


class Duplicate(Integrity):
    """A fake driver's uniqueness violation ("duplicate" in the message)."""


ERRORS = SQLErrors(
    integrity=Integrity,
    data=(),
    statement=Exception,
    broken_transaction=(),
    driver_error=lambda error: error,
    broken_transaction_hint="",
    retry_hint="",
    missing_tables_hint="",
)
TABLES = Tables(streams="st", events="ev", snapshots="sn", native_uuid=False)
PG_TABLES = Tables(streams="st", events="ev", snapshots="sn", native_uuid=True, channel="ch")
TAKEN_ID = Duplicate("duplicate key value violates unique constraint events_uuid_uq")


def rows(*values: Any) -> Outcome:
    return Outcome([list(row) if isinstance(row, tuple) else [row] for row in values], 0, None)


def count(rowcount: int, lastrowid: int | None = None) -> Outcome:
    return Outcome([], rowcount, lastrowid)


@dataclass
class Script:
    """A fake driver: answers each statement with the next scripted outcome (or error)."""

    answers: list[Outcome | Exception]
    seen: list[Statement] = field(default_factory=list)

    def run(self, statement: Statement) -> Outcome:
        self.seen.append(statement)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _events(
    stream_id: StreamId, expected: ExpectedVersion, n: int, data: str = "{}"
) -> list[RawEvent]:
    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    first = 1 if expected is NO_VERSIONING else expected + 1
    return [
        RawEvent(
            uuid4(),
            stream_id,
            "T",
            None if expected is NO_VERSIONING else first + i,
            at,
            data,
            "{}",
        )
        for i in range(n)
    ]


def _append(
    flavour: Flavour,
    script: Script,
    expected: ExpectedVersion,
    n: int = 2,
    *,
    stream_id: StreamId | None = None,
    events: list[RawEvent] | None = None,
) -> list[int]:
    stream_id = stream_id or StreamId()
    events = events or _events(stream_id, expected, n)
    protocol = append_events(flavour, ERRORS, "", stream_id, expected, events)
    positions = drive(protocol, script.run)
    assert not script.answers, "the protocol stopped before the script's end"
    return positions


def _raises(error: type[Exception], call: Callable[[], Any]) -> None:
    with pytest.raises(error):
        call()


# --- the fast claim ---------------------------------------------------------------------------


def test_a_new_stream_is_created_then_its_events_inserted() -> None:
    script = Script([rows(7), rows(11, 10)])
    assert _append(SQLite(TABLES), script, 0) == [10, 11]
    create, insert = script.seen
    assert create.sql.startswith("INSERT INTO st ")
    assert create.params[-1] == 2
    assert insert.sql.startswith("INSERT INTO ev ")
    assert insert.params[0] == 7


def test_a_versioned_stream_is_bumped_from_the_expected_version() -> None:
    script = Script([rows(7), rows(20, 21)])
    assert _append(SQLite(TABLES), script, 3) == [20, 21]
    bump = script.seen[0]
    assert bump.sql.startswith("UPDATE st SET version")
    assert bump.params[0] == 5
    assert bump.params[-1] == 3  # the expected version, in the WHERE clause


def test_a_named_bump_matches_the_name_too() -> None:
    script = Script([rows(7), rows(20)])
    _append(SQLite(TABLES), script, 3, 1, stream_id=StreamId(name="n"))
    assert "AND name = %s" in script.seen[0].sql
    assert script.seen[0].params[-1] == "n"


def test_a_versionless_append_to_an_existing_versionless_stream_writes_no_stream_row() -> None:
    script = Script([rows((7, None, None)), rows(30)])
    assert _append(SQLite(TABLES), script, NO_VERSIONING, 1) == [30]
    assert script.seen[0].sql.startswith("SELECT id, version, name FROM st")


def test_a_versionless_append_creates_a_missing_stream() -> None:
    script = Script([rows(), rows(7), rows(30)])
    assert _append(SQLite(TABLES), script, NO_VERSIONING, 1) == [30]
    assert script.seen[1].sql.startswith("INSERT INTO st")


def test_mariadb_claims_a_versionless_stream_with_a_write_first() -> None:
    script = Script([count(1, 7), rows(30)])
    assert _append(MariaDB(TABLES), script, NO_VERSIONING, 1) == [30]
    assert script.seen[0].sql.startswith("UPDATE st SET id = LAST_INSERT_ID(id)")


def test_mariadb_reads_ids_from_lastrowid_and_catches_its_duplicate_key() -> None:
    # touch misses, the stream is missing, creating it hits a concurrent creator: the slow
    # path then finds it versionless and appends without writing it again.
    script = Script([count(0), rows(), Duplicate("duplicate"), rows((7, None, None)), rows(30)])
    assert _append(MariaDB(TABLES), script, NO_VERSIONING, 1) == [30]


def test_mariadb_lets_an_integrity_error_that_is_no_duplicate_out() -> None:
    script = Script([Integrity("foreign key")])
    _raises(Integrity, lambda: _append(MariaDB(TABLES), script, 0))


def test_a_version_beyond_bigint_goes_down_the_slow_path() -> None:
    expected = 2**63 - 1
    script = Script([rows((7, 5, None))])
    _raises(ConcurrentStreamWriteError, lambda: _append(SQLite(TABLES), script, expected, 1))
    assert script.seen[0].sql.startswith("SELECT id, version, name FROM st")


# --- PostgreSQL's one statement -----------------------------------------------------------------


def test_postgresql_claims_and_inserts_in_one_statement_with_a_json_document() -> None:
    script = Script([rows((41, 7), (40, 7))])
    assert _append(PostgreSQL(PG_TABLES), script, 0) == [40, 41]
    (statement,) = script.seen
    assert "json_to_recordset" in statement.sql
    assert "pg_notify('ch', '')" in statement.sql
    assert statement.sql.startswith("WITH claimed AS (INSERT INTO st")


def test_postgresql_sends_payloads_json_would_change_as_values() -> None:
    stream_id = StreamId()
    events = _events(stream_id, 0, 2, data='{"a": "\\u0000"}')
    script = Script([rows((41, 7), (40, 7))])
    _append(PostgreSQL(PG_TABLES), script, 0, stream_id=stream_id, events=events)
    (statement,) = script.seen
    assert "json_to_recordset" not in statement.sql
    assert "(VALUES (0, " in statement.sql


def test_postgresql_versionless_claim_creates_or_reuses_in_one_statement() -> None:
    script = Script([rows((40, 7))])
    assert _append(
        PostgreSQL(PG_TABLES), script, NO_VERSIONING, 1, stream_id=StreamId(name="n")
    ) == [40]
    (statement,) = script.seen
    assert "pg_current_xact_id()" in statement.sql
    # existing: tenant, category, uuid, name; created: tenant, category, uuid, name; tenant
    assert statement.params[3] == "n"
    assert statement.params[7] == "n"


def test_postgresql_after_a_missed_claim_settles_why() -> None:
    script = Script([rows(), rows((7, 9, None)), rows()])
    _raises(ConcurrentStreamWriteError, lambda: _append(PostgreSQL(PG_TABLES), script, 3, 1))
    assert script.seen[1].sql.endswith("FOR SHARE")


def test_postgresql_inserts_what_one_statement_cannot_carry_with_its_stream_row_id() -> None:
    class Small(PostgreSQL):
        insert_chunk = 2

    stream_id = StreamId()
    events = _events(stream_id, 0, 3, data='{"a": "\\u00e9"}')
    script = Script([rows((41, 7), (40, 7)), rows(42)])
    assert _append(Small(PG_TABLES), script, 0, stream_id=stream_id, events=events) == [
        40,
        41,
        42,
    ]
    assert script.seen[1].params[0] == 7


# --- the slow path --------------------------------------------------------------------------------


def test_a_stale_expected_version_raises() -> None:
    script = Script([rows(), rows((7, 9, None)), rows()])
    _raises(ConcurrentStreamWriteError, lambda: _append(SQLite(TABLES), script, 3))


def test_an_expected_version_on_a_versionless_stream_raises() -> None:
    script = Script([rows(), rows((7, None, None))])
    _raises(ExpectedVersionUsedOnVersionlessStream, lambda: _append(SQLite(TABLES), script, 3))


def test_a_name_held_by_another_stream_raises() -> None:
    script = Script([rows(), rows((7, 3, None)), rows(uuid4().hex)])
    call = lambda: _append(SQLite(TABLES), script, 3, stream_id=StreamId(name="n"))  # noqa: E731
    _raises(AnotherStreamWithThisNameButOtherIdExists, call)


def test_the_slow_path_binds_a_missing_name() -> None:
    stream_id = StreamId(name="n")
    script = Script([rows(), rows((7, 3, None)), rows(), count(1), rows(20)])
    assert _append(SQLite(TABLES), script, 3, 1, stream_id=stream_id) == [20]
    rewrite = script.seen[3]
    assert rewrite.sql.startswith("UPDATE st SET version = %s, name = %s")
    assert rewrite.params == [4, "n", 7, 3]


def test_the_slow_path_looks_again_when_the_row_changed_and_gives_up_after_three() -> None:
    stream_id = StreamId(name="n")
    answers: list[Outcome | Exception] = [rows((7, None, None))]  # unnamed: not as it is
    for _ in range(3):
        answers += [rows((7, None, None)), rows(), count(0)]
    script = Script(answers)
    _raises(
        StorageError, lambda: _append(SQLite(TABLES), script, NO_VERSIONING, stream_id=stream_id)
    )


def test_a_stream_created_concurrently_is_read_again() -> None:
    # expected 0, the create inserts nothing (a racing creator): the slow path reads the
    # winner's row, at version 2 — a conflict.
    script = Script([rows(), rows((7, 2, None)), rows()])
    _raises(ConcurrentStreamWriteError, lambda: _append(SQLite(TABLES), script, 0))


# --- repeats ------------------------------------------------------------------------------------


def test_a_resent_append_returns_the_positions_it_got_then() -> None:
    stream_id = StreamId()
    events = _events(stream_id, 3, 2)
    stored = [(20, events[0].uuid.hex), (21, events[1].uuid.hex)]
    script = Script([rows(), rows((7, 5, None)), rows(*stored)])
    assert _append(SQLite(TABLES), script, 3, stream_id=stream_id, events=events) == [20, 21]
    assert script.seen[2].params == [7, 4, 5]


def test_other_events_at_those_versions_are_a_conflict() -> None:
    stream_id = StreamId()
    events = _events(stream_id, 3, 2)
    stored = [(20, events[0].uuid.hex), (21, uuid4().hex)]
    script = Script([rows(), rows((7, 5, None)), rows(*stored)])
    call = lambda: _append(SQLite(TABLES), script, 3, stream_id=stream_id, events=events)  # noqa: E731
    _raises(ConcurrentStreamWriteError, call)


def test_no_repeat_check_when_the_stream_is_not_that_far() -> None:
    script = Script([rows(), rows((7, 4, None))])
    _raises(ConcurrentStreamWriteError, lambda: _append(SQLite(TABLES), script, 3))
    assert len(script.seen) == 2


# --- taking a refused append back -----------------------------------------------------------------


def test_a_created_stream_is_deleted_when_an_event_id_is_taken() -> None:
    script = Script([rows(7), TAKEN_ID, count(1)])
    _raises(Duplicate, lambda: _append(SQLite(TABLES), script, 0))
    assert script.seen[2].sql == "DELETE FROM st WHERE id = %s"
    assert script.seen[2].params == [7]


def test_a_bumped_version_is_put_back_and_earlier_chunks_deleted() -> None:
    class Small(SQLite):
        insert_chunk = 1

    script = Script([rows(7), rows(20), TAKEN_ID, count(1), count(1)])
    _raises(Duplicate, lambda: _append(Small(TABLES), script, 3))
    undo_events, undo_bump = script.seen[3:]
    assert undo_events.sql.startswith("DELETE FROM ev")
    assert undo_events.params == [20]
    assert undo_bump.params == [3, 7]


def test_a_bound_name_is_unbound_when_an_event_id_is_taken() -> None:
    stream_id = StreamId(name="n")
    script = Script([rows((7, None, None)), rows((7, None, None)), rows(), count(1)])
    script.answers += [TAKEN_ID, count(1)]
    _raises(Duplicate, lambda: _append(SQLite(TABLES), script, NO_VERSIONING, stream_id=stream_id))
    assert script.seen[-1].sql == "UPDATE st SET name = NULL WHERE id = %s"


def test_other_refusals_are_not_taken_back() -> None:
    script = Script([rows(7), Duplicate("duplicate key: events_stream_version_uq")])
    _raises(Duplicate, lambda: _append(SQLite(TABLES), script, 0))


def test_postgresql_takes_nothing_back_its_transaction_is_aborted() -> None:
    # The one statement missed (the stream had no name yet): the slow path binds the name,
    # then the INSERT is refused; nothing is undone, PostgreSQL aborted the transaction.
    stream_id = StreamId(name="n")
    script = Script([rows(), rows((7, 3, None)), rows(), count(1), TAKEN_ID])
    _raises(Duplicate, lambda: _append(PostgreSQL(PG_TABLES), script, 3, 1, stream_id=stream_id))
    assert len(script.seen) == 5


# --- values ---------------------------------------------------------------------------------------


def test_each_flavour_binds_uuids_and_times_as_its_columns_store_them() -> None:
    value = UUID(int=1)
    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert SQLite(TABLES).bind_uuid(value) == value.hex
    assert SQLite(TABLES).bind_time(moment) == "2026-01-02 03:04:05.000006"
    assert MariaDB(TABLES).bind_time(moment) == moment.replace(tzinfo=None)
    assert MariaDB(PG_TABLES).bind_uuid(value) == str(value)
    assert PostgreSQL(PG_TABLES).bind_uuid(value) is value
    assert PostgreSQL(PG_TABLES).bind_time(moment) == moment
