"""The workloads: each a library run and the raw driver's minimal equivalent.

A run function takes a target and a size and returns (amount, seconds); the harness turns it
into a rate or a time per operation. Setup (building payloads, seeding streams) stays outside
the timed part on both sides; serialising the event is inside on both sides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from event_sourcery import Event, StreamId, StreamUUID, WrappedEvent
from event_sourcery.event_sourcing import Aggregate, Repository
from sqlalchemy.orm import Session

from event_sourcery_bench._payload import Balance, Payment, payment
from event_sourcery_bench._targets import Target

Run = Callable[[Target, int], tuple[int, float]]
_INSERT = (
    "INSERT INTO raw_events (stream_id, version, type, data, created_at) VALUES (?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Workload:
    """A named measurement: `unit` is "events/s" (higher is better) or "ms" / "µs" (lower)."""

    key: str
    title: str
    unit: str
    size: int
    quick_size: int
    library: Run
    raw: Run | None
    target_ratio: float | None  # library/raw for rates, library time/raw time for times
    target_max: float | None = None  # an absolute ceiling, in `unit`, where there is no raw side
    only: tuple[str, ...] = ()  # dialects it runs on; empty: all
    #: False: the baseline is another library run, so it runs on in-memory targets too.
    needs_raw_driver: bool = True
    #: Per-dialect goals overriding `target_ratio`.
    ratio_by_dialect: tuple[tuple[str, float], ...] = ()
    #: Whether peers (`--peers`) run it too, beside targets that have peers.
    peers: bool = False
    #: An asyncio workload: it runs on the asyncio targets only (and a sync one on sync ones).
    asynchronous: bool = False
    #: Its goal is the sync backend's ratio on the same workload, in the same run.
    goal_from_sync: bool = False


def _now(target: Target) -> Any:
    moment = datetime.now(UTC)
    if target.family == "sqlite":
        return moment.isoformat()
    return moment.replace(tzinfo=None) if target.family == "mariadb" else moment


def _session(target: Target) -> Session | None:
    return Session(target.engine) if target.engine is not None else None


def _commit(session: Session | None) -> None:
    if session is not None:
        session.commit()


# --- W1: one event to a new stream per transaction --------------------------------------------


def w1_library(target: Target, size: int) -> tuple[int, float]:
    session = _session(target)
    store = target.backend(session).event_store
    events = [payment(n) for n in range(size)]
    started = time.perf_counter()
    for event in events:
        store.append(event, stream_id=StreamId())
        _commit(session)
    return size, time.perf_counter() - started


def w1_raw(target: Target, size: int) -> tuple[int, float]:
    connection = target.raw_connect()  # type: ignore[misc]
    cursor, sql = connection.cursor(), target.sql(_INSERT)
    events = [payment(n) for n in range(size)]
    started = time.perf_counter()
    for event in events:
        row = (
            target.raw_stream_id(uuid4()),
            1,
            "bench.Payment",
            event.model_dump_json(),
            _now(target),
        )
        cursor.execute(sql, row)
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return size, elapsed


# --- W2: sequential appends to one stream with expected version -------------------------------


def w2_library(target: Target, size: int) -> tuple[int, float]:
    session = _session(target)
    store = target.backend(session).event_store
    stream, events = StreamId(), [payment(n) for n in range(size)]
    started = time.perf_counter()
    for version, event in enumerate(events):
        store.append(event, stream_id=stream, expected_version=version)
        _commit(session)
    return size, time.perf_counter() - started


def w2_raw(target: Target, size: int) -> tuple[int, float]:
    connection = target.raw_connect()  # type: ignore[misc]
    cursor, sql = connection.cursor(), target.sql(_INSERT)
    stream, events = target.raw_stream_id(uuid4()), [payment(n) for n in range(size)]
    started = time.perf_counter()
    for version, event in enumerate(events, start=1):
        cursor.execute(
            sql, (stream, version, "bench.Payment", event.model_dump_json(), _now(target))
        )
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return size, elapsed


# --- W3: batches of 100 events per append ----------------------------------------------------

_BATCH = 100


def w3_library(target: Target, size: int) -> tuple[int, float]:
    session = _session(target)
    store = target.backend(session).event_store
    events = [payment(n) for n in range(size)]
    started = time.perf_counter()
    for offset in range(0, size, _BATCH):
        store.append(*events[offset : offset + _BATCH], stream_id=StreamId())
        _commit(session)
    return size, time.perf_counter() - started


def w3_raw(target: Target, size: int) -> tuple[int, float]:
    connection = target.raw_connect()  # type: ignore[misc]
    cursor, sql = connection.cursor(), target.sql(_INSERT)
    events = [payment(n) for n in range(size)]
    started = time.perf_counter()
    for offset in range(0, size, _BATCH):
        stream, now = target.raw_stream_id(uuid4()), _now(target)
        rows = [
            (stream, version, "bench.Payment", event.model_dump_json(), now)
            for version, event in enumerate(events[offset : offset + _BATCH], start=1)
        ]
        cursor.executemany(sql, rows)
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return size, elapsed


def _typed(data: Any) -> Payment:
    """The event from a raw row: text on SQLite and MariaDB, already parsed by psycopg."""
    if isinstance(data, str | bytes):
        return Payment.model_validate_json(data)
    return Payment.model_validate(data)


# --- W4: load one 1,000-event stream into typed events ----------------------------------------

_STREAM_LENGTH = 1000


def w4_library(target: Target, loads: int) -> tuple[int, float]:
    session = _session(target)
    store = target.backend(session).event_store
    stream = StreamId()
    for offset in range(0, _STREAM_LENGTH, _BATCH):
        batch = [payment(n) for n in range(offset, offset + _BATCH)]
        store.append(*batch, stream_id=stream, expected_version=offset)
    _commit(session)
    started = time.perf_counter()
    for _ in range(loads):
        loaded = store.load_stream(stream)
        assert len(loaded) == _STREAM_LENGTH
        _commit(session)
    return loads, time.perf_counter() - started


def w4_raw(target: Target, loads: int) -> tuple[int, float]:
    connection = target.raw_connect()  # type: ignore[misc]
    cursor = connection.cursor()
    stream = target.raw_stream_id(uuid4())
    rows = [
        (stream, n + 1, "bench.Payment", payment(n).model_dump_json(), _now(target))
        for n in range(_STREAM_LENGTH)
    ]
    cursor.executemany(target.sql(_INSERT), rows)
    connection.commit()
    select = target.sql(
        "SELECT version, type, data, created_at FROM raw_events"
        " WHERE stream_id = ? ORDER BY version"
    )
    started = time.perf_counter()
    for _ in range(loads):
        cursor.execute(select, (stream,))
        events = [(row[0], _typed(row[2]), row[3]) for row in cursor.fetchall()]
        assert len(events) == _STREAM_LENGTH
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return loads, elapsed


# --- Per-request cost --------------------------------------------------------------------------


def construction(target: Target, count: int) -> tuple[int, float]:
    session = _session(target)
    started = time.perf_counter()
    for _ in range(count):
        target.backend(session).event_store  # noqa: B018 - building it is what is measured
    return count, time.perf_counter() - started


WORKLOADS = [
    Workload(
        "W1",
        "1 event to a new stream per transaction",
        "events/s",
        2000,
        100,
        w1_library,
        w1_raw,
        0.8,
        peers=True,
    ),
    Workload(
        "W2",
        "sequential appends to one stream",
        "events/s",
        2000,
        100,
        w2_library,
        w2_raw,
        0.8,
        peers=True,
    ),
    Workload(
        "W3", "batches of 100 events", "events/s", 20000, 1000, w3_library, w3_raw, 0.6, peers=True
    ),
    Workload("W4", "load a 1,000-event stream", "ms", 20, 2, w4_library, w4_raw, 1.5, peers=True),
    Workload(
        "C", "backend + event_store per request", "µs", 10000, 500, construction, None, None, 50.0
    ),
]


# --- S: a 10,000-event aggregate with and without a snapshot -----------------------------------

_AGGREGATE_LENGTH = 10_000


class _Account(Aggregate):
    category = "bench_account"
    snapshot_type = Balance

    def __init__(self) -> None:
        self.total = 0

    def __apply__(self, event: Event) -> None:
        assert isinstance(event, Payment)
        self.total += event.amount

    def __snapshot__(self) -> Event:
        return Balance(total=self.total)

    def __restore__(self, snapshot: Event) -> None:
        assert isinstance(snapshot, Balance)
        self.total = snapshot.total


def _aggregate(target: Target, size: int, *, snapshot: bool) -> tuple[Session | None, StreamUUID]:
    session = _session(target)
    store = target.backend(session).event_store
    uuid = StreamUUID()
    stream = StreamId.of(uuid, category=_Account.category)
    for offset in range(0, size, 1000):
        batch = [payment(n) for n in range(offset, min(size, offset + 1000))]
        store.append(*batch, stream_id=stream, expected_version=offset)
    if snapshot:
        total = sum(payment(n).amount for n in range(size))
        store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=total), size))
    _commit(session)
    return session, uuid


def _load_aggregate(target: Target, loads: int, *, snapshot: bool) -> tuple[int, float]:
    session, uuid = _aggregate(target, _AGGREGATE_LENGTH, snapshot=snapshot)
    repository = Repository[_Account](target.backend(session).event_store)
    started = time.perf_counter()
    for _ in range(loads):
        with repository.aggregate(uuid, _Account()) as wrapped:
            assert wrapped.version == _AGGREGATE_LENGTH
        _commit(session)
    return loads, time.perf_counter() - started


def snapshot_library(target: Target, loads: int) -> tuple[int, float]:
    return _load_aggregate(target, loads, snapshot=True)


def snapshot_baseline(target: Target, loads: int) -> tuple[int, float]:
    return _load_aggregate(target, loads, snapshot=False)


WORKLOADS.append(
    Workload(
        "S",
        "10,000-event aggregate: with snapshot vs replaying all (raw column = no snapshot)",
        "ms",
        5,
        1,
        snapshot_library,
        snapshot_baseline,
        0.1,
        needs_raw_driver=False,
    )
)


# --- X1, X2: scaling of an append with the stream's length and the session's age ----------------

_LONG_STREAM = 10_000
_TOUCHED_STREAMS = 1_000


def _timed_appends(
    target: Target, session: Session | None, stream: StreamId, first_version: int, count: int
) -> tuple[int, float]:
    """`count` single-event appends with expected version, each its own transaction."""
    store = target.backend(session).event_store
    events = [payment(n) for n in range(count)]
    started = time.perf_counter()
    for offset, event in enumerate(events):
        store.append(event, stream_id=stream, expected_version=first_version + offset)
        _commit(session)
    return count, time.perf_counter() - started


def long_stream_appends(target: Target, count: int) -> tuple[int, float]:
    """Appends to a stream already 10,000 events long."""
    session = _session(target)
    store = target.backend(session).event_store
    stream = StreamId()
    for offset in range(0, _LONG_STREAM, 1000):
        batch = [payment(n) for n in range(offset, offset + 1000)]
        store.append(*batch, stream_id=stream, expected_version=offset)
        _commit(session)
    return _timed_appends(target, session, stream, _LONG_STREAM, count)


def aged_session_appends(target: Target, count: int) -> tuple[int, float]:
    """Appends in a session (and backend) that already appended to 1,000 other streams."""
    session = _session(target)
    store = target.backend(session).event_store
    for n in range(_TOUCHED_STREAMS):
        store.append(payment(n), stream_id=StreamId(), expected_version=0)
        _commit(session)
    return _timed_appends(target, session, StreamId(), 0, count)


def fresh_appends(target: Target, count: int) -> tuple[int, float]:
    """The baseline of both: a fresh session appending to a new stream."""
    return _timed_appends(target, _session(target), StreamId(), 0, count)


WORKLOADS.extend(
    [
        Workload(
            "X1",
            "append at stream length 10,000 vs a new stream (raw column = new stream)",
            "ms",
            300,
            20,
            long_stream_appends,
            fresh_appends,
            1.2,
            needs_raw_driver=False,
        ),
        Workload(
            "X2",
            "append in a session that touched 1,000 streams vs a fresh one (raw = fresh)",
            "ms",
            300,
            20,
            aged_session_appends,
            fresh_appends,
            1.2,
            needs_raw_driver=False,
        ),
    ]
)


def _w6_workloads() -> list[Workload]:
    """W6, W6p (4 writer processes) and the saturation row W6s (16), on PostgreSQL."""
    from event_sourcery_bench import _live

    return [
        Workload(
            "W6",
            "4 writer processes + follower vs LOCK TABLE inserts",
            "events/s",
            3_200,
            40,
            _live.w6_library,
            _live.w6_raw_locked,
            3.0,
            only=("postgresql",),
            peers=True,
        ),
        Workload(
            "W6p",
            "4 writer processes + follower vs plain inserts",
            "events/s",
            3_200,
            40,
            _live.w6_library,
            _live.w6_raw_plain,
            0.6,
            only=("postgresql",),
        ),
        Workload(
            "W6s",
            "16 writer processes + follower vs LOCK TABLE inserts (CPU saturation)",
            "events/s",
            3_200,
            40,
            _live.w6s_library,
            _live.w6s_raw_locked,
            None,
            only=("postgresql",),
            peers=True,
        ),
    ]


def _register_log_workloads() -> None:
    from event_sourcery_bench import _live

    sql = ("sqlite", "postgresql", "mariadb")
    WORKLOADS.extend(
        [
            Workload(
                "W5",
                "read the global log in pages of 500",
                "events/s",
                50_000,
                2_500,
                _live.w5_library,
                _live.w5_raw,
                0.5,
                ratio_by_dialect=(("postgresql", 0.9), ("sqlite", 0.5)),
                peers=True,
            ),
            *_w6_workloads(),
            Workload(
                "L",
                "commit-to-delivery latency, p50",
                "ms",
                300,
                20,
                _live.latency_p50,
                None,
                None,
                20.0,
                only=("memory", "sqlite", "postgresql"),
            ),
            Workload(
                "L99",
                "commit-to-delivery latency, p99",
                "ms",
                300,
                20,
                _live.latency_p99,
                None,
                None,
                100.0,
                only=("memory", "sqlite", "postgresql"),
            ),
            Workload(
                "M",
                "peak RSS of a process catching up",
                "MB",
                1_000_000,
                20_000,
                _live.peak_memory,
                None,
                None,
                150.0,
                only=sql,
            ),
        ]
    )


def _register_copy_workload() -> None:
    from event_sourcery_bench import _copy

    WORKLOADS.append(
        Workload(
            "K",
            "event-sourcery copy from SQLite vs W3 batch appends",
            "events/s",
            1_000_000,
            2_000,
            _copy.copy_library,
            _copy.w3_baseline,
            0.5,
            only=("sqlite", "postgresql", "mariadb"),
            needs_raw_driver=False,
        )
    )


_register_log_workloads()
_register_copy_workload()
