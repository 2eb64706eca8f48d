"""The asyncio workloads: W1, W3, W4 and W5 through `AsyncSQLAlchemyBackend` against the raw
asyncio driver doing the same work, and W7, many tasks on one event loop.

Each run is the sync workload's shape (`_workloads`, `_live`), awaited: one `AsyncSession`
committing after each append, as a user's code would; setup stays outside the timed part. A
run is a plain function (the harness is synchronous) around its own `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any
from uuid import uuid4

from event_sourcery import StreamId
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from event_sourcery_bench._async_targets import AsyncSide
from event_sourcery_bench._payload import payment
from event_sourcery_bench._targets import Target
from event_sourcery_bench._workloads import (
    _BATCH,
    _STREAM_LENGTH,
    Run,
    Workload,
    _now,
    _typed,
)
from event_sourcery_bench._workloads import w1_library as sync_w1_library

Measured = tuple[int, float]


def side_of(target: Target) -> AsyncSide:
    assert target.async_side is not None, f"{target.name} is not an asyncio target"
    return target.async_side


def awaited(run: Callable[[AsyncSide, Target, int], Coroutine[Any, Any, Measured]]) -> Run:
    """A harness run of the coroutine `run`, on an event loop of its own."""

    def measured(target: Target, size: int) -> Measured:
        return asyncio.run(run(side_of(target), target, size))

    measured.__name__ = run.__name__
    return measured


def _rows(target: Target, count: int, *, start: int = 0) -> list[tuple[Any, ...]]:
    """The raw side's rows of `count` payments of one new stream, versions 1, 2, ..."""
    stream = target.raw_stream_id(uuid4())
    return [
        (stream, n + 1, "bench.Payment", payment(n).model_dump_json(), _now(target))
        for n in range(start, start + count)
    ]


# --- W1: one event to a new stream per transaction ---------------------------------------------


async def w1_library(side: AsyncSide, target: Target, size: int) -> Measured:
    events = [payment(n) for n in range(size)]
    async with side.engine() as engine, AsyncSession(engine) as session:
        store = AsyncSQLAlchemyBackend(session).event_store
        started = time.perf_counter()
        for event in events:
            await store.append(event, stream_id=StreamId())
            await session.commit()
        return size, time.perf_counter() - started


async def w1_raw(side: AsyncSide, target: Target, size: int) -> Measured:
    events = [payment(n) for n in range(size)]
    raw = await side.raw()
    started = time.perf_counter()
    for event in events:
        stream = target.raw_stream_id(uuid4())
        await raw.insert([(stream, 1, "bench.Payment", event.model_dump_json(), _now(target))])
    elapsed = time.perf_counter() - started
    await raw.close()
    return size, elapsed


# --- W3: batches of 100 events per append ------------------------------------------------------


async def w3_library(side: AsyncSide, target: Target, size: int) -> Measured:
    events = [payment(n) for n in range(size)]
    async with side.engine() as engine, AsyncSession(engine) as session:
        store = AsyncSQLAlchemyBackend(session).event_store
        started = time.perf_counter()
        for offset in range(0, size, _BATCH):
            await store.append(*events[offset : offset + _BATCH], stream_id=StreamId())
            await session.commit()
        return size, time.perf_counter() - started


async def w3_raw(side: AsyncSide, target: Target, size: int) -> Measured:
    events = [payment(n) for n in range(size)]
    raw = await side.raw()
    started = time.perf_counter()
    for offset in range(0, size, _BATCH):
        stream, now = target.raw_stream_id(uuid4()), _now(target)
        rows = [
            (stream, version, "bench.Payment", event.model_dump_json(), now)
            for version, event in enumerate(events[offset : offset + _BATCH], start=1)
        ]
        await raw.insert(rows)
    elapsed = time.perf_counter() - started
    await raw.close()
    return size, elapsed


# --- W4: load one 1,000-event stream into typed events -----------------------------------------


async def w4_library(side: AsyncSide, target: Target, loads: int) -> Measured:
    async with side.engine() as engine, AsyncSession(engine) as session:
        store = AsyncSQLAlchemyBackend(session).event_store
        stream = StreamId()
        for offset in range(0, _STREAM_LENGTH, _BATCH):
            batch = [payment(n) for n in range(offset, offset + _BATCH)]
            await store.append(*batch, stream_id=stream, expected_version=offset)
        await session.commit()
        started = time.perf_counter()
        for _ in range(loads):
            loaded = await store.load_stream(stream)
            assert len(loaded) == _STREAM_LENGTH
            await session.commit()
        return loads, time.perf_counter() - started


async def w4_raw(side: AsyncSide, target: Target, loads: int) -> Measured:
    raw = await side.raw()
    rows = _rows(target, _STREAM_LENGTH)
    await raw.insert(rows)
    select = (
        "SELECT version, type, data, created_at FROM raw_events"
        " WHERE stream_id = ? ORDER BY version"
    )
    started = time.perf_counter()
    for _ in range(loads):
        found = await raw.select(select, (rows[0][0],))
        events = [(row[0], _typed(row[2]), row[3]) for row in found]
        assert len(events) == _STREAM_LENGTH
    elapsed = time.perf_counter() - started
    await raw.close()
    return loads, elapsed


