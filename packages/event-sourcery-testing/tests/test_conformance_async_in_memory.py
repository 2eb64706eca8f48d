"""The conformance kit, in asyncio mode, against the reference `AsyncInMemoryBackend`."""

import pytest
from event_sourcery import AsyncBackend, Backend
from event_sourcery_testing import AsyncInMemoryBackend, InMemoryBackend
from event_sourcery_testing.conformance import AsyncBackendConformance, Capabilities


class TestAsyncInMemoryBackend(AsyncBackendConformance):
    capabilities = Capabilities(transactions=False)

    @pytest.fixture
    def async_backend(self) -> AsyncBackend:
        return AsyncInMemoryBackend()

    def sync_twin(self, backend: AsyncBackend) -> Backend:
        assert isinstance(backend, AsyncInMemoryBackend)
        return InMemoryBackend(data=backend.data)
