"""Workloads of the global log: catch-up reads (W5), concurrent writers with a follower (W6),
live latency (L) and memory while catching up (M)."""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import threading
import time
from typing import Any
from uuid import uuid4

from event_sourcery import StreamId
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from event_sourcery_bench._payload import Payment, payment
from event_sourcery_bench._targets import Target

#: Notes a run leaves for the report (follower counts, p99), by (workload key, target name).
NOTES: dict[tuple[str, str], str] = {}


def _session(target: Target) -> Session | None:
    return Session(target.engine) if target.engine is not None else None


def _commit(session: Session | None) -> None:
    if session is not None:
        session.commit()


def _seed(target: Target, count: int, category: str) -> int:
    """Append `count` events in `category` (batches of 500); return the position before them."""
    session = _session(target)
    store = target.backend(session).event_store
    start = store.position
    for offset in range(0, count, 500):
        batch = [payment(n) for n in range(offset, min(count, offset + 500))]
        store.append(*batch, stream_id=StreamId(category=category))
        _commit(session)
    return start


# --- W5: the global log in pages of 500 into typed events ---------------------------------------


def w5_library(target: Target, size: int) -> tuple[int, float]:
    category = f"w5{uuid4().hex[:8]}"
    start = _seed(target, size, category)
    backend = target.backend(_session(target))
    batches = backend.subscriber.start_from(start).build_batch(size=500, timelimit=0.1)
    seen = 0
    started = time.perf_counter()
    while seen < size:
        seen += len(next(batches))
    return seen, time.perf_counter() - started


def w5_raw(target: Target, size: int) -> tuple[int, float]:
    connection = target.raw_connect()  # type: ignore[misc]
    cursor = connection.cursor()
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM raw_events")
    start = int(cursor.fetchone()[0])
    stream, rows = target.raw_stream_id(uuid4()), []
    from event_sourcery_bench._workloads import _INSERT, _now

    for n in range(size):
        rows.append((stream, n + 1, "bench.Payment", payment(n).model_dump_json(), _now(target)))
    cursor.executemany(target.sql(_INSERT), rows)
    connection.commit()
    select = target.sql(
        "SELECT id, version, type, data, created_at FROM raw_events"
        " WHERE id > ? ORDER BY id LIMIT 500"
    )
    seen, position = 0, start
    started = time.perf_counter()
    while seen < size:
        cursor.execute(select, (position,))
        page = cursor.fetchall()
        events = [_typed(row[3]) for row in page]
        position = page[-1][0]
        seen += len(events)
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return seen, elapsed


def _typed(data: Any) -> Payment:
    if isinstance(data, str | bytes):
        return Payment.model_validate_json(data)
    return Payment.model_validate(data)


# --- L: commit-to-delivery latency ----------------------------------------------


