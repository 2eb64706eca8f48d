"""The in-memory event log: one ordered list of records (``$all``) and an index per stream.

Thread safety: every method takes the one condition lock, so each append, delete and read sees
and leaves a consistent log; gRPC runs handlers on a thread pool. Subscriptions wait on the same
condition for records past their cursor, which is why live delivery has neither gaps nor
duplicates: the log is append-only and a cursor is a position in it.
"""

from __future__ import annotations

import bisect
import json
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kurrentdb_emulator._checks import Repeat, StreamState, check_commit
from kurrentdb_emulator._metadata import (
    METASTREAM_METADATA,
    StreamMetadata,
    parse_metadata,
    with_truncate_before,
)
from kurrentdb_emulator._records import (
    DELETED_STREAM,
    JSON,
    METADATA_EVENT_TYPE,
    NO_STREAM,
    OCTET_STREAM,
    TOMBSTONE_EVENT_TYPE,
    AppendResult,
    AppendTooLarge,
    InvalidPosition,
    ProposedEvent,
    Record,
    StreamDeleted,
    WrongExpectedVersion,
    is_metastream,
    metastream_of,
    ticks_now,
)
from kurrentdb_emulator._start_up import start_up_events

DEFAULT_MAX_APPEND_SIZE = 1_048_576
"""KurrentDB's default limit on the bytes of one append."""

# A real log starts with a chunk header and an epoch record, so no event sits at position 0;
# clients that treat 0 as "nothing read yet" rely on that.
_FIRST_POSITION = 512


@dataclass(slots=True)
class _Stream:
    events: list[Record] = field(default_factory=list)
    tombstoned: bool = False


