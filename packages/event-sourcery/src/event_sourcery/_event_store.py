"""The EventStore: the typed API over a backend's `StorageStrategy`."""

from __future__ import annotations

from typing import Any, overload

from event_sourcery._event import TEvent, WrappedEvent
from event_sourcery._loaded import LoadedStream, check_event_types
from event_sourcery._outbox import OutboxStrategy
from event_sourcery._raw import RawEvent
from event_sourcery._storage import StorageStrategy
from event_sourcery._store_rules import (
    StoreBase,
    check_loaded_range,
    check_range,
    check_raw_append,
    check_stream_id,
)
from event_sourcery._stream_id import StreamId
from event_sourcery._versioning import ExpectedVersion, check_expected


class EventStore(StoreBase[StorageStrategy, OutboxStrategy]):
    """Loads and appends the events of streams, in one tenant of one backend.

    Get it from a backend (`backend.event_store`); it holds no state of its own, so it is as
    cheap as the backend that made it.
    """

    __slots__ = ()

    @overload
    def load_stream(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> LoadedStream[Any]: ...

    @overload
    def load_stream(
        self,
        stream_id: StreamId,
        start: int | None = None,
        stop: int | None = None,
        *,
        of: type[TEvent] | tuple[type[TEvent], ...],
    ) -> LoadedStream[TEvent]: ...

    def load_stream(
        self,
        stream_id: StreamId,
        start: int | None = None,
        stop: int | None = None,
        *,
        of: type[Any] | tuple[type[Any], ...] | None = None,
    ) -> LoadedStream[Any]:
        """The events of a stream, oldest first, and its version; empty if it does not exist.

        Args:
            stream_id: the stream.
            start: first version to return (inclusive).
            stop: version to stop before (exclusive).
            of: the class the events are instances of (say, the base class of an aggregate's
                events), or a tuple of classes: the result is typed with it, and an event of
                another class raises `UnexpectedEventType`. For a union,
                `of=(A, B)` with the result annotated `LoadedStream[A | B]`.

        Returns a `LoadedStream`: a list whose `version` is what the next append expects.
        Without `start`, a snapshot saved with `save_snapshot` comes first, then only newer
        events. Raises `UnknownEventType` for an event whose class is not registered (read it
        with `load_stream_raw`), `VersionRangeOnVersionlessStream` for a range on a versionless
        stream, `InvalidInput` for an `of` that is not `Event` classes.
        """
        check_stream_id(stream_id)
        classes = None if of is None else check_event_types(of)
        with self._span("event_sourcery.load_stream", stream_id):
            return self._decode(
                self.load_stream_raw(stream_id, start, stop), stream_id, classes, self._encryption
            )

    def load_stream_raw(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        """Like `load_stream`, but the stored form: readable without the events' classes."""
        check_stream_id(stream_id)
        check_range(start, stop)
        raws = self._storage.fetch_events(stream_id, start, stop)
        check_loaded_range(raws, stream_id, start, stop)
        return raws

    def append(
        self,
        *events: Any,
        stream_id: StreamId,
        expected_version: ExpectedVersion = 0,
    ) -> None:
        """Append events to a stream, atomically.

        Args:
            events: `Event`s or `WrappedEvent`s (which keep their uuid, created_at, context).
            stream_id: the stream; created by an append with `expected_version=0`.
            expected_version: the stream's current version (0: it must not exist yet), or
                `NO_VERSIONING` for a versionless stream.

        Event ids (`WrappedEvent.uuid`) are unique per tenant. Re-sending a stored append (the
        same events, by id and in order, at the same expected version, after a lost reply)
        stores nothing and succeeds; any other append of a stored id is refused.

        Raises `ConcurrentStreamWriteError` when the stream's version differs from
        `expected_version`, a `VersioningMismatch` when versioned and versionless appends
        are mixed, `DuplicateEventId` when an event id is taken (see above), `InvalidInput`
        subclasses for bad arguments. Nothing is stored on an error.
        """
        check_stream_id(stream_id)
        expected = check_expected(expected_version)
        if not events:
            return
        with self._span("event_sourcery.append", stream_id):
            self._append(events, stream_id, expected)

    def append_raw(self, *events: RawEvent, expected_version: ExpectedVersion = 0) -> list[int]:
        """Store events of one stream in their stored form, exactly as given; their positions.

        The writing twin of `load_stream_raw` and of raw subscriptions, for moving events
        between stores (``event-sourcery copy``): ids, creation times, schema versions, data
        and context are kept as they are, with no event class, no encryption, no listeners and
        no outbox. Every event names the same stream (`RawEvent.stream_id`, with its name and
        category) and carries the version an append at `expected_version` gives it
        (contiguous from `expected_version + 1`, None for `NO_VERSIONING`).

        Raises the errors of `append` (a re-sent append is a no-op there too), and
        `InvalidEvent` for events of several streams or with other versions. `[]` for none.
        """
        expected = check_expected(expected_version)
        if not events:
            return []
        stream_id = check_raw_append(events, expected)
        with self._span("event_sourcery.append", stream_id):
            return self._storage.insert_events(stream_id, expected, list(events))

    def _append(
        self, events: tuple[Any, ...], stream_id: StreamId, expected: ExpectedVersion
    ) -> None:
        raws = self._encode(events, stream_id, expected, self._encryption)
        positions = self._storage.insert_events(stream_id, expected, raws)
        # Still inside the append's transaction: the outbox's entries, then the listeners.
        chosen, typed = self._handed_on(events, raws, positions)
        if chosen and self._outbox is not None:
            self._outbox[0].put(chosen)
        if typed and self._listeners is not None:
            self._listeners.dispatch(typed)

    def save_snapshot(self, stream_id: StreamId, snapshot: WrappedEvent[Any]) -> None:
        """Save the state of a stream at its current version.

        `snapshot.version` must equal the stream's current version (`InvalidSnapshot`
        otherwise). `load_stream` then starts from the snapshot.
        """
        self._storage.save_snapshot(self._snapshot(stream_id, snapshot, self._encryption))

    def delete_stream(self, stream_id: StreamId) -> None:
        """Remove a stream with its events and snapshot; no-op if it does not exist."""
        self._storage.delete_stream(check_stream_id(stream_id))

    @property
    def position(self) -> int:
        """Global position of the newest stored event (all tenants); 0 for an empty store.

        Safe as a subscription start: every event with a lower position is visible already or
        will never appear (backends with concurrent writers wait for transactions in flight).
        Positions are never reused, but deleting the newest events lowers this value.
        """
        return self._storage.current_position()
