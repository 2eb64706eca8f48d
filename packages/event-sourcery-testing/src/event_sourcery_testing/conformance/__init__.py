"""The backend conformance kit: the behaviour every Event Sourcery backend must show.

A backend's test module subclasses `BackendConformance` and provides one fixture, `backend`,
that returns a ready `Backend` on a (possibly shared, never emptied) store::

    class TestMyBackend(BackendConformance):
        @pytest.fixture
        def backend(self) -> Backend:
            return MyBackend(...)

Every test makes its own fresh stream ids and tenants and reads positions relative to the
store's position at its start, so the kit runs in parallel on shared databases. Behaviour that
truly differs between backends is a capability flag (`Capabilities`), never a copied test.
"""

from event_sourcery_testing.conformance._capabilities import Capabilities
from event_sourcery_testing.conformance._suite import BackendConformance

__all__ = ["BackendConformance", "Capabilities"]
