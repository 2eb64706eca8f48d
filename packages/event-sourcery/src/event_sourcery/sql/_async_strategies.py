"""The async ports a SQL backend implements through the core's protocols, on an asyncio driver.

The twins of `_strategies`: the same protocols (`_streams`, `_outbox`), built here and driven
by the backend's `AsyncDriver._drive` with `drive_async`. Nothing about what is stored or read
is decided here; only which protocol answers which port method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

from event_sourcery._async_ports import (
    AsyncCheckpointStrategy,
    AsyncOutboxStrategy,
    AsyncOutboxWriter,
    AsyncStorageStrategy,
)
from event_sourcery._encryption import AsyncKeyStorage, StoredKey
from event_sourcery._outbox import OutboxEntry
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import RecordedRaw
from event_sourcery._stream_id import StreamId
from event_sourcery.sql import _keys as keys
from event_sourcery.sql import _outbox as outbox
from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._protocol import Protocol
from event_sourcery.sql._streams import delete_stream, load_events, save_snapshot

T = TypeVar("T")
P = ParamSpec("P")


class AsyncDriver(ABC):
    """What an asyncio backend's strategies inherit to run protocols: it supplies `_drive`."""

    @abstractmethod
    async def _drive(
        self, action: str, writing_events: bool, protocol: Callable[[Flavour], Protocol[T]]
    ) -> T:
        """Run ``protocol(flavour)`` with `drive_async` on the backend's connection, in its
        current transaction; translate database errors for `action` (see `Driver._drive`)."""

    async def _run(
        self,
        action: str,
        protocol: Callable[Concatenate[Flavour, P], Protocol[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``protocol(flavour, *args, **kwargs)`` driven to its result (see `Driver._run`)."""
        return await self._drive(action, False, lambda flavour: protocol(flavour, *args, **kwargs))


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
        put = partial(outbox.outbox_put, records=records)
        await self._drive("writing outbox entries", True, put)


class AsyncSQLOutboxStrategy(AsyncSQLOutboxWriter, AsyncOutboxStrategy):
    """The outbox table, in the caller's transaction: `SQLOutboxStrategy`'s protocols
    (`_outbox`), awaited."""

    async def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        return await self._run("claiming outbox entries", outbox.outbox_claim, limit, max_attempts)

    async def published(self, entry: OutboxEntry) -> None:
        await self._run("removing a published outbox entry", outbox.outbox_published, entry.id)

    async def failed(self, entry: OutboxEntry, error: str) -> None:
        await self._run("counting a failed publication", outbox.outbox_failed, entry.id, error)

    async def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        read = outbox.outbox_dead_letters
        return await self._run("reading dead letters", read, max_attempts, limit)

    async def counts(self, max_attempts: int) -> tuple[int, int]:
        return await self._run("counting outbox entries", outbox.outbox_counts, max_attempts)

    async def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        await self._run("retrying outbox entries", outbox.outbox_reset_attempts, entry_ids)

    async def remove(self, entry_ids: Sequence[int]) -> None:
        await self._run("purging outbox entries", outbox.outbox_remove, entry_ids)


class AsyncSQLCheckpointStrategy(AsyncDriver, AsyncCheckpointStrategy):
    """The projections' checkpoints table, in the caller's transaction: `SQLCheckpointStrategy`'s
    protocols (`_outbox`), awaited."""

    async def load(self, name: str) -> int:
        load = outbox.load_checkpoint
        position, identity = await self._run(f"loading checkpoint {name!r}", load, name)
        if identity is not None:
            self._note_identity(identity)
        return position

    def _note_identity(self, identity: int) -> None:
        """Called by `load` with the server's id of the caller's session (see
        `SQLCheckpointStrategy._note_identity`); a backend whose readers need it keeps it."""

    async def save(self, name: str, position: int) -> None:
        await self._run(f"saving checkpoint {name!r}", outbox.save_checkpoint, name, position)

    async def positions(self) -> dict[str, int]:
        return await self._run("reading the checkpoints", outbox.checkpoint_positions)


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
