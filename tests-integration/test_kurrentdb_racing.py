"""KurrentDB backend under concurrent writers: the server's checks, not luck, keep it consistent.

Runs on `KURRENTDB_URI` when set (the GitHub workflow's real server), else on an in-process
emulator: real gRPC calls from many threads either way. Fixtures live here, not in conftest.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import (
    AnotherStreamWithThisNameButOtherIdExists,
    ConcurrentStreamWriteError,
    Event,
    Recorded,
    StreamId,
)
from event_sourcery_kurrentdb import KurrentDBBackend
from kurrentdb_emulator import Emulator
from kurrentdbclient import KurrentDBClient

WRITERS = 8


class Raced(Event):
    __event_name__ = "es_integration_kurrentdb.Raced"
    writer: int


@pytest.fixture(scope="module")
def client() -> Iterator[KurrentDBClient]:
    given = os.environ.get("KURRENTDB_URI")
    if given:
        connected = KurrentDBClient(given)
        yield connected
        connected.close()
        return
    with Emulator(max_workers=256) as emulator:
        connected = KurrentDBClient(emulator.uri)
        yield connected
        connected.close()


@pytest.fixture
def backend(client: KurrentDBClient) -> KurrentDBBackend:
    # A private outbox: parallel runs on one server do not drain each other's entries.
    return KurrentDBBackend(client, outbox_name=f"racing-{uuid4().hex}")


def _race(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run `action(i)` in `count` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action(index)
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_one_writer_wins_each_version(backend: KurrentDBBackend) -> None:
    stream = StreamId(category="race")
    for version in range(3):
        results = _race(
            WRITERS,
            lambda i, v=version: backend.event_store.append(
                Raced(writer=i), stream_id=stream, expected_version=v
            ),
        )
        losers = [r for r in results if isinstance(r, ConcurrentStreamWriteError)]
        assert len(losers) == WRITERS - 1, results
    assert [e.version for e in backend.event_store.load_stream(stream)] == [1, 2, 3]


def test_one_uuid_gets_a_contested_name(backend: KurrentDBBackend) -> None:
    name = f"contested-{uuid4().hex}"
    contenders = [StreamId(uuid4(), name=name, category="race") for _ in range(WRITERS)]
    results = _race(
        WRITERS,
        lambda i: backend.event_store.append(Raced(writer=i), stream_id=contenders[i]),
    )
    winners = [i for i, r in enumerate(results) if r is None]
    assert len(winners) == 1, results
    assert all(
        isinstance(r, AnotherStreamWithThisNameButOtherIdExists)
        for i, r in enumerate(results)
        if i not in winners
    )
    for i, stream in enumerate(contenders):
        assert len(backend.event_store.load_stream(stream)) == (1 if i in winners else 0)


def test_deletes_racing_appends_leave_a_consistent_stream(backend: KurrentDBBackend) -> None:
    stream = StreamId(category="race")
    store = backend.event_store

    def append_or_delete(index: int) -> None:
        for _ in range(10):
            if index % 2:
                store.delete_stream(stream)
                continue
            loaded = store.load_stream(stream)
            version = loaded[-1].version if loaded else 0
            with contextlib.suppress(ConcurrentStreamWriteError):
                store.append(Raced(writer=index), stream_id=stream, expected_version=version)

    results = _race(WRITERS, append_or_delete)
    assert not [r for r in results if r is not None], results
    versions = [e.version for e in store.load_stream(stream)]
    assert versions == list(range(1, len(versions) + 1))


def test_concurrent_outbox_workers_publish_each_entry_once(backend: KurrentDBBackend) -> None:
    category = f"race-{uuid4().hex}"
    writer = backend.with_outbox(filterer=lambda r: r.stream_id.category == category)
    for n in range(40):
        writer.event_store.append(Raced(writer=n), stream_id=StreamId(category=category))
    published: list[Recorded] = []
    lock = threading.Lock()

    def publish(record: Recorded) -> None:
        with lock:
            published.append(record)

    def work(index: int) -> None:
        worker = KurrentDBBackend(backend.client, outbox_name=backend._outbox_name)
        while worker.outbox.run(publish, limit=5):
            pass

    results = _race(4, work)
    assert not [r for r in results if r is not None], results
    positions = [r.position for r in published if r.stream_id.category == category]
    assert len(positions) == 40
    assert len(set(positions)) == 40
