"""The backend conformance kit against `KurrentDBBackend` (emulator, or `KURRENTDB_URI`)."""

from __future__ import annotations

import pytest
from event_sourcery import Backend
from event_sourcery_kurrentdb import KurrentDBBackend
from event_sourcery_testing.conformance import BackendConformance, Capabilities
from event_sourcery_testing.conformance._event_sourcing import EventSourcingContract
from event_sourcery_testing.conformance._evolution import EvolutionContract
from event_sourcery_testing.conformance._reactions import (
    ListenersContract,
    OutboxContract,
    ProjectionsContract,
)
from event_sourcery_testing.conformance._subscriptions import SubscriptionsContract

#: KurrentDB appends are atomic per stream, but there is no transaction around them: listeners
#: run after the append, and the outbox entry is a second append.
CAPABILITIES = Capabilities(transactions=False)


class TestKurrentDBBackend(BackendConformance):
    capabilities = CAPABILITIES

    @pytest.fixture
    def backend(self, kurrentdb_backend: KurrentDBBackend) -> Backend:
        return kurrentdb_backend


class TestKurrentDBReactions(
    SubscriptionsContract,
    ListenersContract,
    OutboxContract,
    ProjectionsContract,
    EventSourcingContract,
    EvolutionContract,
):
    capabilities = CAPABILITIES

    @pytest.fixture
    def backend(self, kurrentdb_backend: KurrentDBBackend) -> Backend:
        return kurrentdb_backend