def _latencies(target: Target, count: int) -> list[float]:
    category = f"live{uuid4().hex[:8]}"
    committed: dict[int, float] = {}
    backend = target.backend(_session(target))
    start = backend.event_store.position
    iterator = backend.subscriber.start_from(start).to_category(category).build_iter(timelimit=5)

    def write() -> None:
        session = _session(target)
        store = target.backend(session).event_store
        time.sleep(0.2)  # let the subscriber start waiting
        for n in range(count):
            store.append(payment(n), stream_id=StreamId(category=category))
            _commit(session)
            committed[n] = time.perf_counter()
            time.sleep(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    latencies = []
    for _ in range(count):
        record = next(iterator)
        arrived = time.perf_counter()
        assert record is not None, "no event arrived within 5 s"
        event = record.wrapped_event.event
        amount = event.amount - 1000
        # The writer notes its commit time right after commit returns; the reader may see the
        # event first, so wait for the note (a few microseconds) rather than guess.
        while amount not in committed:
            time.sleep(0)
        latencies.append(max(0.0, arrived - committed[amount]))
    writer.join()
    return latencies


def latency_p50(target: Target, count: int) -> tuple[int, float]:
    latencies = sorted(_latencies(target, count))
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    NOTES[("L", target.name)] = (
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    )
    return 1, statistics.median(latencies)


def latency_p99(target: Target, count: int) -> tuple[int, float]:
    latencies = sorted(_latencies(target, count))
    return 1, latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


# --- W6: concurrent writer processes with a follower (PostgreSQL) ----------------


def _library_writer(url: str, category: str, count: int, ready: Any, go: Any) -> None:
    from event_sourcery_sqlalchemy import SQLAlchemyBackend

    engine = create_engine(url)
    session = Session(engine)
    store = SQLAlchemyBackend(session).event_store
    events = [payment(n) for n in range(count)]
    ready.release()
    go.wait()
    for event in events:
        store.append(event, stream_id=StreamId(category=category))
        session.commit()
    engine.dispose()


def _raw_writer(dsn: dict[str, Any], lock: bool, count: int, ready: Any, go: Any) -> None:
    import psycopg

    connection = psycopg.connect(**dsn)
    cursor = connection.cursor()
    events = [payment(n).model_dump_json() for n in range(count)]
    ready.release()
    go.wait()
    for data in events:
        if lock:
            cursor.execute("LOCK TABLE raw_events IN EXCLUSIVE MODE")
        cursor.execute(
            "INSERT INTO raw_events (stream_id, version, type, data, created_at)"
            " VALUES (%s, 1, 'bench.Payment', %s, now())",
            (uuid4(), data),
        )
        connection.commit()
    connection.close()


def _race(writers: int, target_fn: Any, args: tuple[Any, ...]) -> tuple[list[Any], Any, float]:
    context = multiprocessing.get_context("spawn")
    ready, go = context.Semaphore(0), context.Event()
    processes = [context.Process(target=target_fn, args=(*args, ready, go)) for _ in range(writers)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    return processes, go, time.perf_counter()


#: W6's writer processes; the saturation row W6s runs 16 (on 2 cores, it measures the CPU).
WRITERS = 4
SATURATION_WRITERS = 16


def _writers_and_count(size: int, writers: int) -> tuple[int, int]:
    """`writers` processes (2 in a quick run) sharing `size` appends."""
    writers = writers if size >= 100 else 2
    return writers, max(1, size // writers)


def w6_library(target: Target, size: int, *, writers: int = WRITERS) -> tuple[int, float]:
    assert target.engine is not None
    writers, each = _writers_and_count(size, writers)
    category = f"w6{uuid4().hex[:8]}"
    url = target.engine.url.render_as_string(hide_password=False)
    backend = target.backend(_session(target))
    start = backend.event_store.position
    follower = backend.subscriber.start_from(start).to_category(category).build_batch(500, 0.5)
    processes, go, _ = _race(writers, _library_writer, (url, category, each))
    started = time.perf_counter()
    go.set()
    delivered: list[int] = []
    total = writers * each
    deadline = time.monotonic() + 120
    finished = None
    while len(delivered) < total and time.monotonic() < deadline:
        delivered.extend(record.position for record in next(follower))
        if finished is None and not any(p.is_alive() for p in processes):
            finished = time.perf_counter()
    for process in processes:
        process.join()
    finished = finished or time.perf_counter()
    missed = total - len(set(delivered))
    duplicated = len(delivered) - len(set(delivered))
    in_order = delivered == sorted(delivered)
    NOTES[("W6" if writers <= WRITERS else "W6s", target.name)] = (
        f"follower: written {total}, delivered {len(set(delivered))}, missed {missed}, "
        f"duplicated {duplicated}, in order {in_order}"
    )
    return total, finished - started


def _raw(target: Target, size: int, *, lock: bool, writers: int) -> tuple[int, float]:
    assert target.engine is not None
    writers, each = _writers_and_count(size, writers)
    url = target.engine.url
    dsn = {"host": url.host, "port": url.port or 5432, "user": url.username, "dbname": url.database}
    processes, go, _ = _race(writers, _raw_writer, (dsn, lock, each))
    started = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
    return writers * each, time.perf_counter() - started


def w6_raw_locked(target: Target, size: int) -> tuple[int, float]:
    return _raw(target, size, lock=True, writers=WRITERS)


def w6_raw_plain(target: Target, size: int) -> tuple[int, float]:
    return _raw(target, size, lock=False, writers=WRITERS)


def w6s_library(target: Target, size: int) -> tuple[int, float]:
    return w6_library(target, size, writers=SATURATION_WRITERS)


def w6s_raw_locked(target: Target, size: int) -> tuple[int, float]:
    return _raw(target, size, lock=True, writers=SATURATION_WRITERS)


# --- M: peak memory while catching up ---------------------------------------------


def _catch_up(url: str, start: int, count: int, result: Any) -> None:
    from event_sourcery_sqlalchemy import SQLAlchemyBackend

    engine = create_engine(url)
    backend = SQLAlchemyBackend(Session(engine))
    batches = backend.subscriber.start_from(start).build_batch(size=1000, timelimit=0.5)
    seen = 0
    while seen < count:
        batch = next(batches)
        if not batch:
            break
        seen += len(batch)
    result.put((seen, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def peak_memory(target: Target, size: int) -> tuple[int, float]:
    """Peak RSS (MB, reported in the "ms" column's place) of a process catching up."""
    assert target.engine is not None
    start = _seed(target, size, f"m{uuid4().hex[:8]}")
    context = multiprocessing.get_context("spawn")
    result = context.Queue()
    url = target.engine.url.render_as_string(hide_password=False)
    process = context.Process(target=_catch_up, args=(url, start, size, result))
    process.start()
    seen, peak_kb = result.get(timeout=600)
    process.join()
    NOTES[("M", target.name)] = f"caught up over {seen} events"
    return 1, peak_kb / 1024
