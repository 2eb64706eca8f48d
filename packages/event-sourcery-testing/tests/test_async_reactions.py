"""The asyncio outbox relay, projector and listeners on the reference backend."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import (
    AsyncOutbox,
    AsyncProjector,
    Event,
    EventRegistry,
    Recorded,
    StreamId,
)
from event_sourcery.exceptions import InvalidInput
from event_sourcery_testing import AsyncInMemoryBackend
from event_sourcery_testing.conformance import AsyncModeBackend
from event_sourcery_testing.conformance._async_mode import EventLoopThread
from event_sourcery_testing.conformance._blocking_reactions import (
    BlockingOutbox,
    BlockingProjector,
)
from event_sourcery_testing.conformance._support import make_projector


class Paid(Event):
    amount: int


class Boom(Exception):
    """Raised on purpose."""


class _Stop(BaseException):
    """Raised on purpose, like a cancellation: not an `Exception`."""


def _backend() -> AsyncInMemoryBackend:
    registry = EventRegistry()
    registry.add(Paid)
    return AsyncInMemoryBackend(registry=registry)


async def _paid(backend: AsyncInMemoryBackend, *amounts: int) -> str:
    """Append `amounts` to a new stream; its category."""
    category = f"pay-{uuid4().hex[:8]}"
    events = (Paid(amount=a) for a in amounts)
    await backend.event_store.append(*events, stream_id=StreamId(category=category))
    return category


def _amounts(records: list[Recorded]) -> list[int]:
    return [record.wrapped_event.event.amount for record in records]


def test_an_async_publisher_is_awaited_and_its_entries_removed() -> None:
    async def main() -> tuple[list[int], int, dict[str, int]]:
        backend = _backend().with_outbox()
        await _paid(backend, 1, 2)
        seen: list[Recorded] = []

        async def publish(record: Recorded) -> None:
            await asyncio.sleep(0)
            seen.append(record)

        assert isinstance(backend.outbox, AsyncOutbox)
        published = await backend.outbox.run(publish)
        return _amounts(seen), published, await backend.outbox.counts()

    assert asyncio.run(main()) == ([1, 2], 2, {"pending": 0, "dead_letters": 0})


def test_a_sync_publisher_works_on_the_async_outbox() -> None:
    async def main() -> tuple[list[int], int]:
        backend = _backend().with_outbox()
        await _paid(backend, 3)
        seen: list[Recorded] = []
        published = await backend.outbox.run(seen.append, limit=10)
        return _amounts(seen), published

    assert asyncio.run(main()) == ([3], 1)


def test_failures_are_retried_then_dead_lettered_then_retried_on_demand() -> None:
    async def main() -> None:
        backend = _backend().with_outbox(max_attempts=2)
        await _paid(backend, 5)

        async def fail(record: Recorded) -> None:
            raise Boom("card 4111 refused")

        assert await backend.outbox.run(fail) == 0
        assert await backend.outbox.counts() == {"pending": 1, "dead_letters": 0}
        assert await backend.outbox.run(fail) == 0
        assert await backend.outbox.run(fail) == 0  # a dead letter is not tried again
        (dead,) = await backend.outbox.dead_letters()
        assert (dead.attempts, dead.last_error) == (2, f"{__name__}.Boom")
        await backend.outbox.retry(dead.id)
        seen: list[Recorded] = []
        assert await backend.outbox.run(seen.append) == 1
        assert _amounts(seen) == [5]
        assert await backend.outbox.counts() == {"pending": 0, "dead_letters": 0}

    asyncio.run(main())


def test_an_interrupted_run_releases_what_it_did_not_publish() -> None:
    async def main() -> None:
        backend = _backend().with_outbox(max_attempts=1)
        await _paid(backend, 1, 2, 3)

        async def stop_at_two(record: Recorded) -> None:
            if record.wrapped_event.event.amount == 2:
                raise _Stop

        with pytest.raises(_Stop):
            await backend.outbox.run(stop_at_two)
        seen: list[Recorded] = []
        assert await backend.outbox.run(seen.append) == 2
        assert _amounts(seen) == [2, 3]
        assert await backend.outbox.dead_letters() == []

    asyncio.run(main())


def test_bad_outbox_arguments_are_rejected_before_any_claim() -> None:
    async def main() -> None:
        backend = _backend().with_outbox()
        await _paid(backend, 1)
        with pytest.raises(InvalidInput):
            await backend.outbox.run(print, limit=0)
        with pytest.raises(InvalidInput):
            await backend.outbox.retry("1")  # type: ignore[arg-type]
        assert await backend.outbox.counts() == {"pending": 1, "dead_letters": 0}

    asyncio.run(main())


def test_a_projector_awaits_its_handler_and_moves_its_checkpoint() -> None:
    async def main() -> None:
        backend = _backend()
        category = await _paid(backend, 1, 2)
        totals: dict[str, int] = {"sum": 0}

        async def apply(record: Recorded) -> None:
            await asyncio.sleep(0)
            totals["sum"] += record.wrapped_event.event.amount

        name = f"totals-{uuid4().hex}"
        projector = AsyncProjector(backend, name=name, handler=apply, categories=[category])
        while await projector.run_once(limit=1):
            pass
        assert totals["sum"] == 3
        position = await projector.position()
        assert position >= 2
        assert (await backend.projection_checkpoints())[name] == position
        assert projector.backend is backend

    asyncio.run(main())


def test_a_failing_handler_leaves_the_checkpoint_where_it_was() -> None:
    async def main() -> None:
        backend = _backend()
        category = await _paid(backend, 1)
        name = f"fails-{uuid4().hex}"

        async def explode(record: Recorded) -> None:
            raise Boom

        failing = AsyncProjector(backend, name=name, handler=explode, categories=[category])
        with pytest.raises(Boom):
            await failing.run_once()
        assert await failing.position() == 0
        seen: list[Recorded] = []
        working = AsyncProjector(backend, name=name, handler=seen.append, categories=[category])
        assert await working.run_once() == 1
        assert _amounts(seen) == [1]

    asyncio.run(main())


def test_reset_awaits_on_reset_and_replays_from_the_start() -> None:
    async def main() -> None:
        backend = _backend()
        category = await _paid(backend, 4)
        seen: list[Recorded] = []
        cleared: list[bool] = []

        async def clear() -> None:
            seen.clear()
            cleared.append(True)

        projector = AsyncProjector(
            backend,
            name=f"reset-{uuid4().hex}",
            handler=seen.append,
            categories=[category],
            on_reset=clear,
        )
        await projector.run_once()
        await projector.reset()
        assert (cleared, seen, await projector.position()) == ([True], [], 0)
        await projector.run_once()
        assert _amounts(seen) == [4]

    asyncio.run(main())


def test_bad_projector_arguments_are_rejected() -> None:
    backend = _backend()
    with pytest.raises(InvalidInput):
        AsyncProjector(backend, name="p", handler="not callable")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        asyncio.run(AsyncProjector(backend, name="p", handler=print).run_once(limit=0))


def test_a_coroutine_listener_is_awaited_in_the_append() -> None:
    async def main() -> list[int]:
        backend = _backend()
        seen: list[Recorded] = []

        async def listener(record: Recorded) -> None:
            await asyncio.sleep(0)
            seen.append(record)

        backend.in_transaction.register(listener, to=Paid)
        await _paid(backend, 7)
        return _amounts(seen)

    assert asyncio.run(main()) == [7]


def test_a_failing_coroutine_listener_fails_the_append() -> None:
    async def main() -> Any:
        backend = _backend()

        async def listener(record: Recorded) -> None:
            await asyncio.sleep(0)
            raise Boom

        backend.in_transaction.register(listener, to=Paid)
        await _paid(backend, 7)

    with pytest.raises(Boom):
        asyncio.run(main())


def test_a_cancelled_run_releases_its_entries() -> None:
    async def main() -> list[int]:
        backend = _backend().with_outbox(max_attempts=1)
        await _paid(backend, 1, 2)
        started, never = asyncio.Event(), asyncio.Event()

        async def hang(record: Recorded) -> None:
            started.set()
            await never.wait()

        task = asyncio.create_task(backend.outbox.run(hang))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        seen: list[Recorded] = []
        await backend.outbox.run(seen.append)
        return _amounts(seen)

    assert asyncio.run(main()) == [1, 2]


def test_the_kit_reaches_the_asyncio_relay_and_projector() -> None:
    registry = EventRegistry()
    registry.add(Paid)
    loop = EventLoopThread()
    try:
        backend = AsyncModeBackend(AsyncInMemoryBackend(registry=registry), loop).with_outbox()
        stream = StreamId(category=f"kit-{uuid4().hex[:8]}")
        backend.event_store.append(Paid(amount=1), stream_id=stream)
        seen: list[Recorded] = []
        assert backend.outbox.run(seen.append) == 1
        assert isinstance(backend.outbox, BlockingOutbox)
        projector = make_projector(backend, name="p", handler=seen.append)
        assert isinstance(projector, BlockingProjector)
        assert projector.run_once() == 1
        assert backend.projection_checkpoints() == {"p": 1}
        assert _amounts(seen) == [1, 1]
        with pytest.raises(NotImplementedError, match="asyncio mode has no sync port"):
            backend._outbox_strategy()
    finally:
        loop.close()