class EventLog:
    """Every recorded event, in memory, with KurrentDB's append, delete and read semantics."""

    def __init__(self, *, max_append_size: int = DEFAULT_MAX_APPEND_SIZE) -> None:
        """Create a log holding only the system events a fresh server writes at start-up.

        Args:
            max_append_size: The most bytes (data, metadata and type) one append may carry.
        """
        self._condition = threading.Condition()
        self._max_append_size = max_append_size
        self._records: list[Record] = []
        self._positions: list[int] = []
        self._streams: dict[str, _Stream] = {}
        self._metadata: dict[str, StreamMetadata] = {}
        self._recorded_ids: dict[str, tuple[str, int]] = {}
        self._next_position = _FIRST_POSITION
        self._closed = False
        self.node_id = str(uuid.uuid4())
        self._write_start_up_events()

    # --- writes -------------------------------------------------------------------------------

    def append(self, stream: str, expected: int, events: Sequence[ProposedEvent]) -> AppendResult:
        """Append ``events`` atomically, or recognise them as already appended.

        Returns:
            The stream's new last revision and the position of the last appended (or matched)
            event; the position is None when nothing was written or matched.

        Raises:
            StreamDeleted: The stream is tombstoned, or soft-deleted and ``expected`` is
                ``STREAM_EXISTS``.
            WrongExpectedVersion: See :func:`kurrentdb_emulator._checks.check_commit`.
            AppendTooLarge: The events exceed the maximum append size.
        """
        if sum(event.size for event in events) > self._max_append_size:
            raise AppendTooLarge(self._max_append_size)
        with self._condition:
            target = self._live_stream(stream)
            state = self._state(stream, target)
            decision = check_commit(state, expected, events, self._recorded_ids)
            if isinstance(decision, Repeat):
                # KurrentDB answers a repeat on a soft-deleted stream with no position: the
                # events it matched are deleted (its test "when soft deleted stream is written
                # to idempotently" asserts a log position of -1).
                matched = target.events[decision.last_revision].position
                return AppendResult(decision.last_revision, None if state.soft_deleted else matched)
            if not events:
                return AppendResult(state.current, None)
            first_new = state.current + 1
            for event in events:
                last = self._write(stream, len(target.events), event)
            if state.soft_deleted:
                # Appending to a soft-deleted stream re-creates it: its metadata gets $tb at the
                # first new event, so reads show only what came after the delete.
                self._write_metadata(
                    stream, with_truncate_before(self._raw_metadata(stream), first_new)
                )
            self._condition.notify_all()
            return AppendResult(last.revision, last.position)

    def delete(self, stream: str, expected: int) -> int:
        """Soft-delete ``stream``: its metadata gets ``$tb`` = Int64.MaxValue (other keys dropped).

        Returns:
            The position of the metadata event written.

        Raises:
            StreamDeleted: The stream is tombstoned (or soft-deleted, for ``STREAM_EXISTS``).
            WrongExpectedVersion: The stream's version conflicts with ``expected``, or the stream
                has no events.
        """
        with self._condition:
            target = self._live_stream(stream)
            if not target.events:
                # KurrentDB refuses to soft-delete a stream without events, whatever the
                # expected version ("Actual version: -1", which clients read as not found).
                raise WrongExpectedVersion(stream, expected, NO_STREAM)
            check_commit(
                self._state(stream, target), expected, [_delete_marker()], self._recorded_ids
            )
            record = self._write_metadata(stream, json.dumps({"$tb": DELETED_STREAM}).encode())
            self._condition.notify_all()
            return record.position

    def tombstone(self, stream: str, expected: int) -> int:
        """Hard-delete ``stream``: a ``$streamDeleted`` record; the name can never be used again.

        Returns:
            The position of the tombstone record.

        Raises:
            StreamDeleted: The stream is already tombstoned (or soft-deleted, for
                ``STREAM_EXISTS``).
            WrongExpectedVersion: The stream's version conflicts with ``expected``.
        """
        with self._condition:
            target = self._live_stream(stream)
            check_commit(
                self._state(stream, target), expected, [_delete_marker()], self._recorded_ids
            )
            tombstone = ProposedEvent(
                str(uuid.uuid4()), TOMBSTONE_EVENT_TYPE, OCTET_STREAM, b"", b""
            )
            record = self._write(stream, DELETED_STREAM, tombstone)
            target.tombstoned = True
            self._condition.notify_all()
            return record.position

    # --- reads --------------------------------------------------------------------------------

    def read_stream(
        self, stream: str, *, revision: int | None, backwards: bool, limit: int
    ) -> list[Record] | None:
        """The visible events of ``stream`` from ``revision`` (inclusive) in the given direction.

        Args:
            stream: The stream name.
            revision: Where to start; None means the first event (forwards) or the last
                (backwards).
            backwards: Read towards lower revisions.
            limit: The most events to return.

        Returns:
            The events, or None if the stream does not exist (no events, or soft-deleted).
            A stream whose events are all truncated by its metadata reads as empty, not None.

        Raises:
            StreamDeleted: The stream is tombstoned.
        """
        with self._condition:
            if self._is_tombstoned(stream):
                raise StreamDeleted(stream)
            found = self._streams.get(stream)
            metadata = self.metadata_of(stream)
            if found is None or not found.events or metadata.is_soft_deleted:
                return None
            last = len(found.events) - 1
            first = metadata.first_visible_revision(last)
            if backwards:
                start = last if revision is None else min(revision, last)
                candidates = (found.events[n] for n in range(start, first - 1, -1))
            else:
                start = first if revision is None else max(first, revision)
                candidates = (found.events[n] for n in range(start, last + 1))
            now = ticks_now()
            selected: list[Record] = []
            for record in candidates:
                if len(selected) >= limit:
                    break
                if metadata.is_visible(record, last, now=now):
                    selected.append(record)
            return selected

    def read_all(
        self,
        *,
        position: int | None,
        backwards: bool,
        limit: int,
        matches: Callable[[Record], bool],
    ) -> list[Record]:
        """The records of ``$all`` that ``matches`` accepts, from ``position``.

        Forwards, the record at ``position`` is included; backwards, it is not (KurrentDB's
        rule). Stream metadata does not hide records from ``$all``, as in KurrentDB before a
        scavenge.

        Args:
            position: Where to start; None means the start (forwards) or the end (backwards).
            backwards: Read towards lower positions.
            limit: The most records to return.
            matches: The filter.

        Raises:
            InvalidPosition: ``position`` is neither 0 nor a recorded event's position.
        """
        with self._condition:
            if position is not None:
                self._check_position(position)
            if backwards:
                end = (
                    len(self._records)
                    if position is None
                    else bisect.bisect_left(self._positions, position)
                )
                candidates = reversed(self._records[:end])
            else:
                start = 0 if position is None else bisect.bisect_left(self._positions, position)
                candidates = iter(self._records[start:])
        selected: list[Record] = []
        for record in candidates:
            if len(selected) >= limit:
                break
            if matches(record):
                selected.append(record)
        return selected

    def records_after(self, position: int, limit: int) -> list[Record]:
        """Up to ``limit`` records of ``$all`` after ``position``, for subscriptions."""
        with self._condition:
            start = bisect.bisect_right(self._positions, position)
            return self._records[start : start + limit]

    def stream_events_after(self, stream: str, revision: int) -> tuple[list[Record], int]:
        """The visible events of ``stream`` after ``revision``, for stream subscriptions.

        Returns:
            The events, and the last revision looked at (the subscription's next cursor).

        Raises:
            StreamDeleted: The stream is tombstoned.
        """
        with self._condition:
            if self._is_tombstoned(stream):
                raise StreamDeleted(stream)
            found = self._streams.get(stream)
            if found is None:
                return [], revision
            last = len(found.events) - 1
            metadata = self.metadata_of(stream)
            if metadata.is_soft_deleted:
                return [], max(revision, last)
            now = ticks_now()
            events = [
                record
                for record in found.events[revision + 1 :]
                if metadata.is_visible(record, last, now=now)
            ]
            return events, max(revision, last)

    def check_position(self, position: int) -> None:
        """Raise InvalidPosition unless ``position`` is 0 or a recorded event's position."""
        with self._condition:
            self._check_position(position)

    def metadata_of(self, stream: str) -> StreamMetadata:
        """The honoured metadata of ``stream`` (a metastream keeps only its newest event)."""
        if is_metastream(stream):
            return METASTREAM_METADATA
        with self._condition:
            return self._metadata.get(stream, StreamMetadata())

    @property
    def head(self) -> int:
        """The position of the newest record."""
        with self._condition:
            return self._records[-1].position

    def last_revision(self, stream: str) -> int:
        """The last revision of ``stream``, or ``NO_STREAM``."""
        with self._condition:
            found = self._streams.get(stream)
            return NO_STREAM if found is None else len(found.events) - 1

    # --- waiting ------------------------------------------------------------------------------

    def wait_beyond(self, position: int, timeout: float) -> bool:
        """Wait until a record past ``position`` exists, the log closes, or ``timeout`` passes.

        Returns:
            Whether the log is still open.
        """
        with self._condition:
            self._condition.wait_for(
                lambda: self._closed or self._records[-1].position > position, timeout
            )
            return not self._closed

    def wake(self) -> None:
        """Wake every waiter so it can re-check its own reason to stop (a cancelled call)."""
        with self._condition:
            self._condition.notify_all()

    def close(self) -> None:
        """Make every waiter return: the server is stopping."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    # --- internals ----------------------------------------------------------------------------

    def _is_tombstoned(self, stream: str) -> bool:
        """Whether ``stream``, or the stream whose metadata it holds, is tombstoned.

        KurrentDB answers a read of a hard-deleted stream's metastream as it answers the
        stream itself: the metadata is gone with it.
        """
        names = (stream, stream[2:]) if is_metastream(stream) else (stream,)
        return any(
            (found := self._streams.get(name)) is not None and found.tombstoned for name in names
        )

    def _live_stream(self, stream: str) -> _Stream:
        found = self._streams.setdefault(stream, _Stream())
        if found.tombstoned:
            raise StreamDeleted(stream)
        return found

    def _state(self, stream: str, target: _Stream) -> StreamState:
        meta = self._streams.get(metastream_of(stream))
        return StreamState(
            name=stream,
            events=target.events,
            soft_deleted=self.metadata_of(stream).is_soft_deleted,
            has_metadata=meta is not None and bool(meta.events),
        )

    def _check_position(self, position: int) -> None:
        index = bisect.bisect_left(self._positions, position)
        if position != 0 and (index == len(self._positions) or self._positions[index] != position):
            raise InvalidPosition(f"no event at commit position {position}")

    def _write(self, stream: str, revision: int, event: ProposedEvent) -> Record:
        record = Record(
            position=self._next_position,
            stream=stream,
            revision=revision,
            event_id=event.event_id,
            type=event.type,
            is_json=event.content_type == JSON,
            data=event.data,
            metadata=event.metadata,
            created=ticks_now(),
        )
        # Positions are byte offsets in a real log: strictly increasing, with gaps.
        self._next_position += 64 + len(stream) + event.size
        self._records.append(record)
        self._positions.append(record.position)
        if revision != DELETED_STREAM:
            self._streams.setdefault(stream, _Stream()).events.append(record)
            self._recorded_ids[record.event_id] = (stream, revision)
        if is_metastream(stream):
            self._metadata[stream[2:]] = parse_metadata(record.data)
        return record

    def _write_metadata(self, stream: str, data: bytes) -> Record:
        metastream = metastream_of(stream)
        event = ProposedEvent(str(uuid.uuid4()), METADATA_EVENT_TYPE, JSON, data, b"")
        return self._write(metastream, self.last_revision(metastream) + 1, event)

    def _raw_metadata(self, stream: str) -> bytes:
        found = self._streams.get(metastream_of(stream))
        return found.events[-1].data if found is not None and found.events else b"{}"

    def _write_start_up_events(self) -> None:
        for stream, event in start_up_events(self.node_id):
            self._write(stream, self.last_revision(stream) + 1, event)


def _delete_marker() -> ProposedEvent:
    # A delete is checked like an append of one event with a fresh id, so it is never a repeat.
    return ProposedEvent(str(uuid.uuid4()), TOMBSTONE_EVENT_TYPE, OCTET_STREAM, b"", b"")
