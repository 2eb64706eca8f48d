"""Gap freedom on Django + PostgreSQL: 8 writer processes committing out of order while a
subscriber follows the log; 0 missed, 0 duplicated, 0 out of order (printed with the counts)."""

from __future__ import annotations

import multiprocessing
import runpy
import sys
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from uuid import uuid4

import pytest
from event_sourcery import Event, Recorded

WRITERS = 8
SECONDS = 10.0
WRITER = Path(__file__).with_name("_django_concurrent_writer.py")


support = sys.modules["es_django_integration"]  # loaded by conftest.py
support.configure()
kit = sys.modules["es_django_kit"]


class DjangoTick(Event):
    __event_name__ = "es_integration.DjangoTick"
    writer: int
    n: int


@pytest.mark.django_db(**kit.DATABASE_ACCESS, databases=["postgresql"])
def test_concurrent_django_writers_nothing_missed_duplicated_or_reordered(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    support.require(request, "postgresql")
    from django.db import connections
    from event_sourcery_django import DjangoBackend

    backend = DjangoBackend(using="postgresql")
    category = f"djconc-{uuid4().hex}"
    start = backend.event_store.position
    database = {
        key: value
        for key, value in connections["postgresql"].settings_dict.items()
        if key not in ("TEST",)
    }
    context = multiprocessing.get_context("spawn")
    outs = [tmp_path / f"writer-{i}.txt" for i in range(WRITERS)]
    writers = [
        context.Process(
            target=runpy.run_path,
            args=(str(WRITER),),
            kwargs={
                "init_globals": {
                    "PARAMS": {
                        "database": database,
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

    threading.Thread(target=wait_for_writers, daemon=True).start()
    delivered: list[Recorded] = []
    batches = backend.subscriber.start_from(start).to_category(category).build_batch(50, 0.5)
    deadline, quiet_after_done = time.monotonic() + SECONDS + 60, 0
    while time.monotonic() < deadline:
        if done.is_set() and quiet_after_done >= 2:
            committed_so_far = sum(len(out.read_text().splitlines()) for out in outs)
            if len(delivered) >= committed_so_far:
                break  # caught up; stopping on quiet periods alone would be a timer
        batch = next(batches)
        delivered.extend(batch)
        if not batch:
            quiet_after_done += done.is_set()
    # Writers still running at the deadline are stopped, not left to write into a database
    # the session drops, and the failure says what happened instead of `assert False`.
    stuck = [writer for writer in writers if writer.is_alive()]
    for writer in stuck:
        writer.kill()
    assert not stuck, f"{len(stuck)} writers still ran at the deadline (machine overloaded?)"
    assert [writer.exitcode for writer in writers] == [0] * len(writers)
    committed = {line for out in outs for line in out.read_text().splitlines() if line}
    assert len(committed) > 500  # the test wrote enough to mean something
    keys = [f"{r.wrapped_event.event.writer}:{r.wrapped_event.event.n}" for r in delivered]
    positions = [r.position for r in delivered]
    missed = len(committed - set(keys))
    duplicated = len(keys) - len(set(keys))
    out_of_order = sum(1 for a, b in pairwise(positions) if b <= a)
    line = (
        f"concurrency django postgresql (batch): written={len(committed)}, "
        f"delivered={len(keys)}, missed={missed}, duplicated={duplicated}, "
        f"out_of_order={out_of_order}"
    )
    print(line)
    record_property("concurrency", line)
    assert (missed, duplicated, out_of_order) == (0, 0, 0), line
