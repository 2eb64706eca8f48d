"""The backend conformance kit: the behaviour every Event Sourcery backend must show.

A backend's test module subclasses `BackendConformance` and provides one fixture, `backend`,
that returns a ready `Backend` on a (possibly shared, never emptied) store::

    class TestMyBackend(BackendConformance):
        @pytest.fixture
        def backend(self) -> Backend:
            return MyBackend(...)

An asyncio backend's module subclasses `AsyncBackendConformance` instead and provides
`async_backend`: the same tests then run through `AsyncModeBackend`, which
hands each call to the asyncio API on an event loop. One kit, two modes.

Every test makes its own fresh stream ids and tenants and reads positions relative to the
store's position at its start, so the kit runs in parallel on shared databases. Behaviour that
truly differs between backends is a capability flag (`Capabilities`), never a copied test.
"""

from event_sourcery_testing.conformance._async_mode import AsyncModeBackend
from event_sourcery_testing.conformance._capabilities import Capabilities
from event_sourcery_testing.conformance._suite import AsyncBackendConformance, BackendConformance

__all__ = ["AsyncBackendConformance", "AsyncModeBackend", "BackendConformance", "Capabilities"]
