"""Gap-free subscriptions under concurrent writers, on SQLite (file), PostgreSQL and MariaDB.

Eight writer processes append for ten seconds, sleeping inside their transactions so commits
land out of position order, and rolling some back so the log has gaps; a subscription follows
the log meanwhile. Nothing may be missed, duplicated or delivered out of order. The counts are
printed (``-s``) and shown in the terminal summary.

The same with the asyncio API (`test_concurrent_async_writers_...`): eight writer tasks on one
event loop, each with its own `AsyncSession`, and an ``async for`` follower on the same loop,
on PostgreSQL (psycopg, asyncpg) and MariaDB (asyncmy); judged by the same checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import random
import runpy
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from itertools import pairwise
from pathlib import Path
from uuid import uuid4

import pytest
from event_sourcery import Event, Recorded, StreamId
from event_sourcery_sqlalchemy import AsyncSQLAlchemyBackend, SQLAlchemyBackend
from sqlalchemy import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session

WRITERS = 8
SECONDS = 10.0
WRITER = Path(__file__).with_name("_concurrent_writer.py")


class Tick(Event):
    __event_name__ = "es_integration.Tick"
    writer: int
    n: int


class SlowCommit(Event):
    __event_name__ = "es_integration.SlowCommit"
    which: str


class _Follower:
    """What a subscription following the writers delivered, and whether to go on reading.

    It stops once every writer has ended (`done`), it saw two quiet periods since, and it has
    as many records as were `committed`, or at the deadline. Stopping on quiet periods alone
    would decide on a timer that nothing more is coming; a record still held back would then
    count as missed.
    """

    def __init__(self, done: Callable[[], bool], committed: Callable[[], int]) -> None:
        self._done, self._committed = done, committed
        self.delivered: list[Recorded] = []
        self._quiet_after_done = 0
        self._deadline = time.monotonic() + SECONDS + 60

    def take(self, got: Recorded | list[Recorded] | None) -> None:
        """One step of `build_iter` (a record or None) or of `build_batch` (a list)."""
        if isinstance(got, list):
            self.delivered.extend(got)
        elif got is not None:
            self.delivered.append(got)
        if not got:
            self._quiet_after_done += self._done()

    def following(self) -> bool:
        """Whether to read on."""
        caught_up = (
            self._done()
            and self._quiet_after_done >= 2
            and len(self.delivered) >= self._committed()
        )
        return not caught_up and time.monotonic() < self._deadline


def _name(engine: Engine, mode: str) -> str:
    """The database and the follower's mode, as the result line names them."""
    server = "mariadb" if engine.dialect.name in ("mysql", "mariadb") else engine.dialect.name
    return f"{server} ({mode})"


def _stored_positions(engine: Engine, category: str) -> dict[str, int]:
    """Where each event of `category` is stored: "writer:n" -> position."""
    with Session(engine) as session:
        records = SQLAlchemyBackend(session).subscriber.start_from(0).to_category(category)
        found: dict[str, int] = {}
        for batch in records.build_batch(size=1000, timelimit=0.1):
            if not batch:
                return found
            for r in batch:
                found[f"{r.wrapped_event.event.writer}:{r.wrapped_event.event.n}"] = r.position
    raise AssertionError("unreachable")


def _check(
    name: str,
    delivered: list[Recorded],
    committed: set[str],
    record: Callable[[str, object], None],
    stored: Callable[[], dict[str, int]],
) -> None:
    keys = [f"{r.wrapped_event.event.writer}:{r.wrapped_event.event.n}" for r in delivered]
    positions = [r.position for r in delivered]
    missing = committed - set(keys)
    missed = len(missing)
    duplicated = len(keys) - len(set(keys))
    out_of_order = sum(1 for a, b in pairwise(positions) if b <= a)
    line = (
        f"concurrency {name}: written={len(committed)}, delivered={len(keys)}, "
        f"missed={missed}, duplicated={duplicated}, out_of_order={out_of_order}"
    )
    if missing:
        # Skipped (stored below the last delivered position) or held back (above it)?
        where = stored()
        last = positions[-1] if positions else 0
        line += (
            f"; last delivered position {last}, missed at "
            f"{sorted(where.get(key, -1) for key in missing)[:20]}"
        )
    print(line)
    record("concurrency", line)  # shown in the terminal summary (conftest)
    assert (missed, duplicated, out_of_order) == (0, 0, 0), line
    assert set(keys) == committed


