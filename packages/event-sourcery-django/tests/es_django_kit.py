"""What the conformance kit needs on Django, for the package's tests and the integration suite.

Not a test module: `conftest.py` (and the integration suite) load it by path as `es_django_kit`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from django.db import connections, transaction
from event_sourcery import AsyncBackend, Backend, Event, StreamId
from event_sourcery_django import AsyncDjangoBackend, DjangoBackend
from event_sourcery_django._async_backend import in_django_thread
from event_sourcery_testing.conformance import (
    AsyncBackendConformance,
    AsyncModeBackend,
    BackendConformance,
)
from event_sourcery_testing.conformance._encryption import EncryptionContract
from event_sourcery_testing.conformance._event_sourcing import EventSourcingContract
from event_sourcery_testing.conformance._evolution import EvolutionContract
from event_sourcery_testing.conformance._reactions import (
    ListenersContract,
    OutboxContract,
    ProjectionsContract,
)
from event_sourcery_testing.conformance._subscriptions import SubscriptionsContract

#: How the kit's tests use the test database: real commits (other connections must see them),
#: and after each test only the store's tables are emptied, with no post-migrate work.
DATABASE_ACCESS: dict[str, Any] = {
    "transaction": True,
    "available_apps": ["event_sourcery_django"],
}


class KitTransaction:
    """The kit's transaction: an atomic block of the test's thread, ended and begun anew.

    The kit's `commit` and `rollback` hooks need a transaction that spans several calls: the
    test runs in ``transaction.atomic``, as a view would, and a commit ends the block and opens
    the next. Other threads (the kit's writers) work in autocommit mode: their appends commit
    on their own, so the hooks do nothing there.
    """

    def __init__(self, using: str) -> None:
        self.using = using
        self._thread = threading.get_ident()
        self._block = transaction.atomic(using=using)
        self._block.__enter__()

    def end(self, *, commit: bool, again: bool = True) -> None:
        if threading.get_ident() != self._thread:
            return
        if not commit:
            transaction.set_rollback(True, using=self.using)
        self._block.__exit__(None, None, None)
        if again:
            self._block = transaction.atomic(using=self.using)
            self._block.__enter__()


def in_transaction(test: Any, using: str) -> Iterator[DjangoBackend]:
    """The `backend` fixture's body: a backend on `using`, inside a `KitTransaction`."""
    test.transaction = KitTransaction(using)
    yield DjangoBackend(using=using)
    test.transaction.end(commit=False, again=False)


class Reading(Event):
    """An event whose payload PostgreSQL's json type would refuse, for Django's text columns."""

    __event_name__ = "es_django_kit.Reading"
    value: float
    label: str


class DjangoConformance(
    BackendConformance,
    SubscriptionsContract,
    ListenersContract,
    OutboxContract,
    ProjectionsContract,
    EventSourcingContract,
    EvolutionContract,
    EncryptionContract,
):
    """Every contract of the kit, with hooks that end the `KitTransaction` of the test."""

    transaction: KitTransaction

    def commit(self, backend: Backend) -> None:
        self.transaction.end(commit=True)

    def rollback(self, backend: Backend) -> None:
        self.transaction.end(commit=False)

    def test_payloads_json_would_refuse_are_stored_as_they_are(self, backend: Backend) -> None:
        # Django keeps payloads in text columns, which take what PostgreSQL's json type
        # refuses: a batch of plain events may travel as one JSON document, these may not.
        # (NaN and infinities never get here: the core refuses them on every backend.)
        store, stream = backend.event_store, StreamId()
        plain = [Reading(value=n, label=f"plain {n}") for n in range(3)]
        odd = [
            Reading(value=-1.5, label="NaN and -Infinity in a label"),
            Reading(value=0.5, label="lone \ud800 surrogate"),
            Reading(value=1.5, label="nul \x00 inside"),
        ]
        store.append(*plain, stream_id=stream)
        store.append(*odd, stream_id=stream, expected_version=3)

        loaded = [wrapped.event for wrapped in store.load_stream(stream)]

        assert loaded == [*plain, *odd]


# --- asyncio mode ------------------------------------------------------------------------------
#
# `AsyncDjangoBackend` runs each call in Django's async thread (`in_django_thread`), whose
# connection is not the test thread's: the kit's transaction is opened, ended and closed
# there. The outbox relay and projectors are the backend's own (`AsyncOutbox`,
# `AsyncProjector`), each run a savepoint of that transaction.


class AsyncDjangoConformance(AsyncBackendConformance):
    """The kit in asyncio mode against `AsyncDjangoBackend` on database alias `using`, in a
    `KitTransaction` of Django's async thread."""

    using: str
    transaction: KitTransaction

    @pytest.fixture
    def async_backend(self) -> AsyncBackend:
        # Before the test's loop exists: a loop of its own reaches the same thread (with no
        # ThreadSensitiveContext, every thread-sensitive call of the process goes there).
        def begin() -> None:
            self.transaction = KitTransaction(self.using)

        asyncio.run(in_django_thread(begin))
        return AsyncDjangoBackend(using=self.using)

    async def finish(self, backend: AsyncBackend) -> None:
        def end() -> None:
            try:
                self.transaction.end(commit=False, again=False)
            finally:
                connections[self.using].close()

        await in_django_thread(end)

    def _there(self, call: Callable[[], None]) -> None:
        self.loop.run(in_django_thread(call))

    def commit(self, backend: Backend) -> None:
        assert isinstance(backend, AsyncModeBackend)
        self._there(partial(self.transaction.end, commit=True))

    def rollback(self, backend: Backend) -> None:
        assert isinstance(backend, AsyncModeBackend)
        self._there(partial(self.transaction.end, commit=False))
