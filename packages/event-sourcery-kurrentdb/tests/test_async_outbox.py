"""The asyncio outbox relay and projectors on KurrentDB: the sync backend's streams, awaited."""

from __future__ import annotations

import asyncio
from collections import Counter
from uuid import uuid4

from event_sourcery import AsyncOutbox, AsyncProjector, Recorded, StreamId
from event_sourcery_kurrentdb import AsyncKurrentDBBackend, KurrentDBBackend
from kurrentdbclient import AsyncKurrentDBClient, KurrentDBClient

from ._events import Noted


def _texts(records: list[Recorded]) -> list[str]:
    return [record.wrapped_event.event.text for record in records]


def test_an_async_publisher_relays_from_kurrentdb(
    kurrentdb_uri: str, kurrentdb_client: KurrentDBClient
) -> None:
    name = f"aout{uuid4().hex}"

    async def scenario() -> tuple[list[str], int, dict[str, int]]:
        client = AsyncKurrentDBClient(kurrentdb_uri)
        backend = AsyncKurrentDBBackend(client, outbox_name=name)
        await backend.with_outbox().event_store.append(
            Noted(text="a"), Noted(text="b"), stream_id=StreamId(category="relayed")
        )
        seen: list[Recorded] = []

        async def publish(record: Recorded) -> None:
            await asyncio.sleep(0)
            seen.append(record)

        assert isinstance(backend.outbox, AsyncOutbox)
        published = await backend.outbox.run(publish)
        counts = await backend.outbox.counts()
        await client.close()
        return _texts(seen), published, counts

    assert asyncio.run(scenario()) == (["a", "b"], 2, {"pending": 0, "dead_letters": 0})
    # The same streams as the sync backend's outbox: nothing is left for a sync worker.
    assert KurrentDBBackend(kurrentdb_client, outbox_name=name).outbox.counts() == {
        "pending": 0,
        "dead_letters": 0,
    }


def test_concurrent_async_workers_publish_each_entry_once(kurrentdb_uri: str) -> None:
    # Four tasks on one loop and one client claim from the same outbox: their state changes
    # race on one stream, the losers re-read and retry (awaiting their backoff), and no entry
    # is handed to two of them.
    name = f"aout{uuid4().hex}"

    async def scenario() -> Counter[str]:
        client = AsyncKurrentDBClient(kurrentdb_uri)
        backend = AsyncKurrentDBBackend(client, outbox_name=name)
        writer = backend.with_outbox().event_store
        for n in range(12):
            await writer.append(Noted(text=str(n)), stream_id=StreamId(category="raced"))
        seen: list[Recorded] = []

        async def work() -> None:
            while await backend.outbox.run(seen.append, limit=2):
                pass

        await asyncio.gather(*(work() for _ in range(4)))
        await client.close()
        return Counter(_texts(seen))

    assert asyncio.run(scenario()) == Counter(str(n) for n in range(12))


def test_an_async_projector_keeps_its_checkpoint_where_the_sync_one_reads_it(
    kurrentdb_uri: str, kurrentdb_client: KurrentDBClient
) -> None:
    category = f"proj{uuid4().hex[:8]}"
    name = f"notes-{uuid4().hex}"

    async def scenario() -> tuple[list[str], int, dict[str, int]]:
        client = AsyncKurrentDBClient(kurrentdb_uri)
        backend = AsyncKurrentDBBackend(client)
        await backend.event_store.append(
            Noted(text="x"), Noted(text="y"), stream_id=StreamId(category=category)
        )
        seen: list[Recorded] = []
        projector = AsyncProjector(backend, name=name, handler=seen.append, categories=[category])
        applied = await projector.run_once()
        again = await projector.run_once()
        checkpoints = await backend.projection_checkpoints()
        await client.close()
        assert again == 0
        return _texts(seen), applied, checkpoints

    texts, applied, checkpoints = asyncio.run(scenario())
    assert (texts, applied) == (["x", "y"], 2)
    assert checkpoints[name] > 0
    assert KurrentDBBackend(kurrentdb_client).projection_checkpoints()[name] == checkpoints[name]
