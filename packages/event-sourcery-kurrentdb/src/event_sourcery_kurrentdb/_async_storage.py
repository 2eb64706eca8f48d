"""The asyncio strategies: the sync backend's steps (`_stream_steps`, `_keys`, `_outbox`,
`_checkpoints`), awaited.

Nothing is decided here: each method runs the steps its sync namesake runs, on an
`AsyncConnection`.
"""

from __future__ import annotations

from collections.abc import Sequence

from event_sourcery import StreamId
from event_sourcery.encryption import AsyncKeyStorage, StoredKey
from event_sourcery.interfaces import (
    AsyncCheckpointStrategy,
    AsyncOutboxStrategy,
    AsyncStorageStrategy,
    ExpectedVersion,
    OutboxEntry,
    RawEvent,
    RecordedRaw,
)

from event_sourcery_kurrentdb._async_client import AsyncConnection
from event_sourcery_kurrentdb._checkpoints import CheckpointSteps
from event_sourcery_kurrentdb._keys import KeySteps
from event_sourcery_kurrentdb._outbox import OutboxSteps
from event_sourcery_kurrentdb._stream_steps import OnStreams


class AsyncKurrentDBStorageStrategy(OnStreams[AsyncConnection], AsyncStorageStrategy):
    """`KurrentDBStorageStrategy`, awaited: one KurrentDB stream per (tenant, category, uuid)."""

    async def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        return await self._connection.run(self._steps.fetch_events(stream_id, start, stop))

    async def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        return await self._connection.run(self._steps.insert_events(stream_id, expected, events))

    async def save_snapshot(self, snapshot: RawEvent) -> None:
        await self._connection.run(self._steps.save_snapshot(snapshot))

    async def delete_stream(self, stream_id: StreamId) -> None:
        await self._connection.run(self._steps.delete_stream(stream_id))

    async def current_position(self) -> int:
        return await self._connection.run(self._steps.current_position())


class AsyncKurrentDBKeyStorage(AsyncKeyStorage):
    """`KurrentDBKeyStorage`, awaited: keys in the backend's own `es$key-...` streams."""

    _steps = KeySteps()

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        return await self._connection.run(self._steps.current(subject_id, tenant_id))

    async def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        return await self._connection.run(self._steps.find(key_id, tenant_id))

    async def add(self, key: StoredKey, tenant_id: str | None) -> None:
        await self._connection.run(self._steps.add(key, tenant_id))

    async def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        await self._connection.run(self._steps.delete_subject(subject_id, tenant_id))


class AsyncKurrentDBOutboxStrategy(AsyncOutboxStrategy):
    """`KurrentDBOutboxStrategy`, awaited: the streams of one named outbox. Its `put` is an
    append's outbox writer too (a second append, as on the sync backend: KurrentDB has no
    transaction spanning two streams)."""

    def __init__(self, connection: AsyncConnection, name: str) -> None:
        self._connection = connection
        self._steps = OutboxSteps(name)

    async def put(self, records: Sequence[RecordedRaw]) -> None:
        await self._connection.run(self._steps.put(records))

    async def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        return await self._connection.run(self._steps.claim(limit, max_attempts))

    async def published(self, entry: OutboxEntry) -> None:
        await self._connection.run(self._steps.published(entry))

    async def failed(self, entry: OutboxEntry, error: str) -> None:
        await self._connection.run(self._steps.failed(entry, error))

    async def release(self, entries: Sequence[OutboxEntry]) -> None:
        await self._connection.run(self._steps.release(entries))

    async def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        return await self._connection.run(self._steps.dead_letters(max_attempts, limit))

    async def counts(self, max_attempts: int) -> tuple[int, int]:
        return await self._connection.run(self._steps.counts(max_attempts))

    async def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        await self._connection.run(self._steps.reset_attempts(entry_ids))

    async def remove(self, entry_ids: Sequence[int]) -> None:
        await self._connection.run(self._steps.remove(entry_ids))


class AsyncKurrentDBCheckpointStrategy(AsyncCheckpointStrategy):
    """`KurrentDBCheckpointStrategy`, awaited: `es$checkpoint-<projection>` streams."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._steps = CheckpointSteps()

    async def load(self, name: str) -> int:
        return await self._connection.run(self._steps.load(name))

    async def save(self, name: str, position: int) -> None:
        await self._connection.run(self._steps.save(name, position))

    async def positions(self) -> dict[str, int]:
        return await self._connection.run(self._steps.positions())
