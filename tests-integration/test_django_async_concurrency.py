"""Gap freedom with `AsyncDjangoBackend`: 8 writer tasks on one event loop, each in a
``ThreadSensitiveContext`` of its own (as Django's ASGI handler gives each request), so each
on a thread and connection of its own; each append's transaction stays open across an
awaited in-transaction listener that sleeps at random (commits come out of position order)
and sometimes raises (gaps). A follower on the same loop reads the log with `async for`:
0 missed, 0 duplicated, 0 out of order (printed with the counts), on PostgreSQL and MariaDB.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import Event, Recorded, StreamId

WRITERS = 8
SECONDS = 5.0

support = sys.modules["es_django_integration"]  # loaded by conftest.py
support.configure()
kit = sys.modules["es_django_kit"]


class AsyncDjangoTick(Event):
    __event_name__ = "es_integration.AsyncDjangoTick"
    writer: int
    n: int


class _RolledBack(Exception):
    """Raised by a writer's listener to roll its append back."""


async def _write(using: str, category: str, writer: int, committed: list[str]) -> None:
    from asgiref.sync import ThreadSensitiveContext, sync_to_async
    from django.db import connections
    from event_sourcery_django import AsyncDjangoBackend

    rng = random.Random(writer)
    backend = AsyncDjangoBackend(using=using)

    async def hold_open(record: Recorded[Any]) -> None:
        await asyncio.sleep(rng.random() * 0.004)  # inside the append's transaction
        if rng.random() < 0.1:
            raise _RolledBack

    backend.in_transaction.register(hold_open, to=category)
    store, deadline, n = backend.event_store, time.monotonic() + SECONDS, 0
    async with ThreadSensitiveContext():  # this task's own thread, hence connection
        try:
            while time.monotonic() < deadline:
                events = [AsyncDjangoTick(writer=writer, n=n + i) for i in range(rng.randint(1, 3))]
                n += len(events)
                try:
                    await store.append(*events, stream_id=StreamId(category=category))
                except _RolledBack:
                    continue
                committed.extend(f"{writer}:{event.n}" for event in events)
        finally:
            await sync_to_async(connections.close_all)()


async def _follow(using: str, category: str, start: int, writing: asyncio.Future[Any]) -> list[Any]:
    from event_sourcery_django import AsyncDjangoBackend

    subscriber = AsyncDjangoBackend(using=using).subscriber.start_from(start)
    batches = subscriber.to_category(category).build_batch(50, 0.5)
    delivered: list[Recorded[Any]] = []
    quiet_after_done = 0
    try:
        while quiet_after_done < 2:
            batch = await anext(batches)
            delivered.extend(batch)
            quiet_after_done += writing.done() and not batch
    finally:
        await batches.aclose()
    return delivered


async def _scenario(using: str) -> tuple[set[str], list[Recorded[Any]]]:
    from asgiref.sync import sync_to_async
    from django.db import connections
    from event_sourcery_django import AsyncDjangoBackend

    category = f"adjconc{uuid4().hex[:12]}"
    start = await AsyncDjangoBackend(using=using).event_store.position()
    await sync_to_async(connections.close_all)()
    committed: list[str] = []
    writing = asyncio.gather(*(_write(using, category, i, committed) for i in range(WRITERS)))
    delivered = await asyncio.wait_for(_follow(using, category, start, writing), SECONDS + 60)
    await writing
    return set(committed), delivered


def _on(server: str) -> Any:
    """`server` as a parameter, with its test database if it has an alias (else it skips)."""
    access = pytest.mark.django_db(**kit.DATABASE_ACCESS, databases=[server])
    marks = [access] if server in support.databases() else []
    return pytest.param(server, marks=marks, id=server)


@pytest.mark.parametrize("using", [_on("postgresql"), _on("mariadb")])
def test_async_writers_nothing_missed_duplicated_or_reordered(
    using: str, request: pytest.FixtureRequest, record_property: Callable[[str, object], None]
) -> None:
    support.require(request, using)

    committed, delivered = asyncio.run(_scenario(using))

    assert len(committed) > 200  # the test wrote enough to mean something
    keys = [f"{r.wrapped_event.event.writer}:{r.wrapped_event.event.n}" for r in delivered]
    positions = [r.position for r in delivered]
    missed = len(committed - set(keys))
    duplicated = len(keys) - len(set(keys))
    out_of_order = sum(1 for a, b in pairwise(positions) if b <= a)
    line = (
        f"concurrency django {using} (asyncio, {WRITERS} tasks): written={len(committed)}, "
        f"delivered={len(keys)}, missed={missed}, duplicated={duplicated}, "
        f"out_of_order={out_of_order}"
    )
    print(line)
    record_property("concurrency", line)
    assert (missed, duplicated, out_of_order) == (0, 0, 0), line


RACERS = 16


async def _race(using: str) -> tuple[list[str], list[int]]:
    from asgiref.sync import ThreadSensitiveContext, sync_to_async
    from django.db import connections
    from event_sourcery import ConcurrentStreamWriteError
    from event_sourcery_django import AsyncDjangoBackend

    store, stream = AsyncDjangoBackend(using=using).event_store, StreamId(category="race")
    start, ready = asyncio.Event(), []

    async def racer(n: int) -> str:
        async with ThreadSensitiveContext():
            try:
                loaded = await store.load_stream(stream)
                ready.append(n)
                if len(ready) == RACERS:  # every racer has loaded the (empty) stream
                    start.set()
                await start.wait()
                tick = AsyncDjangoTick(writer=n, n=0)
                await store.append(tick, stream_id=stream, expected_version=loaded.version)
            except ConcurrentStreamWriteError:
                return "lost"
            finally:
                await sync_to_async(connections.close_all)()
            return "won"

    outcomes = await asyncio.wait_for(asyncio.gather(*(racer(n) for n in range(RACERS))), 60)
    versions = [wrapped.version for wrapped in await store.load_stream(stream)]
    await sync_to_async(connections.close_all)()
    return outcomes, versions


@pytest.mark.parametrize("using", [_on("postgresql"), _on("mariadb")])
def test_tasks_racing_on_one_stream_one_wins_every_loser_is_told(
    using: str, request: pytest.FixtureRequest
) -> None:
    support.require(request, using)

    outcomes, versions = asyncio.run(_race(using))

    assert sorted(outcomes) == ["lost"] * (RACERS - 1) + ["won"]
    assert versions == [1]
