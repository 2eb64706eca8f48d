"""`EventStore.append_raw` and `event_sourcery.Worker`, on the in-memory backend."""

from __future__ import annotations

import os
import signal
import threading
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from event_sourcery import (
    NO_VERSIONING,
    ConcurrentStreamWriteError,
    Projector,
    Recorded,
    StreamId,
    Worker,
)
from event_sourcery.exceptions import InvalidEvent, InvalidInput
from event_sourcery.interfaces import RawEvent
from event_sourcery_testing import InMemoryBackend
from event_sourcery_testing.conformance._events import Deposited


def _raw(stream: StreamId, version: int | None) -> RawEvent:
    at = datetime(2020, 1, 1, tzinfo=UTC)
    return RawEvent(uuid4(), stream, "Anything.Unknown", version, at, {"x": 1}, {"k": "v"}, 3)


def test_append_raw_stores_events_as_given() -> None:
    store = InMemoryBackend().event_store
    stream = StreamId(name=f"s-{uuid4()}", category="c")
    raws = [_raw(stream, 1), _raw(stream, 2)]

    positions = store.append_raw(*raws)

    assert len(positions) == 2
    assert store.load_stream_raw(stream) == raws  # no class needed, nothing changed
    with pytest.raises(ConcurrentStreamWriteError):
        store.append_raw(_raw(stream, 1))
    versionless = StreamId()
    store.append_raw(_raw(versionless, None), expected_version=NO_VERSIONING)
    assert [raw.version for raw in store.load_stream_raw(versionless)] == [None]


def test_append_raw_refuses_what_an_append_would_not_give() -> None:
    store = InMemoryBackend().event_store
    stream = StreamId()
    assert store.append_raw() == []
    with pytest.raises(InvalidEvent, match="of one stream"):
        store.append_raw(_raw(stream, 1), _raw(StreamId(), 2))
    with pytest.raises(InvalidEvent, match="has version 3"):
        store.append_raw(_raw(stream, 1), _raw(stream, 3))


def test_a_worker_publishes_and_projects_until_stopped() -> None:
    backend = InMemoryBackend().with_outbox()
    backend.event_store.append(Deposited(amount=1), Deposited(amount=2), stream_id=StreamId())
    published: list[int] = []
    projected: list[int] = []
    projector = Projector(backend, name="p", handler=lambda r: projected.append(r.position))
    worker = Worker(
        backend,
        publisher=lambda r: published.append(r.position),
        projectors=[projector],
        idle_wait=0.01,
    )

    assert worker.run_once() == 4
    worker.stop()
    worker.run()  # returns at once: stop was asked for

    assert published == projected == [1, 2]
    assert worker.projector("p") is projector
    with pytest.raises(InvalidInput, match=r"no projection 'q' in this worker \(it has: 'p'\)"):
        worker.projector("q")


def test_a_failing_projection_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    backend = InMemoryBackend()
    backend.event_store.append(Deposited(amount=1), stream_id=StreamId())

    def explode(record: Recorded) -> None:
        raise RuntimeError("read model down")

    seen: list[int] = []
    worker = Worker(
        projectors=[
            Projector(backend, name="bad", handler=explode),
            Projector(backend, name="good", handler=lambda r: seen.append(r.position)),
        ]
    )

    assert worker.run_once() == 1
    assert seen == [1]
    assert "projection 'bad' failed; retrying next round" in caplog.text


def test_sigterm_stops_a_worker_run_until_signalled() -> None:
    worker = Worker(projectors=[], idle_wait=0.05)
    previous = signal.getsignal(signal.SIGTERM)
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()

    worker.run_until_signalled()

    assert worker.stopping
    assert signal.getsignal(signal.SIGTERM) == previous


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidInput, match="batch_size"):
        Worker(batch_size=0)
    with pytest.raises(InvalidInput, match="a publisher needs"):
        Worker(publisher=print)
    with pytest.raises(InvalidInput, match="must be Projectors"):
        Worker(projectors=[object()])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="on_reset must be callable"):
        Projector(InMemoryBackend(), name="p", handler=print, on_reset=1)  # type: ignore[arg-type]
