"""The asyncio API on the reference backend: races, cancellation, iterators, the repository."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any, ClassVar

import pytest
from event_sourcery import (
    AsyncEventStore,
    ConcurrentStreamWriteError,
    Event,
    EventRegistry,
    Recorded,
    StreamId,
)
from event_sourcery.event_sourcing import Aggregate, AsyncRepository
from event_sourcery_testing import AsyncInMemoryBackend, InMemoryBackend

_TASKS = 200
#: Writers that retry until they get in (each retry reloads the stream: kept small)
_RETRIERS = 40


class Ticked(Event):
    n: int


def _backend() -> AsyncInMemoryBackend:
    registry = EventRegistry()
    registry.add(Ticked)
    return AsyncInMemoryBackend(registry=registry)


async def _race(store: AsyncEventStore, stream: StreamId, n: int) -> BaseException | None:
    loaded = await store.load_stream(stream)
    try:
        await store.append(Ticked(n=n), stream_id=stream, expected_version=loaded.version)
    except ConcurrentStreamWriteError as error:
        return error
    return None


def test_200_tasks_racing_on_one_stream_leave_contiguous_versions() -> None:
    async def main() -> tuple[list[BaseException | None], list[Any]]:
        store = _backend().event_store
        stream = StreamId(category="race")
        outcomes = await asyncio.gather(*(_race(store, stream, n) for n in range(_TASKS)))
        return list(outcomes), list(await store.load_stream(stream))

    outcomes, events = asyncio.run(main())
    winners = [outcome for outcome in outcomes if outcome is None]
    losers = [outcome for outcome in outcomes if outcome is not None]
    assert len(winners) + len(losers) == _TASKS
    assert all(isinstance(loser, ConcurrentStreamWriteError) for loser in losers)
    assert losers, "the tasks must really have raced"
    assert [wrapped.version for wrapped in events] == list(range(1, len(winners) + 1))
    assert len({wrapped.event.n for wrapped in events}) == len(winners)


def test_racing_tasks_that_retry_all_get_in_once() -> None:
    async def writer(store: AsyncEventStore, stream: StreamId, n: int) -> int:
        losses = 0
        while await _race(store, stream, n) is not None:
            losses += 1
        return losses

    async def main() -> tuple[int, list[Any]]:
        store = _backend().event_store
        stream = StreamId(category="race")
        losses = await asyncio.gather(*(writer(store, stream, n) for n in range(_RETRIERS)))
        return sum(losses), list(await store.load_stream(stream))

    losses, events = asyncio.run(main())
    assert losses > 0
    assert [wrapped.version for wrapped in events] == list(range(1, _RETRIERS + 1))
    assert sorted(wrapped.event.n for wrapped in events) == list(range(_RETRIERS))


def test_a_cancelled_append_leaves_nothing_and_the_store_usable() -> None:
    async def main() -> tuple[list[Any], list[Any], int]:
        backend = _backend()
        store = backend.event_store
        stream = StreamId(category="cancel")
        before = await store.position()
        task = asyncio.create_task(
            store.append(Ticked(n=1), Ticked(n=2), stream_id=stream, expected_version=0)
        )
        await asyncio.sleep(0)  # the append runs up to its first await, then is cancelled
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        left = list(await store.load_stream(stream))
        position = await store.position()
        await store.append(Ticked(n=3), stream_id=stream, expected_version=0)
        return left, list(await store.load_stream(stream)), position - before

    left, after, moved = asyncio.run(main())
    assert left == []
    assert moved == 0
    assert [(w.version, w.event) for w in after] == [(1, Ticked(n=3))]


def test_async_for_delivers_live_events_and_closing_gives_back_the_cursor() -> None:
    async def main() -> list[int]:
        backend = _backend()
        store = backend.event_store
        start = await store.position()
        seen: list[int] = []

        async def follow() -> None:
            records = backend.subscriber.start_from(start).to_category("live").build_iter(5)
            async with aclosing(records):
                async for record in records:
                    assert record is not None
                    seen.append(record.wrapped_event.event.n)
                    if len(seen) == 3:
                        return

        follower = asyncio.create_task(follow())
        for n in range(3):
            await asyncio.sleep(0.01)
            await store.append(Ticked(n=n), stream_id=StreamId(category="live"))
        await asyncio.wait_for(follower, 5)
        return seen

    assert asyncio.run(main()) == [0, 1, 2]


def test_cancelling_the_iterating_task_closes_its_cursor() -> None:
    closed: list[bool] = []

    async def main() -> None:
        backend = _backend()
        subscriber = backend.subscriber
        strategy = subscriber._strategy
        original = strategy.open

        def spying_open(after: int, subscription_filter: Any) -> Any:
            cursor = original(after, subscription_filter)
            inner_close = cursor.aclose

            async def aclose() -> None:
                closed.append(True)
                await inner_close()

            cursor.aclose = aclose  # type: ignore[method-assign]
            return cursor

        strategy.open = spying_open  # type: ignore[method-assign]

        async def follow() -> None:
            async for _ in subscriber.build_batch(10, 60):
                pass

        task = asyncio.create_task(follow())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert closed == [True]


def test_async_listeners_are_awaited_inside_the_append() -> None:
    async def main() -> list[int]:
        backend = _backend()
        seen: list[int] = []

        async def listener(record: Recorded) -> None:
            await asyncio.sleep(0)
            seen.append(record.position)

        backend.in_transaction.register(listener, to=Ticked)
        await backend.event_store.append(Ticked(n=1), stream_id=StreamId(category="l"))
        return seen

    assert asyncio.run(main()) == [1]


class Counter(Aggregate):
    category: ClassVar[str] = "counter"

    def __init__(self) -> None:
        self.total = 0

    def __apply__(self, event: Event) -> None:
        assert isinstance(event, Ticked)
        self.total += event.n

    def tick(self, n: int) -> None:
        self._emit(Ticked(n=n))


def test_async_repository_saves_and_loads_the_same_aggregates() -> None:
    async def main() -> tuple[int, int]:
        backend = _backend()
        repository = AsyncRepository[Counter](backend.event_store)
        stream = StreamId(category="counter")
        async with repository.aggregate(stream.uuid, Counter()) as wrapped:
            wrapped.aggregate.tick(2)
            wrapped.aggregate.tick(3)
        async with repository.aggregate(stream.uuid, Counter()) as wrapped:
            return wrapped.aggregate.total, wrapped.stored_version

    assert asyncio.run(main()) == (5, 2)


def test_a_sync_backend_over_the_same_data_sees_async_appends() -> None:
    backend = _backend()
    stream = StreamId(category="shared")
    asyncio.run(backend.event_store.append(Ticked(n=7), stream_id=stream))
    sync = InMemoryBackend(data=backend.data, registry=backend.config.registry)
    assert [w.event for w in sync.event_store.load_stream(stream)] == [Ticked(n=7)]
