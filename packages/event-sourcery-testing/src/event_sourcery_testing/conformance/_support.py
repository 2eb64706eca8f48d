"""Helpers shared by the kit's test modules."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from uuid import uuid4

from event_sourcery import Backend, EventStore, Projector, StreamId, WrappedEvent

from event_sourcery_testing.conformance._async_mode import AsyncModeBackend

T = TypeVar("T")

#: How long a test waits for events it committed to reach a reader from the start of the
#: log. Such a reader passes a gap (an older test's rollback) only once every transaction in
#: flight when it saw the gap has ended, and on MariaDB those are the server's, of every
#: database: another test's transaction, open for a while on another worker, holds it back.
#: A passing test waits no longer for it: the helpers below return as soon as it is there.
PATIENCE = 10.0
#: Between two looks, while waiting.
_PAUSE = 0.05


def fresh_tenant() -> str:
    """A tenant id no other test uses."""
    return f"tenant-{uuid4().hex}"


def fresh_name() -> str:
    """A stream name no other test uses."""
    return f"name-{uuid4().hex}"


def payloads(events: list[WrappedEvent[Any]]) -> list[Any]:
    """The events without their envelopes."""
    return [wrapped.event for wrapped in events]


def versions(events: list[WrappedEvent[Any]]) -> list[int | None]:
    """The versions of `events`, in order."""
    return [wrapped.version for wrapped in events]


def snapshot_of_store(store: EventStore, *stream_ids: StreamId) -> list[Any]:
    """What a reader sees of `stream_ids` (raw form): to prove a rejected call changed nothing."""
    return [store.load_stream_raw(stream_id) for stream_id in stream_ids]


def make_projector(backend: Backend, **options: Any) -> Projector:
    """``Projector(backend, **options)``; in asyncio mode, the asyncio backend's
    `AsyncProjector` behind the same sync API (`AsyncModeBackend.projector`)."""
    if isinstance(backend, AsyncModeBackend):
        return backend.projector(**options)
    return Projector(backend, **options)


def first_batch(batches: Iterator[list[T]], limit: float = PATIENCE) -> list[T]:
    """The first non-empty batch of a ``build_batch`` iterator, failing after `limit` seconds:
    for a test that expects one (a batch that came back empty is a reader still at a gap)."""
    deadline = time.monotonic() + limit
    while True:
        batch = next(batches)
        if batch:
            return batch
        assert time.monotonic() < deadline, f"no batch within {limit} s"


def catch_up(
    projector: Projector,
    commit: Callable[[], None],
    limit: int = 500,
    *,
    patience: float = PATIENCE,
) -> int:
    """Run `projector` (up to `limit` events a run, `commit` after each) until its checkpoint
    has passed every event committed before the call; how many events it applied.

    Not ``while projector.run_once(): ...``: a run that applied nothing may be one whose reader
    still waits at a gap, with the test's events above it (see `PATIENCE`)."""
    target = projector.backend.event_store.position
    commit()
    applied, deadline = 0, time.monotonic() + patience
    while True:
        count = projector.run_once(limit)
        commit()
        applied += count
        if count:
            continue
        reached = projector.position
        commit()
        if reached >= target:
            return applied
        assert time.monotonic() < deadline, f"checkpoint {reached} short of {target}"
        time.sleep(_PAUSE)