@pytest.mark.parametrize(
    ("database_engine", "mode"),
    [
        ("sqlite_file", "iter"),
        ("postgresql", "iter"),
        ("mariadb", "batch"),
    ],
    indirect=["database_engine"],
)
def test_concurrent_writers_nothing_missed_duplicated_or_reordered(
    database_engine: Engine,
    mode: str,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    category = f"conc-{uuid4().hex}"
    url = database_engine.url.render_as_string(hide_password=False)
    with Session(database_engine) as session:
        backend = SQLAlchemyBackend(session)
        start = backend.event_store.position
        session.commit()
        subscriber = backend.subscriber.start_from(start).to_category(category)
        context = multiprocessing.get_context("spawn")
        outs = [tmp_path / f"writer-{i}.txt" for i in range(WRITERS)]
        writers = [
            context.Process(
                target=runpy.run_path,
                args=(str(WRITER),),
                kwargs={
                    "init_globals": {
                        "PARAMS": {
                            "url": url,
                            "category": category,
                            "writer": i,
                            "seconds": SECONDS,
                            "out": str(out),
                        }
                    }
                },
            )
            for i, out in enumerate(outs)
        ]
        for writer in writers:
            writer.start()
        done = threading.Event()

        def wait_for_writers() -> None:
            for writer in writers:
                writer.join()
            done.set()

        def committed_count() -> int:
            return sum(len(out.read_text().splitlines()) for out in outs)

        threading.Thread(target=wait_for_writers, daemon=True).start()
        follower = _Follower(done.is_set, committed_count)
        steps: Iterator[Recorded | list[Recorded] | None] = (
            subscriber.build_iter(timelimit=0.5)
            if mode == "iter"
            else subscriber.build_batch(size=50, timelimit=0.5)
        )
        while follower.following():
            follower.take(next(steps))
        # Writers still running at the deadline are stopped, not left to write into a database
        # the session drops, and the failure says what happened instead of `assert False`.
        stuck = [writer for writer in writers if writer.is_alive()]
        for writer in stuck:
            writer.kill()
        assert not stuck, f"{len(stuck)} writers still ran at the deadline (machine overloaded?)"
        assert [writer.exitcode for writer in writers] == [0] * len(writers)
        committed = {line for out in outs for line in out.read_text().splitlines() if line}
        assert len(committed) > 1000  # the test wrote enough to mean something
        _check(
            _name(database_engine, mode),
            follower.delivered,
            committed,
            record_property,
            lambda: _stored_positions(database_engine, category),
        )


async def _write_async(
    engine: AsyncEngine, category: str, writer: int, deadline: float
) -> list[str]:
    """Writer task `writer`: the transactions of a writer process (`_concurrent_writer`), in
    an `AsyncSession` of its own; "writer:n" of each event it committed."""
    rng = random.Random(writer)
    kept: list[str] = []
    async with AsyncSession(engine) as session:
        store = AsyncSQLAlchemyBackend(session).event_store
        while time.monotonic() < deadline:
            first = len(kept)
            ticks = [Tick(writer=writer, n=n) for n in range(first, first + rng.randint(1, 3))]
            await store.append(*ticks, stream_id=StreamId(category=category))
            await asyncio.sleep(rng.random() * 0.004)  # inside the transaction
            if rng.random() >= 0.1:
                await session.commit()
                kept += [f"{writer}:{tick.n}" for tick in ticks]
            else:
                await session.rollback()
    return kept


async def _follow_async_writers(
    url: URL, category: str, mode: str
) -> tuple[list[Recorded], set[str]]:
    """What an ``async for`` follower delivered of what `WRITERS` writer tasks committed."""
    engine = create_async_engine(url, pool_size=WRITERS + 2, max_overflow=0)
    try:
        async with AsyncSession(engine) as session:
            backend = AsyncSQLAlchemyBackend(session)
            start = await backend.event_store.position()
            await session.commit()
            subscriber = backend.subscriber.start_from(start).to_category(category)
            deadline = time.monotonic() + SECONDS
            writers = [
                asyncio.create_task(_write_async(engine, category, i, deadline))
                for i in range(WRITERS)
            ]

            def done() -> bool:
                return all(writer.done() for writer in writers)

            def committed() -> int:
                return sum(len(writer.result()) for writer in writers) if done() else 0

            follower = _Follower(done, committed)
            steps: AsyncGenerator[Recorded | list[Recorded] | None] = (
                subscriber.build_iter(timelimit=0.5)
                if mode == "iter"
                else subscriber.build_batch(size=50, timelimit=0.5)
            )
            async with contextlib.aclosing(steps):
                async for got in steps:
                    follower.take(got)
                    if not follower.following():
                        break
            kept = await asyncio.gather(*writers)
    finally:
        await engine.dispose()
    return follower.delivered, {key for keys in kept for key in keys}


@pytest.mark.parametrize(
    ("database_engine", "driver", "mode"),
    [
        ("postgresql", "psycopg", "iter"),
        ("postgresql", "asyncpg", "iter"),
        ("mariadb", "asyncmy", "batch"),
    ],
    indirect=["database_engine"],
)
def test_concurrent_async_writers_nothing_missed_duplicated_or_reordered(
    database_engine: Engine,
    driver: str,
    mode: str,
    record_property: Callable[[str, object], None],
) -> None:
    category = f"aconc-{uuid4().hex}"
    url = database_engine.url.set(drivername=f"{database_engine.url.get_backend_name()}+{driver}")
    delivered, committed = asyncio.run(_follow_async_writers(url, category, mode))
    assert len(committed) > 1000  # the test wrote enough to mean something
    _check(
        f"{_name(database_engine, mode)}, async writers on {driver}",
        delivered,
        committed,
        record_property,
        lambda: _stored_positions(database_engine, category),
    )


@pytest.mark.parametrize("database_engine", ["sqlite_file", "postgresql", "mariadb"], indirect=True)
def test_lower_position_committed_late_is_delivered_first(database_engine: Engine) -> None:
    category = f"late-{uuid4().hex}"
    with Session(database_engine) as first, Session(database_engine) as second:
        start = SQLAlchemyBackend(first).event_store.position
        first.commit()
        subscription = SQLAlchemyBackend(first).subscriber.start_from(start).to_category(category)
        records = subscription.build_iter(timelimit=0.2)
        assert next(records) is None
        low = SQLAlchemyBackend(first).event_store
        low.append(SlowCommit(which="low"), stream_id=StreamId(category=category))
        if database_engine.dialect.name == "sqlite":
            # One writer at a time: the lower position necessarily commits first.
            first.commit()
            SQLAlchemyBackend(second).event_store.append(
                SlowCommit(which="high"), stream_id=StreamId(category=category)
            )
            second.commit()
            got = [next(records), next(records)]
        else:
            SQLAlchemyBackend(second).event_store.append(
                SlowCommit(which="high"), stream_id=StreamId(category=category)
            )
            second.commit()  # the higher position is visible, the lower one in flight
            assert next(records) is None  # held back: nothing delivered past the gap
            first.commit()
            started = time.monotonic()
            got = [next(records), next(records)]
            assert time.monotonic() - started < 1.0  # at once, not after a timeout
        assert all(r is not None for r in got)
        assert [r.wrapped_event.event.which for r in got if r] == ["low", "high"]
        positions = [r.position for r in got if r]
        assert positions == sorted(positions)


@pytest.mark.parametrize("database_engine", ["postgresql", "mariadb"], indirect=True)
def test_writer_with_the_newest_transaction_id_is_waited_for(database_engine: Engine) -> None:
    """Writer T takes its transaction id after writer H, but its position before H's; H commits.

    On PostgreSQL the snapshot then lists no transaction in progress when no id newer than T's
    has completed (its ``xmax`` is one past the newest completed id): T runs unlisted. A reader
    that trusted the list passed T's position as a permanent gap, and T's event was lost.
    """
    category = f"newest-{uuid4().hex}"
    with (
        Session(database_engine) as reader,
        Session(database_engine) as older,
        Session(database_engine) as newer,
    ):
        start = SQLAlchemyBackend(reader).event_store.position
        reader.commit()
        records = SQLAlchemyBackend(reader).subscriber.start_from(start).to_category(category)
        follow = records.build_iter(timelimit=0.2)
        # H's transaction gets its id first (a write elsewhere), then T's...
        SQLAlchemyBackend(older).event_store.append(
            SlowCommit(which="elsewhere"), stream_id=StreamId(category=f"{category}-other")
        )
        # ...T draws the lower position, H the higher one, and H commits.
        SQLAlchemyBackend(newer).event_store.append(
            SlowCommit(which="T"), stream_id=StreamId(category=category)
        )
        SQLAlchemyBackend(older).event_store.append(
            SlowCommit(which="H"), stream_id=StreamId(category=category)
        )
        older.commit()
        assert next(follow) is None  # H held back behind T's position
        newer.commit()
        got = [next(follow), next(follow)]
        assert [r.wrapped_event.event.which for r in got if r] == ["T", "H"]
