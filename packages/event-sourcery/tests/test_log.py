"""The poll of the global log and the settled position, driven by a scripted fake driver.

The database is a script: each statement the protocol yields is answered by the first rule
whose key its SQL contains. What the protocol decides (where it stops at a gap, which marker
it takes, when it asks about it, when it gives up) is checked without any server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from event_sourcery.exceptions import StorageError
from event_sourcery.interfaces import SubscriptionFilter
from event_sourcery.sql import (
    LogReader,
    MariaDB,
    Outcome,
    OwnTransaction,
    Pause,
    PostgreSQL,
    Protocol,
    SQLite,
    Statement,
    Tables,
    settled_position,
)
from event_sourcery.sql._inflight import PgSnapshot, widen
from event_sourcery.sql._log import GAP_PATIENCE, POSITION_TIMEOUT

T = TypeVar("T")
TABLES = Tables(streams='"streams"', events='"events"', snapshots='"snapshots"', native_uuid=True)
EVERYTHING = SubscriptionFilter()
Answer = Callable[[Statement], list[Sequence[Any]]]


class Database:
    """Answers statements by rules (SQL fragment -> rows), and records what it was asked."""

    def __init__(self, **rules: Answer | list[Sequence[Any]]) -> None:
        self.rules: dict[str, Answer | list[Sequence[Any]]] = {}
        for key, answer in rules.items():
            self.rules[_FRAGMENTS[key]] = answer
        self.asked: list[str] = []
        self.pauses: list[float] = []

    def run(self, statement: Statement) -> Outcome:
        for fragment, answer in self.rules.items():
            if fragment in statement.sql:
                self.asked.append(_NAMES[fragment])
                rows = answer(statement) if callable(answer) else answer
                return Outcome(list(rows), len(rows), None)
        raise AssertionError(f"unscripted statement: {statement.sql}")

    def play(self, protocol: Protocol[T], clock: list[float] | None = None) -> T:
        """Run `protocol`; a pause is recorded and moves `clock` on instead of sleeping."""
        try:
            step = next(protocol)
            while True:
                if isinstance(step, Pause):
                    self.pauses.append(step.seconds)
                    if clock is not None:
                        clock[0] += step.seconds
                    step = protocol.send(None)
                else:
                    step = protocol.send(self.run(step))
        except StopIteration as done:
            result: T = done.value
            return result


_FRAGMENTS = {
    "head": "ARRAY(SELECT id",
    "maria_head": "(SELECT MAX(id)",
    "sqlite_head": "SELECT coalesce(max(id), 0) FROM",
    "sqlite_position": "COALESCE(MAX(id), 0), 0 FROM",
    "rows": "JOIN",
    "live": "pg_stat_activity",
    "status": "SHOW ENGINE INNODB STATUS",
    "xact_status": "pg_xact_status",
    "position": "pg_backend_pid(), pg_current_snapshot()",
    "maria_position": "CONNECTION_ID()",
    "pid": "SELECT pg_backend_pid()",
}
_NAMES = {fragment: name for name, fragment in _FRAGMENTS.items()}


def _row(position: int, category: str = "") -> tuple[Any, ...]:
    return (
        position,
        "",
        category,
        uuid4().hex,
        None,
        position,
        uuid4().hex,
        "Happened",
        1,
        "{}",
        None,
        "2026-01-02T03:04:05.000006",
    )


def _rows_between(visible: Sequence[int]) -> Answer:
    """The rows query over a log where the positions `visible` are committed."""

    def answer(statement: Statement) -> list[Sequence[Any]]:
        after, bound, *_, limit = statement.params
        return [_row(p) for p in visible if after < p <= bound][:limit]

    return answer


def _pg_head(snapshot: str, visible: Sequence[int]) -> Answer:
    def answer(statement: Statement) -> list[Sequence[Any]]:
        after, limit = statement.params
        ids = [p for p in visible if p > after][:limit]
        return [(snapshot, max(visible, default=None), ids)]

    return answer


def _maria_head(visible: Sequence[int]) -> Answer:
    def answer(statement: Statement) -> list[Sequence[Any]]:
        after, limit = statement.params
        return [(p, max(visible)) for p in visible if p > after][:limit]

    return answer


def _innodb(*transactions: int, complete: bool = True) -> list[Sequence[Any]]:
    blocks = "".join(
        f"---TRANSACTION {trx}, ACTIVE 1 sec\nMariaDB thread id {trx + 1000}, query id 1\n"
        for trx in transactions
    )
    end = "END OF INNODB MONITOR OUTPUT" if complete else ""
    return [("InnoDB", "", f"TRANSACTIONS\n{blocks}----------------------------\n{end}")]


# --- PostgreSQL snapshots (moved with the markers from the SQLAlchemy backend) --------------


def test_a_transaction_newer_than_every_completed_one_is_running_though_not_listed() -> None:
    snapshot = PgSnapshot.parse("20806:20806:")
    assert snapshot.listed == frozenset()
    assert snapshot.running(20806)
    assert snapshot.running(20807)
    assert not snapshot.running(20805)


def test_listed_transactions_are_running_and_the_rest_below_xmax_ended() -> None:
    snapshot = PgSnapshot.parse("100:105:100,103")
    assert [x for x in range(99, 108) if snapshot.running(x)] == [100, 103, 105, 106, 107]


def test_32_bit_ids_widen_to_the_epoch_of_the_reference() -> None:
    epoch = 7 << 32
    assert widen(12, epoch + 10) == epoch + 12
    # Around a wraparound of the 32-bit counter, both ways.
    assert widen(0xFFFFFFF0, epoch + 5) == epoch - 16
    assert widen(3, epoch - 16) == epoch + 3


# --- the poll ---------------------------------------------------------------------------------


def test_sqlite_reads_up_to_the_horizon_and_takes_no_marker() -> None:
    database = Database(sqlite_head=[(5,)], rows=_rows_between([1, 2, 4, 5]))
    reader = LogReader(SQLite(TABLES), 0, EVERYTHING)
    records = database.play(reader.fetch(10))
    assert [r.position for r in records] == [1, 2, 4, 5]  # 3 was rolled back: final
    assert reader.position == 5
    assert database.asked == ["sqlite_head", "rows"]


def test_a_limit_stops_at_the_last_record_delivered() -> None:
    database = Database(sqlite_head=[(5,)], rows=_rows_between([1, 2, 3, 4, 5]))
    reader = LogReader(SQLite(TABLES), 0, EVERYTHING)
    assert [r.position for r in database.play(reader.fetch(2))] == [1, 2]
    assert reader.position == 2


def test_records_are_read_back_as_stored() -> None:
    row = _row(7, category="orders")
    database = Database(sqlite_head=[(7,)], rows=[row])
    (record,) = Database.play(database, LogReader(SQLite(TABLES), 6, EVERYTHING).fetch(1))
    assert record.position == 7
    assert record.tenant_id is None
    assert record.raw.stream_id.category == "orders"
    assert record.raw.stream_id.int == int(row[3], 16)
    assert record.raw.uuid.int == int(row[6], 16)
    assert record.raw.created_at.isoformat() == "2026-01-02T03:04:05.000006+00:00"


def test_postgresql_holds_a_gap_until_its_transactions_end_by_the_next_reads_snapshot() -> None:
    visible = [1, 2, 4]
    database = Database(
        head=_pg_head("10:12:11", visible), live=[("11",)], rows=_rows_between(visible)
    )
    reader = LogReader(PostgreSQL(TABLES), 0, EVERYTHING, clock=lambda: 0.0)
    records = database.play(reader.fetch(10), clock=[0.0])
    assert [r.position for r in records] == [1, 2]
    assert reader.waiting
    assert database.asked[:3] == ["head", "live", "rows"]
    # Transaction 11 ended (below xmax, not listed) and 3 never came: 4 is delivered.
    database.rules[_FRAGMENTS["head"]] = _pg_head("13:13:", visible)
    database.asked.clear()
    assert [r.position for r in database.play(reader.fetch(10))] == [4]
    assert not reader.waiting
    assert "live" not in database.asked  # judged by the read's own snapshot: no statement


def test_postgresql_waits_for_a_transaction_newer_than_every_completed_one() -> None:
    visible = [1, 3]
    database = Database(
        head=_pg_head("12:12:", visible), live=[("12",)], rows=_rows_between(visible)
    )
    clock = [0.0]
    reader = LogReader(PostgreSQL(TABLES), 0, EVERYTHING, clock=lambda: clock[0])
    assert [r.position for r in database.play(reader.fetch(10), clock)] == [1]
    assert reader.waiting  # 12 is at xmax: running, though not listed


def test_a_gap_with_nothing_in_flight_is_passed_in_the_same_poll() -> None:
    visible = [1, 3]
    database = Database(head=_pg_head("9:9:", visible), live=[], rows=_rows_between(visible))
    reader = LogReader(PostgreSQL(TABLES), 0, EVERYTHING)
    assert [r.position for r in database.play(reader.fetch(10))] == [1, 3]
    assert database.pauses == []


def test_fetch_waits_a_little_for_a_gap_then_gives_up_empty() -> None:
    visible = [2]
    database = Database(
        head=_pg_head("10:12:11", visible), live=[("11",)], rows=_rows_between(visible)
    )
    clock = [0.0]
    reader = LogReader(PostgreSQL(TABLES), 0, EVERYTHING, clock=lambda: clock[0])
    assert database.play(reader.fetch(10), clock) == []
    assert database.pauses
    assert GAP_PATIENCE <= sum(database.pauses) < GAP_PATIENCE + 0.1
    assert database.asked.count("live") == 1  # one marker for the gap, however long it waits


def test_the_openers_transaction_is_left_out_of_markers_and_its_positions_never_passed() -> None:
    visible = [1, 3]
    asked: list[Any] = []

    def live(statement: Statement) -> list[Sequence[Any]]:
        asked.append(statement.params)
        return []

    database = Database(head=_pg_head("9:9:", visible), live=live, rows=_rows_between(visible))
    reader = LogReader(PostgreSQL(TABLES), 0, EVERYTHING)
    own = OwnTransaction(session=4242, lowest_position=2)
    assert [r.position for r in database.play(reader.fetch(10, own))] == [1]
    assert asked == [(4242,)]
    assert reader.position == 1  # position 2 (its own, uncommitted) is not passed


def test_mariadb_asks_about_the_marker_before_the_next_read() -> None:
    visible = [1, 3]
    database = Database(
        maria_head=_maria_head(visible), status=_innodb(77), rows=_rows_between(visible)
    )
    clock = [0.0]
    reader = LogReader(MariaDB(TABLES), 0, EVERYTHING, clock=lambda: clock[0])
    assert [r.position for r in database.play(reader.fetch(10), clock)] == [1]
    assert database.asked[:3] == ["maria_head", "status", "rows"]
    database.rules[_FRAGMENTS["status"]] = _innodb()
    database.asked.clear()
    assert [r.position for r in database.play(reader.fetch(10), clock)] == [3]
    # Settled: everything up to the horizon seen with the gap comes without another look.
    assert database.asked[:2] == ["status", "rows"]


def test_an_incomplete_innodb_list_ends_only_once_a_complete_one_is_empty() -> None:
    visible = [1, 3]
    database = Database(
        maria_head=_maria_head(visible),
        status=_innodb(77, complete=False),
        rows=_rows_between(visible),
    )
    clock = [0.0]
    reader = LogReader(MariaDB(TABLES), 0, EVERYTHING, clock=lambda: clock[0])
    assert [r.position for r in database.play(reader.fetch(10), clock)] == [1]
    assert reader.waiting
    database.rules[_FRAGMENTS["status"]] = _innodb()
    assert [r.position for r in database.play(reader.fetch(10), clock)] == [3]


def test_a_filter_reads_a_page_of_ids_and_selects_rows_in_sql() -> None:
    bound: list[Any] = []

    def rows(statement: Statement) -> list[Sequence[Any]]:
        bound.append(statement.params)
        assert "s.category IN (%s, %s)" in statement.sql
        assert "e.type IN (%s)" in statement.sql
        return []

    flt = SubscriptionFilter(categories=frozenset({"b", "a"}), event_types=frozenset({"T"}))
    database = Database(head=_pg_head("9:9:", [1, 2]), rows=rows)
    database.play(LogReader(PostgreSQL(TABLES), 0, flt).fetch(10))
    assert bound == [(0, 2, "a", "b", "T", 10)]


def test_an_empty_filter_selects_nothing() -> None:
    sql, values = SQLite(TABLES).log_rows(SubscriptionFilter(categories=frozenset()))
    assert "1 = 0" in sql
    assert values == ()


# --- the settled position ---------------------------------------------------------------------


def test_the_settled_position_waits_until_the_transactions_in_flight_end() -> None:
    answers = iter([[("11",), ("12",)], [("12",)], []])
    database = Database(
        position=[(9, 4242, "10:13:11,12", "")],
        live=[("11",), ("12",)],
        xact_status=lambda _: next(answers),
    )
    assert database.play(settled_position(PostgreSQL(TABLES))) == 9
    assert database.asked == ["position", "live", "xact_status", "xact_status", "xact_status"]
    assert len(database.pauses) == 2


def test_the_settled_position_of_sqlite_is_the_newest() -> None:
    database = Database(sqlite_position=[(5, 0)])
    assert database.play(settled_position(SQLite(TABLES))) == 5


def test_the_settled_position_leaves_the_callers_connection_out_on_mariadb() -> None:
    status = _innodb(5, 6)  # connections 1005 and 1006
    database = Database(maria_position=[(3, 1006)], status=status)
    answers = iter([status, _innodb(6)])
    database.rules[_FRAGMENTS["status"]] = lambda _: next(answers)
    assert database.play(settled_position(MariaDB(TABLES))) == 3
    assert database.asked == ["maria_position", "status", "status"]


def test_the_settled_position_gives_up_after_the_timeout() -> None:
    database = Database(position=[(9, 4242, "10:13:11", "")], live=[("11",)], xact_status=[("11",)])
    clock = [0.0]
    with pytest.raises(StorageError) as caught:
        database.play(settled_position(PostgreSQL(TABLES), clock=lambda: clock[0]), clock)
    assert f"did not end within {POSITION_TIMEOUT:.0f} s" in str(caught.value)
    assert "transactions 11" in str(caught.value)


# --- the opener's session ---------------------------------------------------------------------


class _Psycopg3:
    class info:
        backend_pid = 4242


class _PyMySQL:
    def thread_id(self) -> int:
        return 77


def test_the_openers_session_is_named_by_the_driver_where_it_tells() -> None:
    database = Database()
    assert database.play(PostgreSQL(TABLES).session_of(_Psycopg3())) == 4242
    assert database.play(MariaDB(TABLES).session_of(_PyMySQL())) == 77
    assert database.play(SQLite(TABLES).session_of(object())) == 0
    assert database.asked == []


def test_the_openers_session_is_asked_of_the_server_otherwise() -> None:
    database = Database(pid=[(99,)])
    assert database.play(PostgreSQL(TABLES).session_of(object())) == 99
