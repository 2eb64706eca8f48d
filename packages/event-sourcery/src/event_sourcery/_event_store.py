"""The EventStore: the typed API over a backend's `StorageStrategy`."""

from __future__ import annotations

from typing import Any, overload

from event_sourcery._codec import serialize, serialize_all
from event_sourcery._encryption import Encryption
from event_sourcery._event import Context, TEvent, WrappedEvent
from event_sourcery._fast_decode import deserialize_all
from event_sourcery._listeners import InTransactionListeners
from event_sourcery._loaded import LoadedStream, check_event_types, check_instances
from event_sourcery._outbox import OutboxConfig, OutboxStrategy
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import Recorded, RecordedRaw
from event_sourcery._registry import EventRegistry
from event_sourcery._storage import StorageStrategy
from event_sourcery._stream_id import StreamId
from event_sourcery._tracing import NO_INSTRUMENTATION, Instrumentation, ambient_context
from event_sourcery._versioning import (
    ExpectedVersion,
    check_expected,
    check_unique_event_ids,
    check_version_arg,
    new_versions,
)
from event_sourcery.exceptions import (
    InvalidEvent,
    InvalidStreamId,
    VersionRangeOnVersionlessStream,
)


def _check_stream_id(stream_id: object) -> StreamId:
    if not isinstance(stream_id, StreamId):
        raise InvalidStreamId(
            f"stream_id must be a StreamId, got {type(stream_id).__name__}; "
            "wrap a uuid as StreamId(uuid)"
        )
    return stream_id


def _check_range(start: object, stop: object) -> None:
    if start is not None:
        check_version_arg(start, "start")
    if stop is not None:
        check_version_arg(stop, "stop")


def _attributes(stream_id: StreamId) -> dict[str, str]:
    return {
        "event_sourcery.stream": str(stream_id),
        "event_sourcery.category": stream_id.category or "",
    }


def _default_context(instrumentation: Instrumentation) -> Context | None:
    """The context of events appended without one: their cause's, and the trace context."""
    context = ambient_context()
    carrier = instrumentation.carrier()
    if not carrier:
        return context
    fields = context.model_dump() if context is not None else {}
    return Context(**fields, trace=carrier)


