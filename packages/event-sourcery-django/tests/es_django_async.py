"""`AsyncDjangoBackend` beyond the kit: where its calls run, waiting, cancellation, and the
transactions of its outbox relay and projectors.

Not a test module: `conftest.py` (and the integration suite) load it by path as
`es_django_async`; subclasses of `AsyncDjangoChecks` name the database alias.

Each test runs its coroutine with `asyncio.run` from the test's thread, as a management
command would; the store's calls run in asgiref's thread for thread-sensitive calls, whose
connection the test closes at its end.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from django.db import connections, transaction
from event_sourcery import AsyncProjector, Event, Recorded, StreamId
from event_sourcery_django import AsyncDjangoBackend
from event_sourcery_django._subscription import DjangoLogCursor
from event_sourcery_django.models import Checkpoint

T = TypeVar("T")


class Noted(Event):
    __event_name__ = "es_django_async.Noted"
    text: str


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`coroutine`'s result; then the connection of Django's async thread is closed."""

    async def then_close() -> T:
        try:
            return await coroutine
        finally:
            await sync_to_async(connections.close_all)()

    return asyncio.run(then_close())


def _cursor_threads() -> int:
    return sum(t.name.startswith("event-sourcery-cursor") for t in threading.enumerate())


class AsyncDjangoChecks:
    """The checks, on the database alias `using` of a subclass."""

    using: str

    def test_an_append_joins_the_transaction_of_a_sync_to_async_block(self) -> None:
        store, stream = AsyncDjangoBackend(using=self.using).event_store, StreamId(category="note")

        def rolled_back() -> None:
            with transaction.atomic(
                using=self.using
            ):  # in Django's thread: its connection is the store's
                async_to_sync(store.append)(Noted(text="undone"), stream_id=stream)
                transaction.set_rollback(True, using=self.using)

        async def scenario() -> list[Any]:
            await sync_to_async(rolled_back)()
            await store.append(Noted(text="kept"), stream_id=stream)
            return [wrapped.event.text for wrapped in await store.load_stream(stream)]

        assert _run(scenario()) == ["kept"]

    def test_waiting_for_events_leaves_the_event_loop_free(self) -> None:
        subscriber = AsyncDjangoBackend(using=self.using).subscriber.to_category(
            f"quiet{time.monotonic_ns()}"
        )

        async def scenario() -> tuple[object, int]:
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            ticker = asyncio.create_task(tick())
            subscription = subscriber.build_iter(timelimit=1.0)
            try:
                first = await anext(subscription)  # nothing comes: None after a second
            finally:
                await subscription.aclose()
                ticker.cancel()
            return first, ticks

        first, ticks = _run(scenario())

        assert first is None
        # Up to 100 ticks; a wait blocking the loop would leave one per poll (10 a second).
        assert ticks >= 30, ticks

    def test_cancelling_a_subscription_closes_its_cursor(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        backend = AsyncDjangoBackend(using=self.using)
        before = _cursor_threads()
        closed: list[str] = []
        close = DjangoLogCursor.close

        def noted_close(cursor: DjangoLogCursor) -> None:
            closed.append(threading.current_thread().name)
            close(cursor)

        monkeypatch.setattr(DjangoLogCursor, "close", noted_close)

        async def scenario() -> int:
            async def follow() -> None:
                async for _ in backend.subscriber.to_category("nothing-here").build_iter(5):
                    pass

            task = asyncio.create_task(follow())
            await asyncio.sleep(0.3)  # reading, then waiting in the cursor's thread
            during = _cursor_threads()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return during

        during = _run(scenario())
        deadline = time.monotonic() + 2
        while _cursor_threads() > before and time.monotonic() < deadline:
            time.sleep(0.01)

        assert during == before + 1
        assert [name.startswith("event-sourcery-cursor") for name in closed] == [True]
        assert _cursor_threads() == before

    def test_a_cancelled_append_stores_nothing_and_the_connection_stays_usable(self) -> None:
        backend, stream = AsyncDjangoBackend(using=self.using), StreamId(category="note")
        inside = asyncio.Event()

        async def stuck(record: Recorded[Any]) -> None:
            inside.set()  # the events are inserted, the append's transaction is open
            await asyncio.Event().wait()

        backend.in_transaction.register(stuck, to=Noted)

        async def scenario() -> list[Any]:
            task = asyncio.create_task(
                backend.event_store.append(Noted(text="x"), stream_id=stream)
            )
            await inside.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            backend.in_transaction.unregister(stuck)
            store = backend.event_store
            await store.append(Noted(text="after"), stream_id=stream)
            return [wrapped.event.text for wrapped in await store.load_stream(stream)]

        assert _run(scenario()) == ["after"]

    def test_an_append_cancelled_as_it_starts_leaves_no_atomic_block_open(self) -> None:
        backend, stream = AsyncDjangoBackend(using=self.using), StreamId(category="note")

        def in_atomic_block() -> bool:
            return connections[self.using].in_atomic_block

        async def scenario() -> list[bool]:
            seen = []
            for pause in (0, 0.001, 0.005):  # cancelled while entering, or just after
                task = asyncio.create_task(
                    backend.event_store.append(Noted(text="x"), stream_id=stream)
                )
                await asyncio.sleep(pause)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                seen.append(await sync_to_async(in_atomic_block)())
            return seen

        assert _run(scenario()) == [False, False, False]

    def test_an_async_publisher_is_awaited_while_the_run_holds_its_claim(self) -> None:
        backend, stream = AsyncDjangoBackend(using=self.using).with_outbox(), StreamId()
        skips_locked = connections[self.using].features.has_select_for_update_skip_locked

        def in_atomic_block() -> bool:
            return connections[self.using].in_atomic_block

        async def elsewhere() -> int:
            # Another worker: a thread, a connection and a transaction of its own.
            async with ThreadSensitiveContext():
                try:
                    return await backend.outbox.run(lambda record: None)
                finally:
                    await sync_to_async(connections.close_all)()

        async def scenario() -> tuple[list[Any], list[bool], list[int], dict[str, int]]:
            texts, inside, taken = [], [], []

            async def publish(record: Recorded[Any]) -> None:
                await asyncio.sleep(0.01)  # on the event loop, between two hops
                inside.append(await sync_to_async(in_atomic_block)())
                if skips_locked and not taken:  # the claimed entries stay locked meanwhile
                    taken.append(await elsewhere())
                texts.append(record.wrapped_event.event.text)

            await backend.event_store.append(Noted(text="a"), Noted(text="b"), stream_id=stream)
            published = await backend.outbox.run(publish)
            assert published == 2
            return texts, inside, taken, await backend.outbox.counts()

        texts, inside, taken, counts = _run(scenario())

        assert texts == ["a", "b"]
        assert inside == [True, True]  # the run's own atomic block, in autocommit mode
        assert taken == ([0] if skips_locked else [])
        assert counts == {"pending": 0, "dead_letters": 0}  # committed when the run ended

    def test_a_failing_handler_rolls_back_its_writes_and_the_checkpoint(self) -> None:
        backend, stream = AsyncDjangoBackend(using=self.using), StreamId(category="rolled")
        name = f"rolled{time.monotonic_ns()}"

        async def handler(record: Recorded[Any]) -> None:
            # A read-model write with Django's async ORM: the same thread and transaction.
            key = f"{name}.{record.wrapped_event.version}"
            await Checkpoint.objects.using(self.using).acreate(name=key, position=record.position)
            if record.wrapped_event.event.text == "bad":
                raise RuntimeError("the read model refuses it")

        projector = AsyncProjector(backend, name=name, handler=handler, categories=["rolled"])

        async def written() -> list[str]:
            rows = (
                Checkpoint.objects.using(self.using)
                .filter(name__startswith=f"{name}.")
                .order_by("name")
            )
            return [row.name async for row in rows]

        async def scenario() -> tuple[int, list[str], int, list[str]]:
            store = backend.event_store
            await store.append(Noted(text="good"), stream_id=stream)
            assert await projector.run_once() == 1
            before = await projector.position()
            await store.append(
                Noted(text="fine"), Noted(text="bad"), stream_id=stream, expected_version=1
            )
            with pytest.raises(RuntimeError, match="refuses"):
                await projector.run_once()
            return before, await written(), await projector.position(), await written()

        before, rows, after, rows_after = _run(scenario())

        assert before > 0
        assert rows == [f"{name}.1"]  # "fine" was written, then rolled back with "bad"
        assert after == before
        assert rows_after == rows

    def test_a_relay_run_cancelled_in_its_publisher_leaves_its_entries_to_the_next(self) -> None:
        backend, stream = AsyncDjangoBackend(using=self.using).with_outbox(), StreamId()
        inside = asyncio.Event()

        async def stuck(record: Recorded[Any]) -> None:
            inside.set()  # claimed, the run's atomic block open in Django's thread
            await asyncio.Event().wait()

        def in_atomic_block() -> bool:
            return connections[self.using].in_atomic_block

        async def scenario() -> tuple[bool, dict[str, int], list[str]]:
            await backend.event_store.append(Noted(text="a"), Noted(text="b"), stream_id=stream)
            task = asyncio.create_task(backend.outbox.run(stuck))
            await inside.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            left_open = await sync_to_async(in_atomic_block)()
            counts = await backend.outbox.counts()
            texts: list[str] = []
            await backend.outbox.run(lambda record: texts.append(record.wrapped_event.event.text))
            return left_open, counts, texts

        left_open, counts, texts = _run(scenario())

        assert left_open is False
        assert counts == {"pending": 2, "dead_letters": 0}  # no attempt counted
        assert texts == ["a", "b"]
