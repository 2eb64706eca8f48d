"""The backend conformance kit against `KurrentDBBackend` (emulator, or `KURRENTDB_URI`)."""

from __future__ import annotations

import pytest
from event_sourcery import Backend
from event_sourcery_kurrentdb import KurrentDBBackend
from event_sourcery_testing.conformance import BackendConformance, Capabilities


class TestKurrentDBBackend(BackendConformance):
    # Every KurrentDB append is atomic and durable on its own, but nothing spans two of them:
    # listeners run after the append, the outbox entry is a second append, and a projection's
    # handler and checkpoint are not saved together.
    capabilities = Capabilities(transactions=False)

    @pytest.fixture
    def backend(self, kurrentdb_backend: KurrentDBBackend) -> Backend:
        return kurrentdb_backend
