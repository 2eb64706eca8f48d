"""Helpers shared by the kit's test modules."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from event_sourcery import Backend, EventStore, Projector, StreamId, WrappedEvent

from event_sourcery_testing.conformance._async_mode import AsyncModeBackend


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
