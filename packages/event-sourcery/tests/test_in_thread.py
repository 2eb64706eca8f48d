"""The threaded ports: async ports over sync ones, each call of the sync port in a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from unittest.mock import Mock

from event_sourcery import StreamId
from event_sourcery.interfaces import (
    LogCursor,
    RecordedRaw,
    SubscriptionFilter,
    SubscriptionStrategy,
    ThreadedCheckpointStrategy,
    ThreadedKeyStorage,
    ThreadedOutboxStrategy,
    ThreadedOutboxWriter,
    ThreadedStorageStrategy,
    ThreadedSubscriptionStrategy,
)

T = TypeVar("T")
_CALLER = ThreadPoolExecutor(1, thread_name_prefix="caller")


def in_caller_thread(call: Callable[[], T]) -> Awaitable[T]:
    """An `InThread` with a thread of its own, standing in for Django's `sync_to_async`."""
    return asyncio.get_running_loop().run_in_executor(_CALLER, call)


class RecordingCursor(LogCursor):
    """Notes which thread each call ran on; `wait` blocks, as a database cursor's does."""

    def __init__(self, calls: list[tuple[str, str]]) -> None:
        self.calls = calls

    def _note(self, what: str) -> None:
        self.calls.append((what, threading.current_thread().name))

    def fetch(self, limit: int) -> list[RecordedRaw]:
        self._note("fetch")
        return []

    @property
    def position(self) -> int:
        return 7

    def wait(self, timeout: float) -> None:
        self._note("wait")
        time.sleep(timeout)

    def close(self) -> None:
        self._note("close")


class RecordingStrategy(SubscriptionStrategy):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> LogCursor:
        self.calls.append(("open", threading.current_thread().name))
        return RecordingCursor(self.calls)


def _threads(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(what, name.split("_")[0]) for what, name in calls]


def test_a_cursor_opens_in_the_callers_thread_then_runs_on_a_thread_of_its_own() -> None:
    strategy = RecordingStrategy()

    async def scenario() -> tuple[int, int]:
        cursor = ThreadedSubscriptionStrategy(strategy, in_caller_thread).open(3, Mock())
        before = cursor.position
        await cursor.fetch(10)
        await cursor.wait(0.01)
        await cursor.aclose()
        return before, cursor.position

    before, after = asyncio.run(scenario())

    assert (before, after) == (3, 7)  # the sync cursor's, kept after closing
    assert _threads(strategy.calls) == [
        ("open", "caller"),
        ("fetch", "event-sourcery-cursor"),
        ("wait", "event-sourcery-cursor"),
        ("close", "event-sourcery-cursor"),
    ]
    names = {name for what, name in strategy.calls if what != "open"}
    assert len(names) == 1  # one thread: a connection made there stays there


def test_waiting_leaves_the_loop_free_and_cancelling_then_closing_closes_after_the_wait() -> None:
    strategy = RecordingStrategy()

    async def scenario() -> int:
        cursor = ThreadedSubscriptionStrategy(strategy, in_caller_thread).open(0, Mock())
        await cursor.fetch(1)
        waiting = asyncio.create_task(cursor.wait(0.3))
        ticks = 0
        while not waiting.done() and ticks < 10:
            await asyncio.sleep(0.01)
            ticks += 1
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await cursor.aclose()
        return ticks

    assert asyncio.run(scenario()) == 10
    assert [what for what, _ in strategy.calls] == ["open", "fetch", "wait", "close"]


def test_storage_outbox_and_keys_call_their_sync_port_in_the_thread() -> None:
    sync, names = Mock(), []
    sync.tenant_id = "t1"
    sync.current_position.side_effect = lambda: names.append(threading.current_thread().name) or 5
    stream, key = StreamId(), Mock()

    async def scenario() -> None:
        storage = ThreadedStorageStrategy(sync, in_caller_thread)
        assert storage.tenant_id == "t1"
        assert storage.scoped_for_tenant("t2").sync is sync.scoped_for_tenant.return_value
        await storage.fetch_events(stream, 1, 2)
        await storage.insert_events(stream, 0, [])
        await storage.save_snapshot(key)
        await storage.delete_stream(stream)
        assert await storage.current_position() == 5
        await ThreadedOutboxWriter(sync, in_caller_thread).put([])
        keys = ThreadedKeyStorage(sync, in_caller_thread)
        await keys.current("s", None)
        await keys.find("k", "t1")
        await keys.add(key, None)
        await keys.delete_subject("s", None)

    asyncio.run(scenario())

    assert [name.split("_")[0] for name in names] == ["caller"]
    calls: list[Any] = [(call[0], call[1]) for call in sync.method_calls]
    assert calls == [
        ("scoped_for_tenant", ("t2",)),
        ("fetch_events", (stream, 1, 2)),
        ("insert_events", (stream, 0, [])),
        ("save_snapshot", (key,)),
        ("delete_stream", (stream,)),
        ("current_position", ()),
        ("put", ([],)),
        ("current", ("s", None)),
        ("find", ("k", "t1")),
        ("add", (key, None)),
        ("delete_subject", ("s", None)),
    ]


def test_the_relay_and_checkpoint_ports_call_their_sync_port_in_the_thread() -> None:
    sync, threads = Mock(), set()
    replies: dict[str, object] = {"claim": ["e"], "counts": (1, 2), "load": 3, "positions": {}}

    def noted(name: str) -> Callable[..., object]:
        def call(*args: object) -> object:
            threads.add(threading.current_thread().name.split("_")[0])
            return replies.get(name)

        return call

    others = ("put", "published", "failed", "release", "dead_letters", "reset_attempts")
    for name in (*replies, *others, "remove", "save"):
        getattr(sync, name).side_effect = noted(name)
    entry = Mock()

    async def scenario() -> list[object]:
        outbox = ThreadedOutboxStrategy(sync, in_caller_thread)
        checkpoints = ThreadedCheckpointStrategy(sync, in_caller_thread)
        return [
            await outbox.put([]),
            await outbox.claim(10, 3),
            await outbox.published(entry),
            await outbox.failed(entry, "KeyError"),
            await outbox.release([entry]),
            await outbox.dead_letters(3, 5),
            await outbox.counts(3),
            await outbox.reset_attempts([1]),
            await outbox.remove([2]),
            await checkpoints.load("p"),
            await checkpoints.save("p", 4),
            await checkpoints.positions(),
        ]

    results = asyncio.run(scenario())

    assert threads == {"caller"}
    assert results == [None, ["e"], None, None, None, None, (1, 2), None, None, 3, None, {}]
    calls: list[Any] = [(call[0], call[1]) for call in sync.method_calls]
    assert calls == [
        ("put", ([],)),
        ("claim", (10, 3)),
        ("published", (entry,)),
        ("failed", (entry, "KeyError")),
        ("release", ([entry],)),
        ("dead_letters", (3, 5)),
        ("counts", (3,)),
        ("reset_attempts", ([1],)),
        ("remove", ([2],)),
        ("load", ("p",)),
        ("save", ("p", 4)),
        ("positions", ()),
    ]
