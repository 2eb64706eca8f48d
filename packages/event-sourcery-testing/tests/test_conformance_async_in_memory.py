"""The conformance kit, in asyncio mode, against the reference `AsyncInMemoryBackend`."""

import pytest
from event_sourcery import AsyncBackend
from event_sourcery_testing import AsyncInMemoryBackend
from event_sourcery_testing.conformance import AsyncBackendConformance, Capabilities


class TestAsyncInMemoryBackend(AsyncBackendConformance):
    capabilities = Capabilities(transactions=False)

    @pytest.fixture
    def async_backend(self) -> AsyncBackend:
        return AsyncInMemoryBackend()
