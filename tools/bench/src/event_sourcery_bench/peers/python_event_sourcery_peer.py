"""The workloads on python-event-sourcery, run by its own interpreter (see `_common`).

python-event-sourcery ships the import names of this project (`event_sourcery`,
`event_sourcery_sqlalchemy`), so it never shares an environment with it, and this module is left
out of the workspace's type check (it would be checked against this project's modules). It is
used as its README shows: a `SQLAlchemyBackend` configured with the caller's `Session`, the
event store's `append` and `load_stream`, and the subscriber's batches; its own tables, made by
`configure_models` on a declarative base; PostgreSQL through psycopg2, its dependency. The
events are the harness' own `Payment` (its `_payload` module needs only `event_sourcery.Event`,
which python-event-sourcery provides).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

from event_sourcery import StreamId

# The harness' own payload module: its `Payment` subclasses python-event-sourcery's `Event` here.
from event_sourcery_bench._payload import Payment, payment
from event_sourcery_bench.peers._common import (
    BATCH,
    FOLLOW_DEADLINE,
    PAGE,
    STREAM_LENGTH,
    Follower,
    Job,
    Result,
    main,
    writers,
)
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    pass


configure_models(Base)


def _engine(job: Job) -> Engine:
    if job["family"] == "sqlite":
        engine = create_engine(f"sqlite:///{job['sqlite']}")
    else:
        s = job["postgresql"]
        engine = create_engine(
            f"postgresql+psycopg2://{s['user']}:{s['password']}@{s['host']}:{s['port']}/{s['dbname']}"
        )
    Base.metadata.create_all(engine)
    return engine


def _store(job: Job) -> tuple[Session, Any]:
    session = Session(_engine(job))
    return session, SQLAlchemyBackend().configure(session)


def _payments(size: int, first: int = 0) -> list[Payment]:
    return [payment(n) for n in range(first, first + size)]


def w1(job: Job) -> Result:
    session, backend = _store(job)
    store, events = backend.event_store, _payments(job["size"])
    started = time.perf_counter()
    for event in events:
        store.append(event, stream_id=StreamId())
        session.commit()
    return len(events), time.perf_counter() - started


def w2(job: Job) -> Result:
    session, backend = _store(job)
    store, stream, events = backend.event_store, StreamId(), _payments(job["size"])
    started = time.perf_counter()
    for version, event in enumerate(events):
        store.append(event, stream_id=stream, expected_version=version)
        session.commit()
    return len(events), time.perf_counter() - started


def w3(job: Job) -> Result:
    session, backend = _store(job)
    store, events = backend.event_store, _payments(job["size"])
    started = time.perf_counter()
    for offset in range(0, len(events), BATCH):
        store.append(*events[offset : offset + BATCH], stream_id=StreamId())
        session.commit()
    return len(events), time.perf_counter() - started


def w4(job: Job) -> Result:
    session, backend = _store(job)
    store, stream = backend.event_store, StreamId()
    for offset in range(0, STREAM_LENGTH, BATCH):
        store.append(*_payments(BATCH, offset), stream_id=stream, expected_version=offset)
    session.commit()
    loads = job["size"]
    started = time.perf_counter()
    for _ in range(loads):
        assert len(store.load_stream(stream)) == STREAM_LENGTH
        session.commit()
    return loads, time.perf_counter() - started


def w5(job: Job) -> Result:
    session, backend = _store(job)
    store, size = backend.event_store, job["size"]
    start = store.position or 0
    for offset in range(0, size, PAGE):
        store.append(*_payments(min(PAGE, size - offset), offset), stream_id=StreamId())
        session.commit()
    batches = backend.subscriber.start_from(start).build_batch(size=PAGE, timelimit=0.1)
    seen = 0
    started = time.perf_counter()
    while seen < size:
        seen += len(next(batches))
    return seen, time.perf_counter() - started


def _writer(job: Job, category: str, count: int, ready: Any, go: Any) -> None:
    session, backend = _store(job)
    store, events = backend.event_store, _payments(count)
    ready.release()
    go.wait()
    for event in events:
        store.append(event, stream_id=StreamId(category=category))
        session.commit()


def _positions(batches: Iterator[list[Any]]) -> Iterator[int]:
    deadline = time.monotonic() + FOLLOW_DEADLINE
    while time.monotonic() < deadline:
        for record in next(batches):
            yield record.position


def w6(job: Job) -> Result:
    """Writer processes and a follower of their category, as the harness' own W6."""
    session, backend = _store(job)
    count, category = writers(job), f"w6{uuid4().hex[:8]}"
    each = max(1, job["size"] // count)
    follower = Follower(count * each)
    start = backend.event_store.position or 0
    batches = backend.subscriber.start_from(start).to_category(category).build_batch(PAGE, 0.5)
    context = multiprocessing.get_context("spawn")
    ready, go = context.Semaphore(0), context.Event()
    processes = [
        context.Process(target=_writer, args=(job, category, each, ready, go)) for _ in range(count)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        if not ready.acquire(timeout=FOLLOW_DEADLINE):
            raise RuntimeError("a writer process did not start")
    started = time.perf_counter()
    go.set()
    follower.watch(processes)
    follower.follow(_positions(batches))
    session.close()
    return follower.result(started)


RUNS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W6s": w6}

if __name__ == "__main__":
    raise SystemExit(main(RUNS))
