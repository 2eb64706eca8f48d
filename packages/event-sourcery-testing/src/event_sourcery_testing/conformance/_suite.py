"""`BackendConformance`: every contract of the kit in one base class."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from event_sourcery import AsyncBackend, Backend

from event_sourcery_testing.conformance._async_mode import AsyncModeBackend, EventLoopThread
from event_sourcery_testing.conformance._bad_input import BadInputContract
from event_sourcery_testing.conformance._causation import CausationContract
from event_sourcery_testing.conformance._encryption import EncryptionContract
from event_sourcery_testing.conformance._event_sourcing import EventSourcingContract
from event_sourcery_testing.conformance._evolution import EvolutionContract
from event_sourcery_testing.conformance._hooks import Hooks
from event_sourcery_testing.conformance._idempotency import IdempotencyContract
from event_sourcery_testing.conformance._names import NamesContract
from event_sourcery_testing.conformance._reactions import (
    ListenersContract,
    OutboxContract,
    ProjectionsContract,
)
from event_sourcery_testing.conformance._snapshots import SnapshotsContract
from event_sourcery_testing.conformance._stateful import StatefulContract
from event_sourcery_testing.conformance._streams import StreamsContract
from event_sourcery_testing.conformance._subscriptions import SubscriptionsContract
from event_sourcery_testing.conformance._tenants import TenantsContract
from event_sourcery_testing.conformance._typed import TypedReadsContract

_CONTRACTS = (
    StreamsContract,
    TypedReadsContract,
    NamesContract,
    SnapshotsContract,
    TenantsContract,
    BadInputContract,
    StatefulContract,
    SubscriptionsContract,
    ListenersContract,
    OutboxContract,
    ProjectionsContract,
    EventSourcingContract,
    EvolutionContract,
    CausationContract,
    EncryptionContract,
    IdempotencyContract,
)


def standard_tests() -> frozenset[str]:
    """Names of every test the kit defines."""
    return frozenset(
        name for contract in _CONTRACTS for name in vars(contract) if name.startswith("test_")
    )


class BackendConformance(*_CONTRACTS, Hooks):  # type: ignore[misc]
    """Base of a backend's conformance tests; subclasses provide the `backend` fixture.

    A subclass may set `capabilities`, but may not override a standard test: a backend that
    truly lacks a behaviour declares it as a capability, so the difference stays visible.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = sorted(standard_tests() & set(vars(cls)))
        if overridden:
            raise TypeError(
                f"{cls.__qualname__} overrides standard conformance tests {overridden}; "
                "declare a Capabilities flag instead of changing a standard test"
            )

    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError("a conformance subclass must override the `backend` fixture")


class AsyncBackendConformance(BackendConformance):
    """Every test of the kit, unchanged, against an asyncio backend.

    Subclasses provide the `async_backend` fixture; the kit's
    `backend` is then an `AsyncModeBackend` whose store and subscriptions run the asyncio backend's
    coroutines on an event loop of the test's own. `commit` and `rollback` hooks receive it:
    `backend.loop.run(...)` runs a coroutine there (`backend.async_backend` is the backend).
    """

    @pytest.fixture
    def async_backend(self) -> AsyncBackend:
        raise NotImplementedError("an async conformance subclass must provide `async_backend`")

    async def finish(self, backend: AsyncBackend) -> None:
        """Run on the test's event loop after the test, before the loop closes: release what
        `backend` holds there (roll back and close its session). The default does nothing."""

    @pytest.fixture
    def backend(self, async_backend: AsyncBackend) -> Iterator[Backend]:
        loop = self.loop = EventLoopThread()
        try:
            yield AsyncModeBackend(async_backend, loop)
        finally:
            try:
                loop.run(self.finish(async_backend))
            finally:
                loop.close()
