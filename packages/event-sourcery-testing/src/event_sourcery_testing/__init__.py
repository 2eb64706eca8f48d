"""Event Sourcery for tests: the in-memory backend, a pytest plugin and the conformance kit."""

from event_sourcery_testing._assertions import assert_stream
from event_sourcery_testing._async_in_memory import AsyncInMemoryBackend
from event_sourcery_testing._in_memory import (
    InMemoryBackend,
    InMemoryData,
    InMemoryStorageStrategy,
)
from event_sourcery_testing._scenario import Scenario, ScenarioOutcome, given

__all__ = [
    "AsyncInMemoryBackend",
    "InMemoryBackend",
    "InMemoryData",
    "InMemoryStorageStrategy",
    "Scenario",
    "ScenarioOutcome",
    "assert_stream",
    "given",
]
