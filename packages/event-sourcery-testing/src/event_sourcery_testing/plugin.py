"""pytest plugin (auto-loaded through the `pytest11` entry point).

Fixtures:
    event_sourcery_backend: a fresh, empty `InMemoryBackend` per test.
    event_store: its `EventStore`.
    async_event_sourcery_backend: an `AsyncInMemoryBackend` over the same store as
        `event_sourcery_backend`: what async code writes, sync code (the outbox relay,
        projectors) reads, and the other way round.
    async_event_store: its `AsyncEventStore`.

How async tests run is the test suite's choice, not this plugin's: the async fixtures are
plain (synchronous) fixtures, since making an in-memory backend awaits nothing and the backend
binds to no event loop until it is used. So they serve an ``async def`` test run by AnyIO's
pytest plugin (``@pytest.mark.anyio``, installed with AnyIO, which httpx and FastAPI bring),
by pytest-asyncio (``@pytest.mark.asyncio``) or by any other runner, and a sync test that
drives a coroutine with ``asyncio.run``. The plugin depends on none of them, and adds no
runner of its own that could compete with the one a suite already has.
"""

from __future__ import annotations

import pytest
from event_sourcery import AsyncEventStore, EventStore

from event_sourcery_testing._async_in_memory import AsyncInMemoryBackend
from event_sourcery_testing._in_memory import InMemoryBackend


@pytest.fixture
def event_sourcery_backend() -> InMemoryBackend:
    """A fresh in-memory backend, empty at the start of every test."""
    return InMemoryBackend()


@pytest.fixture
def event_store(event_sourcery_backend: InMemoryBackend) -> EventStore:
    """The event store of `event_sourcery_backend`."""
    return event_sourcery_backend.event_store


@pytest.fixture
def async_event_sourcery_backend(
    event_sourcery_backend: InMemoryBackend,
) -> AsyncInMemoryBackend:
    """An asyncio in-memory backend over the store of `event_sourcery_backend` (empty at the
    start of every test), for ``async def`` tests and sync tests that run coroutines."""
    return AsyncInMemoryBackend(data=event_sourcery_backend.data)


@pytest.fixture
def async_event_store(async_event_sourcery_backend: AsyncInMemoryBackend) -> AsyncEventStore:
    """The `AsyncEventStore` of `async_event_sourcery_backend`."""
    return async_event_sourcery_backend.event_store
