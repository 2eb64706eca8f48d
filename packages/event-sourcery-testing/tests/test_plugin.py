"""The pytest plugin's fixtures and the assertion helper, as a user's test would use them."""

import pytest
from event_sourcery import Event, EventStore, StreamId
from event_sourcery_testing import InMemoryBackend, assert_stream

pytest_plugins = ["pytester"]


class Opened(Event):
    owner: str


def test_fixtures_give_an_empty_in_memory_store(
    event_sourcery_backend: InMemoryBackend, event_store: EventStore
) -> None:
    assert isinstance(event_sourcery_backend, InMemoryBackend)
    assert event_store.position == 0
    stream = StreamId()
    event_store.append(Opened(owner="ann"), stream_id=stream)
    assert_stream(event_sourcery_backend.event_store, stream, Opened(owner="ann"))


def test_assert_stream_explains_a_difference(event_store: EventStore) -> None:
    stream = StreamId()
    event_store.append(Opened(owner="ann"), stream_id=stream)
    with pytest.raises(AssertionError, match=r"!! \[0\] got Opened\(owner='ann'\)") as info:
        assert_stream(event_store, stream, Opened(owner="bob"), Opened(owner="cy"))
    assert "<missing>" in str(info.value)


def test_plugin_is_registered_through_its_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_uses_fixture(event_store):
            assert event_store.position == 0
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
