"""What the asyncio backend adds to the kit: its client, cancellation and its errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import aclosing

import pytest
from event_sourcery import ConcurrentStreamWriteError, StreamId
from event_sourcery.exceptions import InvalidInput, StorageError
from event_sourcery_kurrentdb import AsyncKurrentDBBackend, KurrentDBBackend, RetryPolicy
from kurrentdb_emulator import Emulator
from kurrentdbclient import AsyncKurrentDBClient, KurrentDBClient
from kurrentdbclient.exceptions import ServiceUnavailableError

from ._events import Noted


def test_it_takes_an_async_client_only(kurrentdb_client: KurrentDBClient) -> None:
    with pytest.raises(InvalidInput, match="AsyncKurrentDBClient"):
        AsyncKurrentDBBackend(kurrentdb_client)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="outbox_name"):
        AsyncKurrentDBBackend(
            AsyncKurrentDBClient("kurrentdb://localhost:2113?Tls=false"), outbox_name=""
        )


def test_the_sync_backend_reads_what_the_async_one_wrote(
    kurrentdb_uri: str, kurrentdb_backend: KurrentDBBackend
) -> None:
    stream = StreamId(name=f"note-{StreamId().hex}", category="notes")

    async def write() -> None:
        client = AsyncKurrentDBClient(kurrentdb_uri)
        store = AsyncKurrentDBBackend(client).in_tenant_mode("t1").event_store
        await store.append(Noted(text="a"), Noted(text="b"), stream_id=stream)
        await client.close()

    asyncio.run(write())
    loaded = kurrentdb_backend.in_tenant_mode("t1").event_store.load_stream(stream)
    assert [(e.version, e.event) for e in loaded] == [(1, Noted(text="a")), (2, Noted(text="b"))]


def test_200_tasks_racing_on_one_stream_keep_its_versions_contiguous(kurrentdb_uri: str) -> None:
    # One event loop, one client: every task loads and appends expecting the version it
    # loaded. The server's expected-revision check, not luck, decides: the losers of each
    # round get `ConcurrentStreamWriteError`, and the stream has no gap and no duplicate.
    async def scenario() -> tuple[list[int], int, int]:
        client = AsyncKurrentDBClient(kurrentdb_uri)
        store = AsyncKurrentDBBackend(client).event_store
        stream = StreamId(category="raced")
        await store.append(Noted(text="start"), stream_id=stream)

        async def race(writer: int) -> bool:
            loaded = await store.load_stream(stream)
            try:
                await store.append(
                    Noted(text=str(writer)), stream_id=stream, expected_version=loaded.version
                )
            except ConcurrentStreamWriteError:
                return False
            return True

        outcomes = await asyncio.gather(*(race(writer) for writer in range(200)))
        versions = [e.version for e in await store.load_stream(stream)]
        await client.close()
        return versions, outcomes.count(True), outcomes.count(False)

    versions, won, lost = asyncio.run(scenario())
    assert versions == list(range(1, len(versions) + 1))
    assert won == len(versions) - 1
    assert won >= 1
    assert won + lost == 200


@pytest.fixture
def small_server() -> Iterator[Emulator]:
    """A server of its own with few worker threads: one per running subscription."""
    with Emulator(host="127.0.0.1", port=0, max_workers=3) as emulator:
        yield emulator


def test_cancelling_the_iterating_task_ends_its_subscription(small_server: Emulator) -> None:
    # Each subscription the server still serves holds one of its 3 threads: had cancelling
    # left the gRPC calls open, the appends after the third would wait for good.
    async def scenario() -> None:
        client = AsyncKurrentDBClient(small_server.uri)
        backend = AsyncKurrentDBBackend(client, deadline=5, retry=RetryPolicy(attempts=1))
        store = backend.event_store
        for _ in range(6):
            stream = StreamId(category="cancel")
            start = await store.position()
            arrived = asyncio.Event()

            async def follow(start: int = start, arrived: asyncio.Event = arrived) -> None:
                subscription = backend.subscriber.start_from(start).to_category("cancel")
                async for record in subscription.build_iter(timelimit=1):
                    if record is not None:
                        arrived.set()

            task = asyncio.create_task(follow())
            await store.append(Noted(text="x"), stream_id=stream)
            await asyncio.wait_for(arrived.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_cancelled_append_stores_all_or_nothing_and_the_client_stays_usable(
    kurrentdb_uri: str,
) -> None:
    async def scenario() -> None:
        client = AsyncKurrentDBClient(kurrentdb_uri)
        store = AsyncKurrentDBBackend(client).event_store
        for delay in (0, 0.001, 0.005, 0.02):
            stream = StreamId(category="cancelled", name=f"c-{StreamId().hex}")
            events = [Noted(text=str(n)) for n in range(3)]
            task = asyncio.create_task(store.append(*events, stream_id=stream))
            await asyncio.sleep(delay)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            stored = [e.event for e in await store.load_stream(stream)]
            assert stored in ([], events)
            version = len(stored)
            await store.append(Noted(text="after"), stream_id=stream, expected_version=version)
            assert len(await store.load_stream(stream)) == version + 1
        await client.close()

    asyncio.run(scenario())


def test_an_unreachable_server_is_a_storage_error_after_bounded_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator = Emulator().start()

    async def scenario() -> StorageError:
        client = AsyncKurrentDBClient(emulator.uri)
        backend = AsyncKurrentDBBackend(client, retry=RetryPolicy(attempts=3, backoff=0.05))
        await backend.event_store.load_stream(StreamId())  # connected
        emulator.stop()
        try:
            with pytest.raises(StorageError, match="unavailable") as info:
                await backend.event_store.append(Noted(text="x"), stream_id=StreamId())
            async with aclosing(backend.subscriber.build_iter(0.1)) as records:
                with pytest.raises(StorageError):
                    await anext(records)
        finally:
            await client.close()
        return info.value

    started = time.monotonic()
    error = asyncio.run(scenario())
    assert isinstance(error.__cause__, ServiceUnavailableError)
    assert time.monotonic() - started < 20
    assert [r.message.count("try") for r in caplog.records][:2] == [1, 1]  # 2 retries