# --- W5: the global log in pages of 500 into typed events --------------------------------------


async def _seed(engine: AsyncEngine, count: int) -> int:
    """Append `count` events (batches of 500); the position before them."""
    async with AsyncSession(engine) as session:
        store = AsyncSQLAlchemyBackend(session).event_store
        start = await store.position()
        for offset in range(0, count, 500):
            batch = [payment(n) for n in range(offset, min(count, offset + 500))]
            await store.append(*batch, stream_id=StreamId(category="w5"))
            await session.commit()
        return start


async def w5_library(side: AsyncSide, target: Target, size: int) -> Measured:
    async with side.engine() as engine:
        start = await _seed(engine, size)
        async with AsyncSession(engine) as session:
            subscriber = AsyncSQLAlchemyBackend(session).subscriber.start_from(start)
            batches = subscriber.build_batch(size=500, timelimit=0.1)
            seen = 0
            started = time.perf_counter()
            while seen < size:
                seen += len(await anext(batches))
            elapsed = time.perf_counter() - started
            await batches.aclose()
    return seen, elapsed


async def w5_raw(side: AsyncSide, target: Target, size: int) -> Measured:
    raw = await side.raw()
    position = int((await raw.select("SELECT COALESCE(MAX(id), 0) FROM raw_events", ()))[0][0])
    await raw.insert(_rows(target, size))
    select = (
        "SELECT id, version, type, data, created_at FROM raw_events"
        " WHERE id > ? ORDER BY id LIMIT 500"
    )
    seen = 0
    started = time.perf_counter()
    while seen < size:
        page = await raw.select(select, (position,))
        events = [_typed(row[3]) for row in page]
        position = page[-1][0]
        seen += len(events)
    elapsed = time.perf_counter() - started
    await raw.close()
    return seen, elapsed


# --- W7: concurrent tasks on one event loop, a pool of 10 connections (PostgreSQL) -------------

TASKS, POOL = 100, 10


def tasks_and_each(size: int) -> tuple[int, int]:
    """W7's tasks (100, fewer in a tiny run) and how many appends each makes of `size`."""
    tasks = max(1, min(TASKS, size))
    return tasks, max(1, size // tasks)


async def _w7_task(engine: AsyncEngine, count: int, go: asyncio.Event) -> None:
    """One task: `count` appends of 1 event to its own stream (with the expected version, as
    W2), each its own transaction."""
    stream, events = StreamId(), [payment(n) for n in range(count)]
    async with AsyncSession(engine) as session:
        store = AsyncSQLAlchemyBackend(session).event_store
        await go.wait()
        for version, event in enumerate(events):
            await store.append(event, stream_id=stream, expected_version=version)
            await session.commit()


async def w7_library(side: AsyncSide, target: Target, size: int) -> Measured:
    tasks, each = tasks_and_each(size)
    async with side.engine(pool_size=POOL) as engine:
        warm = [await engine.connect() for _ in range(POOL)]  # the pool's connections, opened
        for connection in warm:
            await connection.close()
        go = asyncio.Event()
        running = [asyncio.create_task(_w7_task(engine, each, go)) for _ in range(tasks)]
        await asyncio.sleep(0)  # every task waits for `go`
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*running)
        return tasks * each, time.perf_counter() - started


def w7_baseline(target: Target, size: int) -> Measured:
    """The sync backend's W1 (one event to a new stream per transaction) on the same database."""
    return sync_w1_library(side_of(target).base, size)


def _rows_like_sync(key: str, title: str, unit: str, sizes: tuple[int, int]) -> Workload:
    runs = {
        "W1": (w1_library, w1_raw),
        "W3": (w3_library, w3_raw),
        "W4": (w4_library, w4_raw),
        "W5": (w5_library, w5_raw),
    }[key]
    library, raw = (awaited(run) for run in runs)
    return Workload(
        key, title, unit, *sizes, library, raw, None, asynchronous=True, goal_from_sync=True
    )


WORKLOADS = [
    _rows_like_sync("W1", "1 event to a new stream per transaction", "events/s", (2000, 100)),
    _rows_like_sync("W3", "batches of 100 events", "events/s", (20000, 1000)),
    _rows_like_sync("W4", "load a 1,000-event stream", "ms", (20, 2)),
    _rows_like_sync("W5", "read the global log in pages of 500", "events/s", (50_000, 2_500)),
    Workload(
        "W7",
        f"{TASKS} tasks on one loop, pool of {POOL}, 1 event per transaction "
        "(raw column = sync W1)",
        "events/s",
        3000,
        200,
        awaited(w7_library),
        w7_baseline,
        2.0,
        only=("postgresql",),
        needs_raw_driver=False,
        asynchronous=True,
    ),
]
