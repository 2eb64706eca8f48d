"""The port every backend implements for stream storage."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Self

from event_sourcery._raw import RawEvent
from event_sourcery._stream_id import StreamId
from event_sourcery._versioning import ExpectedVersion


class StorageStrategy(ABC):
    """Stores raw events of streams, scoped to one tenant.

    One instance serves one tenant (`tenant_id`, None for the default tenant-less context);
    `scoped_for_tenant` gives another. Streams of different tenants never see each other.
    Stream identity is (tenant, category, uuid). Every method that changes data does so
    atomically within the caller's transaction (where the backend has transactions).
    """

    tenant_id: str | None

    @abstractmethod
    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        """A strategy over the same storage for `tenant_id` (already validated)."""

    @abstractmethod
    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        """The stream's events in version order, `[]` if it does not exist.

        `start` is inclusive and `stop` exclusive, both on versions; events without a version
        (versionless streams) are always included. If `snapshot_applies(...)` holds for the
        stream's snapshot, the snapshot comes first and only events newer than it follow.
        """

    @abstractmethod
    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        """Append `events` (versions already assigned from `expected`); return their positions.

        Atomic: checks the stored state with `check_append` and writes, with no window in
        which a concurrent writer could interleave; raises `ConcurrentStreamWriteError` or a
        `VersioningMismatch` and stores nothing on a mismatch. Creates the stream if needed,
        binding `stream_id.name` (raising `AnotherStreamWithThisNameButOtherIdExists` or
        `IncompatibleUuidAndName` on a clash). `events` is never empty.
        """

    @abstractmethod
    def save_snapshot(self, snapshot: RawEvent) -> None:
        """Replace the stream's snapshot; `check_snapshot` decides if it may be saved."""

    @abstractmethod
    def delete_stream(self, stream_id: StreamId) -> None:
        """Remove the stream, its events and snapshot in this tenant; no-op if absent."""

    @abstractmethod
    def current_position(self) -> int:
        """Global position of the newest stored event, across tenants; 0 if none.

        Must be safe to `start_from`: wait until every transaction in flight (other than the
        caller's own) that could still commit a lower position has ended, as `_gaps` explains.
        """
