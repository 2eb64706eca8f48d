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
    # Event ids are KurrentDB's idempotency keys within one stream's recent appends, not an
    # index across streams: only an id repeated within one append is refused (docs/kurrentdb.md).
    capabilities = Capabilities(transactions=False, unique_event_ids=False)

    @pytest.fixture
    def backend(self, kurrentdb_backend: KurrentDBBackend) -> Backend:
        return kurrentdb_backend
