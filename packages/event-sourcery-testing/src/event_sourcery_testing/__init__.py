"""Event Sourcery for tests: the in-memory backend, a pytest plugin and the conformance kit."""

from event_sourcery_testing._assertions import assert_stream
from event_sourcery_testing._in_memory import (
    InMemoryBackend,
    InMemoryData,
    InMemoryStorageStrategy,
)

__all__ = ["InMemoryBackend", "InMemoryData", "InMemoryStorageStrategy", "assert_stream"]
