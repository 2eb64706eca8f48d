"""The asyncio strategies: the sync backend's steps (`_stream_steps`, `_keys`, `_outbox`), awaited.

Nothing is decided here: each method runs the steps its sync namesake runs, on an
`AsyncConnection`.
"""

from __future__ import annotations

from collections.abc import Sequence

from event_sourcery import StreamId
from event_sourcery.encryption import AsyncKeyStorage, StoredKey
from event_sourcery.interfaces import (
    AsyncOutboxWriter,
    AsyncStorageStrategy,
    ExpectedVersion,
    RawEvent,
    RecordedRaw,
)

from event_sourcery_kurrentdb._async_client import AsyncConnection
from event_sourcery_kurrentdb._keys import KeySteps
from event_sourcery_kurrentdb._outbox import put_entries
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


class AsyncKurrentDBOutboxWriter(AsyncOutboxWriter):
    """Puts an append's outbox entries into the named outbox (a second append, as on the
    sync backend: KurrentDB has no transaction spanning two streams)."""

    def __init__(self, connection: AsyncConnection, outbox_name: str) -> None:
        self._connection = connection
        self._outbox_name = outbox_name

    async def put(self, records: Sequence[RecordedRaw]) -> None:
        await self._connection.run(put_entries(self._outbox_name, records))
