"""The ports a SQL backend implements through the core's protocols, whatever its driver.

A backend's strategy inherits one of these and supplies `Driver._drive` (how it runs a
protocol on its connection); what is stored and read is decided once, here and in `_streams`
and `_outbox`. The asyncio drivers will have their own twins of these, over `drive_async`.
"""

from __future__ import annotations

from collections.abc import Sequence

from event_sourcery._encryption import KeyStorage, StoredKey
from event_sourcery._outbox import OutboxEntry, OutboxStrategy
from event_sourcery._projection import CheckpointStrategy
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import RecordedRaw
from event_sourcery._storage import StorageStrategy
from event_sourcery._stream_id import StreamId
from event_sourcery.sql import _keys as keys
from event_sourcery.sql import _outbox as outbox
from event_sourcery.sql._driver import Driver
from event_sourcery.sql._streams import delete_stream, load_events, save_snapshot


class SQLStorageStrategy(Driver, StorageStrategy):
    """Loads, snapshots and deletion of a tenant's streams (`_tenant`: '' for none); the
    backend supplies the append, the current position and `scoped_for_tenant`."""

    _tenant: str

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        action = f"loading stream {stream_id!r}"
        return self._run(action, load_events, self._tenant, stream_id, start, stop)

    def save_snapshot(self, snapshot: RawEvent) -> None:
        action = f"saving a snapshot of stream {snapshot.stream_id!r}"
        self._write(action, save_snapshot, self._tenant, snapshot)

    def delete_stream(self, stream_id: StreamId) -> None:
        self._run(f"deleting stream {stream_id!r}", delete_stream, self._tenant, stream_id)


class SQLOutboxStrategy(Driver, OutboxStrategy):
    """The outbox table, in the caller's transaction (see `_outbox`)."""

    def put(self, records: Sequence[RecordedRaw]) -> None:
        self._write("writing outbox entries", outbox.outbox_put, records)

    def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        return self._run("claiming outbox entries", outbox.outbox_claim, limit, max_attempts)

    def published(self, entry: OutboxEntry) -> None:
        self._run("removing a published outbox entry", outbox.outbox_published, entry.id)

    def failed(self, entry: OutboxEntry, error: str) -> None:
        self._run("counting a failed publication", outbox.outbox_failed, entry.id, error)

    def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        return self._run("reading dead letters", outbox.outbox_dead_letters, max_attempts, limit)

    def counts(self, max_attempts: int) -> tuple[int, int]:
        return self._run("counting outbox entries", outbox.outbox_counts, max_attempts)

    def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        self._run("retrying outbox entries", outbox.outbox_reset_attempts, entry_ids)

    def remove(self, entry_ids: Sequence[int]) -> None:
        self._run("purging outbox entries", outbox.outbox_remove, entry_ids)


class SQLCheckpointStrategy(Driver, CheckpointStrategy):
    """The projections' checkpoints table, in the caller's transaction (see `_outbox`)."""

    def load(self, name: str) -> int:
        position, identity = self._run(f"loading checkpoint {name!r}", outbox.load_checkpoint, name)
        if identity is not None:
            self._note_identity(identity)
        return position

    def _note_identity(self, identity: int) -> None:
        """Called by `load` with the server's id of the caller's session (see
        `Flavour.session_identity`); a backend whose readers need it keeps it."""

    def save(self, name: str, position: int) -> None:
        self._run(f"saving checkpoint {name!r}", outbox.save_checkpoint, name, position)

    def positions(self) -> dict[str, int]:
        return self._run("reading the checkpoints", outbox.checkpoint_positions)


class SQLKeyStorage(Driver, KeyStorage):
    """Data subjects' keys in the keys table, in the caller's transaction (see `_keys`)."""

    def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        return self._run("reading an encryption key", keys.current_key, subject_id, tenant_id or "")

    def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        return self._run("reading an encryption key", keys.find_key, key_id, tenant_id or "")

    def add(self, key: StoredKey, tenant_id: str | None) -> None:
        self._run("storing an encryption key", keys.add_key, key, tenant_id or "")

    def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        self._run("shredding a data subject", keys.delete_subject, subject_id, tenant_id or "")
