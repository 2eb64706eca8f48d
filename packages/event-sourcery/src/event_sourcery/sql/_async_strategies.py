"""The async ports a SQL backend implements through the core's protocols, on an asyncio driver.

The twins of `_strategies`: the same protocols (`_streams`, `_outbox`), built here and driven
by the backend's `AsyncDriver._drive` with `drive_async`. Nothing about what is stored or read
is decided here; only which protocol answers which port method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

from event_sourcery._async_ports import AsyncOutboxWriter, AsyncStorageStrategy
from event_sourcery._encryption import AsyncKeyStorage, StoredKey
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import RecordedRaw
from event_sourcery._stream_id import StreamId
from event_sourcery.sql import _keys as keys
from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._outbox import outbox_put
from event_sourcery.sql._protocol import Protocol
from event_sourcery.sql._streams import delete_stream, load_events, save_snapshot

T = TypeVar("T")


class AsyncDriver(ABC):
    """What an asyncio backend's strategies inherit to run protocols: it supplies `_drive`."""

    @abstractmethod
    async def _drive(
        self, action: str, writing_events: bool, protocol: Callable[[Flavour], Protocol[T]]
    ) -> T:
        """Run ``protocol(flavour)`` with `drive_async` on the backend's connection, in its
        current transaction; translate database errors for `action` (see `Driver._drive`)."""


class AsyncSQLStorageStrategy(AsyncDriver, AsyncStorageStrategy):
    """Loads, snapshots and deletion of a tenant's streams (`_tenant`: '' for none); the
    backend supplies the append, the current position and `scoped_for_tenant`."""

    _tenant: str

    async def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        tenant = self._tenant
        load = partial(load_events, tenant=tenant, stream_id=stream_id, start=start, stop=stop)
        return await self._drive(f"loading stream {stream_id!r}", False, load)

    async def save_snapshot(self, snapshot: RawEvent) -> None:
        save = partial(save_snapshot, tenant=self._tenant, snapshot=snapshot)
        await self._drive(f"saving a snapshot of stream {snapshot.stream_id!r}", True, save)

    async def delete_stream(self, stream_id: StreamId) -> None:
        delete = partial(delete_stream, tenant=self._tenant, stream_id=stream_id)
        await self._drive(f"deleting stream {stream_id!r}", False, delete)


class AsyncSQLOutboxWriter(AsyncDriver, AsyncOutboxWriter):
    """Puts an append's outbox entries into the outbox table, in its transaction."""

    async def put(self, records: Sequence[RecordedRaw]) -> None:
        await self._drive("writing outbox entries", True, partial(outbox_put, records=records))


class AsyncSQLKeyStorage(AsyncDriver, AsyncKeyStorage):
    """Data subjects' keys in the keys table, in the caller's transaction: `SQLKeyStorage`'s
    protocols (`_keys`), awaited."""

    async def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        read = partial(keys.current_key, subject_id=subject_id, tenant=tenant_id or "")
        return await self._drive("reading an encryption key", False, read)

    async def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        read = partial(keys.find_key, key_id=key_id, tenant=tenant_id or "")
        return await self._drive("reading an encryption key", False, read)

    async def add(self, key: StoredKey, tenant_id: str | None) -> None:
        add = partial(keys.add_key, key=key, tenant=tenant_id or "")
        await self._drive("storing an encryption key", False, add)

    async def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        delete = partial(keys.delete_subject, subject_id=subject_id, tenant=tenant_id or "")
        await self._drive("shredding a data subject", False, delete)
