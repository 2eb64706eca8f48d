"""The pytest plugin's fixtures and the assertion helper, as a user's test would use them."""

import asyncio

import pytest
from event_sourcery import AsyncEventStore, Event, EventStore, StreamId
from event_sourcery_testing import AsyncInMemoryBackend, InMemoryBackend, assert_stream

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


def test_async_fixtures_share_the_sync_fixtures_store(
    event_sourcery_backend: InMemoryBackend,
    async_event_sourcery_backend: AsyncInMemoryBackend,
    async_event_store: AsyncEventStore,
) -> None:
    stream = StreamId()

    async def scenario() -> int:
        assert await async_event_store.position() == 0
        await async_event_store.append(Opened(owner="ann"), stream_id=stream)
        return await async_event_sourcery_backend.event_store.position()

    assert asyncio.run(scenario()) == 1  # a sync test drives its coroutines with asyncio.run
    assert_stream(event_sourcery_backend.event_store, stream, Opened(owner="ann"))


# The smallest runner of `async def` tests: each on a new event loop, made after the fixtures,
# as AnyIO's and pytest-asyncio's plugins do. The fixtures must not need a loop of their own.
_ASYNC_RUNNER = """
import asyncio
import inspect

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True
"""


def test_async_fixtures_serve_async_tests_fresh_each_time(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(_ASYNC_RUNNER)
    pytester.makepyfile(
        """
        import asyncio

        import pytest
        from event_sourcery import Event, StreamId


        class Opened(Event):
            owner: str


        @pytest.mark.parametrize("owner", ["ann", "bob"])  # two tests: each an empty store
        async def test_appends_and_follows(async_event_sourcery_backend, async_event_store, owner):
            assert await async_event_store.position() == 0
            stream = StreamId()
            await async_event_store.append(Opened(owner=owner), stream_id=stream)
            assert [w.event for w in await async_event_store.load_stream(stream)] == [
                Opened(owner=owner)
            ]
            records = async_event_sourcery_backend.subscriber.start_from(0).build_iter(
                timelimit=1
            )
            record = await anext(records)
            await records.aclose()
            assert record is not None
            assert record.wrapped_event.event == Opened(owner=owner)
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
