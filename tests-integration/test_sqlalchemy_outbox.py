"""The outbox under failure and concurrency, with worker processes, on every SQL database."""

from __future__ import annotations

import multiprocessing
import os
import runpy
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from event_sourcery import Event, StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session

WORKER = Path(__file__).with_name("_outbox_worker.py")
DATABASES = ["sqlite_file", "postgresql", "mariadb"]


class Parcel(Event):
    __event_name__ = "es_integration.Parcel"
    n: int


def _fill(engine: Engine, count: int) -> set[int]:
    """Append `count` events through an outbox; their positions."""
    positions: set[int] = set()
    with Session(engine) as session:
        backend = SQLAlchemyBackend(session).with_outbox()
        backend.in_transaction.register(lambda r: positions.add(r.position), to=Parcel)
        for n in range(count):
            backend.event_store.append(Parcel(n=n), stream_id=StreamId(category="parcel"))
        session.commit()
    return positions


def _worker(engine: Engine, out: Path, **params: Any) -> Any:
    url = engine.url.render_as_string(hide_password=False)
    process = multiprocessing.get_context("spawn").Process(
        target=runpy.run_path,
        args=(str(WORKER),),
        kwargs={"init_globals": {"PARAMS": {"url": url, "out": str(out), **params}}},
    )
    process.start()
    return process


def _published(out: Path) -> list[int]:
    return [int(line) for line in out.read_text().splitlines() if line] if out.exists() else []


def _drain(engine: Engine) -> list[int]:
    published: list[int] = []
    with Session(engine) as session:
        outbox = SQLAlchemyBackend(session).outbox
        while outbox.run(lambda record: published.append(record.position), limit=100):
            session.commit()
        session.commit()
    return published


@pytest.mark.parametrize("database_engine", DATABASES, indirect=True)
def test_worker_killed_mid_batch_loses_nothing(database_engine: Engine, tmp_path: Path) -> None:
    _drain(database_engine)  # this run's database: only leftovers of earlier tests
    written = _fill(database_engine, 40)
    out = tmp_path / "killed.txt"
    worker = _worker(database_engine, out, block_after=15, seconds=60.0, pause=0.0)
    deadline = time.monotonic() + 60
    while len(_published(out)) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    before_kill = _published(out)
    assert len(before_kill) == 15
    after = _drain(database_engine)
    # At least once: everything is published; what the dead worker published but could not
    # commit as done comes again.
    assert written <= set(before_kill) | set(after)
    # The worker commits after each batch of 10: the first batch is done for good, the five
    # it published in the batch it died in were never marked done and come again.
    assert not set(before_kill[:10]) & set(after)
    assert set(before_kill[10:]) <= set(after)


@pytest.mark.parametrize("database_engine", DATABASES, indirect=True)
def test_two_workers_never_hold_the_same_entry(database_engine: Engine, tmp_path: Path) -> None:
    _drain(database_engine)
    written = _fill(database_engine, 60)
    outs = [tmp_path / "a.txt", tmp_path / "b.txt"]
    workers = [
        _worker(database_engine, out, block_after=None, seconds=4.0, pause=0.01) for out in outs
    ]
    for worker in workers:
        worker.join()
    first, second = (_published(out) for out in outs)
    assert not set(first) & set(second)  # claimed by one at a time, removed once done
    assert written == set(first) | set(second)
    assert len(first) == len(set(first))
    assert len(second) == len(set(second))
