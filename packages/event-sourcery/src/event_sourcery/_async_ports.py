"""The ports an asyncio backend implements: the awaitable twins of the sync ones.

Each method has the contract of its sync namesake (`StorageStrategy`, `LogCursor`,
`SubscriptionStrategy`, `OutboxStrategy.put`), as a coroutine. A driver awaits its I/O and
nothing else: what a result means is decided by the shared rules (`check_append`, the SQL
protocols of `event_sourcery.sql` driven by `drive_async`), never again here.

Cancellation: a coroutine cancelled while it awaits leaves the store as it was before the
call (a driver rolls back to the savepoint or transaction it opened), and its connection usable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Self

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
