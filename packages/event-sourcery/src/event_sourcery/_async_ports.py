"""The ports an asyncio backend implements: the awaitable twins of the sync ones.

Each method has the contract of its sync namesake (`StorageStrategy`, `LogCursor`,
`SubscriptionStrategy`, `OutboxStrategy`, `CheckpointStrategy`), as a coroutine. A driver
awaits its I/O and nothing else: what a result means is decided by the shared rules
(`check_append`, the SQL protocols of `event_sourcery.sql` driven by `drive_async`), never
again here.

Cancellation: a coroutine cancelled while it awaits leaves the store as it was before the
call (a driver rolls back to the savepoint or transaction it opened), and its connection usable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Self

from event_sourcery._outbox import OutboxEntry
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import RecordedRaw
from event_sourcery._stream_id import StreamId
from event_sourcery._subscription import SubscriptionFilter
from event_sourcery._versioning import ExpectedVersion


class AsyncStorageStrategy(ABC):
    """Stores raw events of streams for one tenant; `StorageStrategy`'s contract, awaited."""

    tenant_id: str | None

    @abstractmethod
    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        """A strategy over the same storage for `tenant_id` (already validated); no I/O."""

    @abstractmethod
    async def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        """The stream's events in version order (snapshot first if it applies); `[]` if none."""

    @abstractmethod
    async def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        """Append `events` atomically and return their positions (see `StorageStrategy`).

        Raises `ConcurrentStreamWriteError`, `VersioningMismatch`, `DuplicateEventId` or a
        name clash, storing nothing; a cancelled call stores nothing either.
        """

    @abstractmethod
    async def save_snapshot(self, snapshot: RawEvent) -> None:
        """Replace the stream's snapshot; `check_snapshot` decides if it may be saved."""

    @abstractmethod
    async def delete_stream(self, stream_id: StreamId) -> None:
        """Remove the stream, its events and snapshot in this tenant; no-op if absent."""

    @abstractmethod
    async def current_position(self) -> int:
        """Global position of the newest stored event, across tenants, safe to start from."""


class AsyncLogCursor(ABC):
    """One reader's place in the global log; used by one task at a time."""

    @abstractmethod
    async def fetch(self, limit: int) -> list[RecordedRaw]:
        """The next gap-free records matching the filter, oldest first; `[]` if none now."""

    @property
    @abstractmethod
    def position(self) -> int:
        """Every record up to this position was returned or did not match the filter."""

    @abstractmethod
    async def wait(self, timeout: float) -> None:
        """Return when new records may be available, or after `timeout` seconds.

        Must not block the event loop: await a notification or sleep.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most cursors hold nothing
        """Release what the cursor holds (connections, listeners); called on cancellation too."""


class AsyncSubscriptionStrategy(ABC):
    """The port an asyncio backend implements for subscriptions."""

    @abstractmethod
    def open(self, after: int, subscription_filter: SubscriptionFilter) -> AsyncLogCursor:
        """A cursor over records with position > `after` matching the filter; no I/O yet."""


class AsyncOutboxWriter(ABC):
    """The write side of the outbox, as an append needs it inside its transaction."""

    @abstractmethod
    async def put(self, records: Sequence[RecordedRaw]) -> None:
        """Store `records` as new outbox entries, in the append's transaction."""


class AsyncOutboxStrategy(AsyncOutboxWriter):
    """The port an asyncio backend implements for the outbox relay: `OutboxStrategy`'s
    contract (store-wide: every tenant's entries), each method a coroutine."""

    @abstractmethod
    async def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        """Up to `limit` entries with fewer than `max_attempts` failures, oldest first; entries
        another worker's open transaction claimed are skipped."""

    @abstractmethod
    async def published(self, entry: OutboxEntry) -> None:
        """Remove an entry after its publication succeeded."""

    @abstractmethod
    async def failed(self, entry: OutboxEntry, error: str) -> None:
        """Count a failed publication of `entry`, keeping it."""

    async def release(self, entries: Sequence[OutboxEntry]) -> None:
        """Give up claimed entries that were not processed (a run was interrupted).

        Transactional backends need nothing here: the transaction's end releases them.
        """

    @abstractmethod
    async def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        """Entries that failed `max_attempts` times or more, oldest first; `[]` if none."""

    @abstractmethod
    async def counts(self, max_attempts: int) -> tuple[int, int]:
        """``(pending, dead)``: entries with fewer than `max_attempts` failures, and the others."""

    @abstractmethod
    async def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        """Give these entries a fresh set of attempts."""

    @abstractmethod
    async def remove(self, entry_ids: Sequence[int]) -> None:
        """Delete these entries without publishing them."""


class AsyncCheckpointStrategy(ABC):
    """The port an asyncio backend implements for projection checkpoints: `CheckpointStrategy`'s
    contract, each method a coroutine."""

    @abstractmethod
    async def load(self, name: str) -> int:
        """The checkpoint `name` (0 if new), locked for the current transaction: a second
        worker asking for it waits until the first transaction ends."""

    @abstractmethod
    async def save(self, name: str, position: int) -> None:
        """Store the checkpoint in the current transaction."""

    @abstractmethod
    async def positions(self) -> dict[str, int]:
        """Every stored checkpoint by projection name, read without locking; {} if none."""
