"""LA, LA99 and LAi: commit-to-delivery latency of an `async for` subscriber (PostgreSQL).

What makes the figure honest:

- The writer is a process of its own, appending through `AsyncSQLAlchemyBackend` on its own
  event loop, as an application's writers and its subscriber usually are: neither shares the
  other's event loop or GIL, so neither's work shows up as the other's latency.
- Both sides stamp with `time.monotonic()` (CLOCK_MONOTONIC on Linux: one clock for every
  process). The writer stamps right after its commit returns, the subscriber as the record
  comes out of `async for`. An event can reach the subscriber before the writer's commit has
  returned (on the other core): that sample counts as 0 and the report says how many there were.
- The writer pauses a random 0-40 ms before each event, so writes are not phase-locked to a
  polling period (a fixed 10 ms pause against a 10 ms poll would read whatever the phase gives).
- LAi measures what a subscriber does after a silence: 1.5 s before each event, longer than
  the second after which a polling subscription slows down.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import statistics
import time
from collections.abc import AsyncGenerator
from typing import Any
from uuid import uuid4

from event_sourcery import Recorded, StreamId
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from event_sourcery_bench._async_targets import AsyncSide
from event_sourcery_bench._async_workloads import WORKLOADS as _ROWS
from event_sourcery_bench._async_workloads import Measured, awaited
from event_sourcery_bench._live import NOTES
from event_sourcery_bench._payload import payment
from event_sourcery_bench._targets import Target
from event_sourcery_bench._workloads import Workload

#: The writer's pause before each event: uniform in [0, _BUSY_GAP) s.
_BUSY_GAP = 0.04
#: LAi's silence before each event (a polling subscription slows down after 1 s).
_IDLE_GAP = 1.5


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (the nearest rank, as `_live`)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def busy_gaps(count: int) -> list[float]:
    """The writer's pauses of a busy run: random, the same in every run of `count`."""
    pick = random.Random(count)
    return [pick.uniform(0, _BUSY_GAP) for _ in range(count)]


def latencies(committed: list[float], arrived: dict[int, float]) -> tuple[list[float], int]:
    """Each event's delivery minus its commit (0 when it arrived first), and how many did."""
    deltas = [arrived[n] - at for n, at in enumerate(committed)]
    return [max(0.0, delta) for delta in deltas], sum(delta < 0 for delta in deltas)


def _write(url: str, category: str, gaps: list[float], out: Any, ready: Any, go: Any) -> None:
    """The writer process: after `gaps[n]`, append event n and commit; put the commit times."""
    out.put(asyncio.run(_append(url, category, gaps, ready, go)))


async def _append(url: str, category: str, gaps: list[float], ready: Any, go: Any) -> list[float]:
    engine = create_async_engine(url, pool_size=1)
    committed: list[float] = []
    async with AsyncSession(engine) as session:
        store = AsyncSQLAlchemyBackend(session).event_store
        await store.append(payment(0), stream_id=StreamId(category="warm"))  # connect first
        await session.commit()
        ready.release()
        go.wait()
        for n, gap in enumerate(gaps):
            await asyncio.sleep(gap)
            await store.append(payment(n), stream_id=StreamId(category=category))
            await session.commit()
            committed.append(time.monotonic())
    await engine.dispose()
    return committed


async def _arrivals(
    records: AsyncGenerator[Recorded[Any] | None, None], count: int
) -> dict[int, float]:
    arrived: dict[int, float] = {}
    async for record in records:
        assert record is not None, "no event arrived within 5 s"
        arrived[record.wrapped_event.event.amount - 1000] = time.monotonic()
        if len(arrived) == count:
            break
    return arrived


async def _sample(side: AsyncSide, gaps: list[float]) -> tuple[list[float], int]:
    """Latencies of `len(gaps)` events written after `gaps` by a writer process."""
    category = f"la{uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    ready, go, out = context.Semaphore(0), context.Event(), context.Queue()
    writer = context.Process(target=_write, args=(side.url, category, gaps, out, ready, go))
    # Two connections: the session's (the position) and the subscription's own.
    async with side.engine(pool_size=2) as engine, AsyncSession(engine) as session:
        backend = AsyncSQLAlchemyBackend(session)
        start = await backend.event_store.position()
        await session.commit()
        subscriber = backend.subscriber.start_from(start).to_category(category)
        records = subscriber.build_iter(timelimit=5)
        writer.start()
        await asyncio.to_thread(ready.acquire)
        arrivals = asyncio.create_task(_arrivals(records, len(gaps)))
        await asyncio.sleep(0.2)  # the subscriber is waiting before the first commit
        go.set()
        arrived = await arrivals
        committed = await asyncio.to_thread(out.get, True, 60)
        await records.aclose()
    await asyncio.to_thread(writer.join)
    return latencies(committed, arrived)


async def latency_p50(side: AsyncSide, target: Target, count: int) -> Measured:
    found, early = await _sample(side, busy_gaps(count))
    NOTES[("LA", target.name)] = (
        f"{count} events, writer pausing 0-{_BUSY_GAP * 1000:.0f} ms: p50 "
        f"{statistics.median(found) * 1000:.1f} ms, p99 {percentile(found, 0.99) * 1000:.1f} ms, "
        f"max {max(found) * 1000:.1f} ms; {early} arrived before the commit returned"
    )
    return 1, statistics.median(found)


async def latency_p99(side: AsyncSide, target: Target, count: int) -> Measured:
    found, _ = await _sample(side, busy_gaps(count))
    return 1, percentile(found, 0.99)


async def latency_after_idle(side: AsyncSide, target: Target, count: int) -> Measured:
    found, _ = await _sample(side, [_IDLE_GAP] * count)
    NOTES[("LAi", target.name)] = (
        f"{count} events, each after {_IDLE_GAP:g} s of silence: p50 "
        f"{statistics.median(found) * 1000:.1f} ms, max {max(found) * 1000:.1f} ms"
    )
    return 1, statistics.median(found)


def _latency(key: str, title: str, run: Any, sizes: tuple[int, int], goal: float) -> Workload:
    return Workload(
        key,
        title,
        "ms",
        *sizes,
        awaited(run),
        None,
        None,
        goal,
        only=("postgresql",),
        asynchronous=True,
    )


#: Every asyncio row of the harness.
ASYNC_WORKLOADS = [
    *_ROWS,
    _latency("LA", "commit to `async for`, p50", latency_p50, (300, 20), 20.0),
    _latency("LA99", "commit to `async for`, p99", latency_p99, (300, 20), 100.0),
    _latency("LAi", "commit to `async for` after silence, p50", latency_after_idle, (10, 2), 20.0),
]