class EventStore:
    """Loads and appends the events of streams, in one tenant of one backend.

    Get it from a backend (`backend.event_store`); it holds no state of its own, so it is as
    cheap as the backend that made it.
    """

    __slots__ = (
        "_encryption",
        "_instrumentation",
        "_listeners",
        "_outbox",
        "_registry",
        "_storage",
    )

    def __init__(
        self,
        storage: StorageStrategy,
        registry: EventRegistry,
        *,
        listeners: InTransactionListeners | None = None,
        outbox: tuple[OutboxStrategy, OutboxConfig] | None = None,
        encryption: Encryption | None = None,
        instrumentation: Instrumentation = NO_INSTRUMENTATION,
    ) -> None:
        self._storage = storage
        self._registry = registry
        self._listeners = listeners
        self._outbox = outbox
        self._encryption = encryption
        self._instrumentation = instrumentation

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
        _check_stream_id(stream_id)
        classes = None if of is None else check_event_types(of)
        registry, encryption, tenant = self._registry, self._encryption, self._storage.tenant_id
        with self._instrumentation.span("event_sourcery.load_stream", _attributes(stream_id)):
            raws = self.load_stream_raw(stream_id, start, stop)
            events = deserialize_all(raws, registry, encryption, tenant)
        if classes is not None:
            check_instances(events, classes, stream_id)
        return LoadedStream.of(events)

    def load_stream_raw(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        """Like `load_stream`, but the stored form: readable without the events' classes."""
        _check_stream_id(stream_id)
        _check_range(start, stop)
        raws = self._storage.fetch_events(stream_id, start, stop)
        if (start is not None or stop is not None) and raws and raws[0].version is None:
            raise VersionRangeOnVersionlessStream(stream_id)
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
        _check_stream_id(stream_id)
        expected = check_expected(expected_version)
        if not events:
            return
        with self._instrumentation.span("event_sourcery.append", _attributes(stream_id)):
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
        stream_id = _check_stream_id(events[0].stream_id)
        versions = new_versions(expected, len(events))
        for raw, version in zip(events, versions, strict=True):
            if not isinstance(raw, RawEvent) or raw.stream_id != stream_id:
                raise InvalidEvent("append_raw takes RawEvents of one stream")
            if raw.version != version:
                raise InvalidEvent(
                    f"event {raw.uuid} of stream {stream_id!r} has version {raw.version}; "
                    f"an append at {expected!r} gives it {version}"
                )
        check_unique_event_ids(stream_id, [raw.uuid for raw in events])
        with self._instrumentation.span("event_sourcery.append", _attributes(stream_id)):
            return self._storage.insert_events(stream_id, expected, list(events))

    def _append(
        self, events: tuple[Any, ...], stream_id: StreamId, expected: ExpectedVersion
    ) -> None:
        registry, encryption, tenant = self._registry, self._encryption, self._storage.tenant_id
        default = _default_context(self._instrumentation)
        versions = new_versions(expected, len(events))
        raws = serialize_all(events, stream_id, versions, registry, encryption, tenant, default)
        # Before any I/O: an id twice in one append could never be a re-send of it.
        check_unique_event_ids(stream_id, [raw.uuid for raw in raws])
        positions = self._storage.insert_events(stream_id, expected, raws)
        if self._listeners or self._outbox:
            self._after_insert(events, raws, positions)

    def _after_insert(
        self, events: tuple[Any, ...], raws: list[RawEvent], positions: list[int]
    ) -> None:
        """Outbox entries and listeners, still inside the append's transaction."""
        tenant = self._storage.tenant_id
        records = [
            RecordedRaw(raw, position, tenant)
            for raw, position in zip(raws, positions, strict=True)
        ]
        typed = [
            Recorded(
                wrapped_event=WrappedEvent.wrap(
                    event.event if isinstance(event, WrappedEvent) else event,
                    raw.version,
                    uuid=raw.uuid,
                    created_at=raw.created_at,
                    context=Context.model_validate(raw.context) if raw.context else None,
                ),
                stream_id=raw.stream_id,
                position=position,
                tenant_id=tenant,
            )
            for event, raw, position in zip(events, raws, positions, strict=True)
        ]
        if self._outbox is not None:
            strategy, config = self._outbox
            chosen = [
                record
                for record, recorded in zip(records, typed, strict=True)
                if config.filterer is None or config.filterer(recorded)
            ]
            if chosen:
                strategy.put(chosen)
        if self._listeners:
            self._listeners.dispatch(typed)

    def save_snapshot(self, stream_id: StreamId, snapshot: WrappedEvent[Any]) -> None:
        """Save the state of a stream at its current version.

        `snapshot.version` must equal the stream's current version (`InvalidSnapshot`
        otherwise). `load_stream` then starts from the snapshot.
        """
        _check_stream_id(stream_id)
        if not isinstance(snapshot, WrappedEvent):
            raise InvalidEvent(
                f"a snapshot must be a WrappedEvent (WrappedEvent.wrap(state, version)), "
                f"got {type(snapshot).__name__}"
            )
        if snapshot.version is None:
            raise InvalidEvent("a snapshot needs the version it was taken at")
        check_version_arg(snapshot.version, "snapshot version")
        self._storage.save_snapshot(
            serialize(
                snapshot,
                stream_id,
                snapshot.version,
                self._registry,
                self._encryption,
                self._storage.tenant_id,
            )
        )

    def delete_stream(self, stream_id: StreamId) -> None:
        """Remove a stream with its events and snapshot; no-op if it does not exist."""
        self._storage.delete_stream(_check_stream_id(stream_id))

    @property
    def position(self) -> int:
        """Global position of the newest stored event (all tenants); 0 for an empty store.

        Safe as a subscription start: every event with a lower position is visible already or
        will never appear (backends with concurrent writers wait for transactions in flight).
        Positions are never reused, but deleting the newest events lowers this value.
        """
        return self._storage.current_position()
