"""`StreamSteps`: streams, versions, names, snapshots and deletes on KurrentDB, without I/O.

Versions and revisions. Version n of a stream is KurrentDB revision n - 1 until the stream is
deleted: KurrentDB keeps counting revisions across a soft delete, so a stream re-created after one
starts at a higher revision. Every event's metadata therefore carries its version, and the newest
event (the "head") tells the offset between the two: `Head.revision_of`. An append reads the head
and then appends *expecting the head's revision*: the server checks that expectation atomically,
so there is no window in which another writer could slip in between the read and the write.

Deletes. A soft delete alone would race with appends: KurrentDB accepts an append expecting the
last revision of a soft-deleted stream (it re-creates the stream), so a writer that read the head
just before a delete would land its events in a "new" stream with the old versions. So a delete
first appends a deletion marker expecting the head's revision (a concurrent append now fails
with a version conflict, as on every other backend), then soft-deletes the stream expecting the
marker. A stream whose head is a marker reads as deleted; whoever meets one (a later delete or
append) finishes the delete first, so a delete interrupted between its two steps heals itself.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Generic, Self, TypeVar

from event_sourcery import StreamId
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    IncompatibleUuidAndName,
    StorageError,
)
from event_sourcery.interfaces import (
    MISSING,
    NO_VERSIONING,
    VERSIONLESS,
    ExpectedVersion,
    RawEvent,
    StreamState,
    check_append,
    check_snapshot,
    snapshot_applies,
)
from kurrentdbclient import NewEvent, RecordedEvent
from kurrentdbclient import StreamState as KurrentState

from event_sourcery_kurrentdb import _steps as steps
from event_sourcery_kurrentdb._codec import (
    DELETED,
    Head,
    check_type,
    internal_event,
    metadata_of,
    to_new_event,
    to_raw,
    to_snapshot_event,
)
from event_sourcery_kurrentdb._errors import user_operation
from event_sourcery_kurrentdb._names import NameRegistry
from event_sourcery_kurrentdb._steps import Expected, Steps
from event_sourcery_kurrentdb._streams import metastream, snapshot_stream, stream_name

#: Rounds of read-head-then-append before giving up while other writers keep deleting or
#: appending (versionless appends and deletes retry a lost race; versioned appends never do).
_ROUNDS = 10


def _state(head: Head | None) -> StreamState:
    if head is None or head.deleted:
        return MISSING
    return VERSIONLESS if head.version is None else head.version


def _unreadable(stream: str) -> StorageError:
    return StorageError(
        f"the events appended to stream {stream!r} cannot be read back; if their uuids "
        "were used before in a deleted generation of the stream, append fresh ones"
    )


class StreamSteps:
    """What a `StorageStrategy` on KurrentDB does, for one tenant, as steps (see `_steps`):
    one KurrentDB stream per (tenant, category, uuid). The sync and asyncio strategies run
    these, each method with the contract of its `StorageStrategy` namesake."""

    __slots__ = ("tenant_id",)

    _names = NameRegistry()

    def __init__(self, tenant_id: str | None = None) -> None:
        self.tenant_id = tenant_id

    # --- reading ------------------------------------------------------------------------------

    def _head(self, stream: str) -> Steps[Head | None]:
        records = yield from steps.last(stream)
        return Head.of(records[0]) if records else None

    def _raws(self, records: Sequence[RecordedEvent], stream_id: StreamId) -> list[RawEvent]:
        """User events of one generation of a stream, named with its stored name."""
        if not records or records[-1].type == DELETED:
            return []
        stored = metadata_of(records[-1]) or {}
        named = StreamId(stream_id.uuid, name=stored.get("name"), category=stream_id.category)
        return [to_raw(record, named) for record in records if record.type != DELETED]

    @user_operation(lambda self, stream_id, *_, **__: f"loading stream {stream_id!r}")
    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> Steps[list[RawEvent]]:
        stream = stream_name(stream_id, self.tenant_id)
        if start is None:
            from_snapshot = yield from self._from_snapshot(stream, stream_id, stop)
            if from_snapshot is not None:
                return from_snapshot
            if stop is None:
                return self._raws((yield from steps.read(stream)), stream_id)
        head = yield from self._head(stream)
        if head is None or head.deleted:
            return []
        if head.version is None:  # versionless: no range applies (the core rejects one)
            return self._raws((yield from steps.read(stream)), stream_id)
        low = max(start or 1, 1)
        high = head.version if stop is None else min(head.version, stop - 1)
        if low > high:
            return []
        records = yield from steps.read(
            stream, position=head.revision_of(low), limit=high - low + 1
        )
        named = StreamId(stream_id.uuid, name=head.name, category=stream_id.category)
        return [to_raw(record, named) for record in records]

    def _from_snapshot(
        self, stream: str, stream_id: StreamId, stop: int | None
    ) -> Steps[list[RawEvent] | None]:
        """The snapshot and the events after it; None if no valid snapshot applies."""
        latest = yield from steps.last(snapshot_stream(stream))
        metadata = metadata_of(latest[0]) if latest else None
        if metadata is None:
            return None
        version, revision = metadata["version"], metadata["revision"]
        if not snapshot_applies(version, None, stop):
            return None
        limit = sys.maxsize if stop is None else stop - version
        records = yield from steps.read(stream, position=revision, limit=limit)
        # The snapshot is valid only if the event it was taken at is still there: a snapshot of
        # a deleted generation of the stream (its delete interrupted) is ignored.
        first = metadata_of(records[0]) if records else None
        if (
            first is None
            or records[0].stream_position != revision
            or first.get("version") != version
        ):
            return None
        events = self._raws(records, stream_id)
        if not events:
            return None
        snapshot = to_raw(latest[0], events[0].stream_id, metadata)
        return [snapshot, *events[1:]]

    # --- appending ----------------------------------------------------------------------------

    @user_operation(lambda self, stream_id, *_, **__: f"appending to stream {stream_id!r}")
    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> Steps[list[int]]:
        for raw in events:
            check_type(raw)
        stream = stream_name(stream_id, self.tenant_id)
        for _ in range(_ROUNDS):
            tail = yield from steps.last(stream, len(events) if expected is NO_VERSIONING else 1)
            head = Head.of(tail[0]) if tail else None
            if head is not None and head.deleted:
                yield from self._finish_delete(stream, head, stream_id)
                continue
            state = _state(head)
            if (
                head is not None
                and isinstance(state, int)
                and isinstance(expected, int)
                and expected < state
            ):
                # Behind the head: only a repeat of an append that was stored already (a retry
                # after a lost reply) may succeed. KurrentDB decides it by the event ids.
                return (yield from self._append_repeat(stream, stream_id, head, expected, events))
            check_append(stream_id, state, expected)
            if expected is NO_VERSIONING:
                repeated = self._repeated_tail(tail, events)
                if repeated is not None:
                    return repeated
            positions = yield from self._append(stream, stream_id, head, events)
            if positions is not None:
                return positions
            if expected is not NO_VERSIONING:
                raise (yield from self._conflict(stream, stream_id, expected))
        raise StorageError(f"could not append to stream {stream!r}: it keeps changing")

    def _append(
        self, stream: str, stream_id: StreamId, head: Head | None, events: Sequence[RawEvent]
    ) -> Steps[list[int] | None]:
        """Append after `head`, binding the stream's name first; None on a version conflict."""
        stored = None if head is None else head.name
        given = stream_id.name
        if given is not None and stored is not None and given != stored:
            raise IncompatibleUuidAndName(stream_id.uuid, stored, given)
        bound = False
        if given is not None and stored is None:
            bound = yield from self._names.bind(
                self.tenant_id, stream_id.category, given, stream_id.uuid
            )
        name = stored or given
        records = [to_new_event(raw, self.tenant_id, name) for raw in events]
        expected: Expected = KurrentState.NO_STREAM if head is None else head.revision
        try:
            since = (yield from self._metadata_position(stream)) if head is None else None
            position = yield from steps.append(stream, expected, records)
        except Exception:
            if bound:
                yield from self._release(stream_id, given)
            raise
        if position is None:
            if bound:
                yield from self._release(stream_id, given)
            return None
        if head is None:
            return (yield from self._created(stream, records, position, since))
        return (yield from self._positions(stream, head.revision + 1, records, position))

    def _append_repeat(
        self,
        stream: str,
        stream_id: StreamId,
        head: Head,
        expected: int,
        events: Sequence[RawEvent],
    ) -> Steps[list[int]]:
        revision = head.revision_of(expected)
        records = [to_new_event(raw, self.tenant_id, head.name) for raw in events]
        position = yield from steps.append(
            stream, KurrentState.NO_STREAM if revision < 0 else revision, records
        )
        if position is None:
            raise ConcurrentStreamWriteError(stream_id, expected, head.version)
        return (yield from self._positions(stream, revision + 1, records, None))

    def _repeated_tail(
        self, tail: Sequence[RecordedEvent], events: Sequence[RawEvent]
    ) -> list[int] | None:
        """Positions of `events` if they are the stream's newest events already (a re-sent
        versionless append), else None."""
        if len(tail) != len(events) or [r.id for r in reversed(tail)] != [e.uuid for e in events]:
            return None
        return [record.commit_position for record in reversed(tail)]

    def _positions(
        self, stream: str, first: int, records: Sequence[NewEvent], last: int | None
    ) -> Steps[list[int]]:
        """Commit positions of `records`, appended from revision `first` (or after a delete)."""
        if len(records) == 1 and last is not None:
            return [last]
        # A stream re-created after a delete starts at a revision we do not know; reading from
        # `first` (0 then) starts at the new generation, as KurrentDB hides what came before.
        stored = list((yield from steps.read(stream, position=first, limit=len(records))))
        if [r.id for r in stored] != [r.id for r in records]:
            stored = yield from self._find(stream, records)
        return [record.commit_position for record in stored]

    def _find(self, stream: str, records: Sequence[NewEvent]) -> Steps[list[RecordedEvent]]:
        wanted = {record.id for record in records}
        stored = yield from steps.read(stream)
        found = {r.id: r for r in stored if r.id in wanted}
        if len(found) != len(wanted):
            raise _unreadable(stream)
        return [found[record.id] for record in records]

    # Appending to a stream that does not exist (new, or deleted) expects "no stream", and
    # KurrentDB then takes events whose ids match the first events of a deleted generation of
    # the stream for a repeat of that old append: it stores nothing and succeeds. The stream's
    # state afterwards cannot tell that from our events being stored and then deleted by another
    # writer before we read them back: only *when* they were written can. So the position of
    # the newest write to the stream's metadata (a soft delete sets `$tb`, a re-creation moves
    # it) is read before appending, and our events are new exactly when the append's position
    # is above it. KurrentDB answers such a repeat with no position (kurrentdbclient reads 0);
    # a server answering with the repeated events' position would give one below the delete
    # that hid them, which we had seen. Events of ours lie above it, whoever deletes them later.

    def _metadata_position(self, stream: str) -> Steps[int | None]:
        """Commit position of the newest write to the stream's metadata; None if none."""
        records = yield from steps.last(metastream(stream))
        return records[0].commit_position if records else None

    def _created(
        self, stream: str, records: Sequence[NewEvent], last: int, since: int | None
    ) -> Steps[list[int]]:
        """Positions of `records`, appended expecting "no stream" at position `last`; `since`
        is `_metadata_position` read before the append.

        Raises:
            StorageError: nothing was stored: the ids repeat a deleted generation's first events.
        """
        if last <= (since or 0):
            # Nothing stored: a repeat, of an append still in the stream (its positions are read
            # there), or of a deleted generation's (not found there: `StorageError`).
            return (yield from self._positions(stream, 0, records, None))
        if len(records) == 1:
            return [last]
        # A re-created stream starts at a revision we do not know; reading from 0 starts at the
        # new generation, as KurrentDB hides what came before.
        stored = list((yield from steps.read(stream, position=0, limit=len(records))))
        if [r.id for r in stored] == [r.id for r in records]:
            return [record.commit_position for record in stored]
        # Another writer deleted our events already (they were stored: `last` is above
        # `since`). `$all` keeps them until a scavenge: the positions are read there.
        return (yield from self._in_log(stream, records, last))

    def _in_log(self, stream: str, records: Sequence[NewEvent], last: int) -> Steps[list[int]]:
        """Commit positions of `records`, the newest at `last`, as `$all` holds them.

        One append is atomic, so the others are the stream's records right below `last`.
        """
        earlier = list(reversed((yield from steps.read_log_back(stream, last, len(records) - 1))))
        if [r.id for r in earlier] != [r.id for r in records[:-1]]:
            raise _unreadable(stream)
        return [*(record.commit_position for record in earlier), last]

    def _conflict(
        self, stream: str, stream_id: StreamId, expected: int
    ) -> Steps[ConcurrentStreamWriteError]:
        state = _state((yield from self._head(stream)))
        actual = state if isinstance(state, int) else None
        return ConcurrentStreamWriteError(stream_id, expected, actual)

    def _release(self, stream_id: StreamId, name: str | None) -> Steps[None]:
        if name is not None:
            (
                yield from self._names.release(
                    self.tenant_id, stream_id.category, name, stream_id.uuid
                )
            )

    @user_operation(lambda self: "reading the store's position")
    def current_position(self) -> Steps[int]:
        # KurrentDB commits in order, so the newest event is a safe start: nothing lower can
        # still appear. `$`-typed records (system events, our own bookkeeping) do not count.
        return (yield from steps.commit_position())

    # --- snapshots ----------------------------------------------------------------------------

    @user_operation(lambda self, snapshot: f"saving a snapshot of stream {snapshot.stream_id!r}")
    def save_snapshot(self, snapshot: RawEvent) -> Steps[None]:
        stream_id = snapshot.stream_id
        stream = stream_name(stream_id, self.tenant_id)
        head = yield from self._head(stream)
        check_snapshot(stream_id, _state(head), snapshot.version)
        assert head is not None
        record = to_snapshot_event(snapshot, self.tenant_id, head.revision)
        target = snapshot_stream(stream)
        yield from steps.append(target, KurrentState.ANY, [record])
        yield from self._keep_one(target)

    def _keep_one(self, target: str) -> Steps[None]:
        """Let KurrentDB scavenge older snapshots (`$maxCount` 1), keeping other metadata."""
        metadata, revision = yield from steps.metadata(target)
        if metadata.get("$maxCount") != 1:
            # Best effort: losing a race with another writer only leaves an older snapshot.
            yield from steps.set_metadata(target, {**metadata, "$maxCount": 1}, revision)

    # --- deleting -----------------------------------------------------------------------------

    @user_operation(lambda self, stream_id: f"deleting stream {stream_id!r}")
    def delete_stream(self, stream_id: StreamId) -> Steps[None]:
        stream = stream_name(stream_id, self.tenant_id)
        for _ in range(_ROUNDS):
            head = yield from self._head(stream)
            if head is None:
                return
            if not head.deleted:
                marker = internal_event(DELETED, {}, name=head.name)
                if (yield from steps.append(stream, head.revision, [marker])) is None:
                    continue  # an append came first: delete the stream with it
                head = Head(head.revision + 1, None, head.name, deleted=True)
            yield from self._finish_delete(stream, head, stream_id)
            return
        raise StorageError(f"could not delete stream {stream!r}: it keeps changing")

    def _finish_delete(self, stream: str, marker: Head, stream_id: StreamId) -> Steps[None]:
        """The second step of a delete whose marker is the stream's head."""
        yield from steps.delete(stream, marker.revision)
        yield from steps.delete(snapshot_stream(stream), KurrentState.ANY)
        yield from self._release(stream_id, marker.name)


D = TypeVar("D")


class OnStreams(Generic[D]):
    """What the sync and asyncio storage strategies hold: a driver and the `StreamSteps` of
    one tenant; `scoped_for_tenant` gives another tenant's."""

    def __init__(self, connection: D, tenant_id: str | None = None) -> None:
        self._connection = connection
        self._steps = StreamSteps(tenant_id)
        self.tenant_id = tenant_id

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self._connection, tenant_id)
