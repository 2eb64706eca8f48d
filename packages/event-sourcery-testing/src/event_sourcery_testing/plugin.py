"""pytest plugin (auto-loaded through the `pytest11` entry point).

Fixtures:
    event_sourcery_backend: a fresh, empty `InMemoryBackend` per test.
    event_store: its `EventStore`.
"""

from __future__ import annotations

import pytest
from event_sourcery import EventStore

from event_sourcery_testing._in_memory import InMemoryBackend


@pytest.fixture
def event_sourcery_backend() -> InMemoryBackend:
    """A fresh in-memory backend, empty at the start of every test."""
    return InMemoryBackend()


@pytest.fixture
def event_store(event_sourcery_backend: InMemoryBackend) -> EventStore:
    """The event store of `event_sourcery_backend`."""
    return event_sourcery_backend.event_store
