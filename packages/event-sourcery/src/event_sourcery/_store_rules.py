"""What the event store decides, with no I/O: shared by `EventStore` and `AsyncEventStore`.

The sync and the async store differ only in how they call their storage (a call or an
`await`). Every decision an append, a load or a snapshot makes (argument checks, versions,
serialisation and encryption, the trace context, which records enter the outbox, what the
listeners see) is a pure function here, called by both stores, in the style of the sans-I/O
protocols of `event_sourcery.sql`. Writing the async store first and generating the sync one
(httpcore's unasync) was the alternative; it was not chosen because the sync store is the
tuned hot path (see docs/performance.md) and a generated twin would copy it, where these
functions keep one body of logic that neither store can drift from.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Generic, Protocol, TypeVar

from event_sourcery._codec import serialize, serialize_all
from event_sourcery._encryption import Encryption
from event_sourcery._event import Context, WrappedEvent
from event_sourcery._fast_decode import deserialize_all
from event_sourcery._listeners import InTransactionListeners
from event_sourcery._loaded import LoadedStream, check_instances
from event_sourcery._outbox import OutboxConfig
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import Recorded, RecordedRaw
from event_sourcery._registry import EventRegistry
from event_sourcery._stream_id import StreamId
from event_sourcery._tracing import NO_INSTRUMENTATION, Instrumentation, ambient_context
from event_sourcery._versioning import (
    ExpectedVersion,
    check_unique_event_ids,
    check_version_arg,
    new_versions,
)
from event_sourcery.exceptions import (
    InvalidEvent,
    InvalidStreamId,
    VersionRangeOnVersionlessStream,
)


def check_stream_id(stream_id: object) -> StreamId:
    """`stream_id` if it is a `StreamId`; `InvalidStreamId` otherwise."""
    if not isinstance(stream_id, StreamId):
        raise InvalidStreamId(
            f"stream_id must be a StreamId, got {type(stream_id).__name__}; "
            "wrap a uuid as StreamId(uuid)"
        )
    return stream_id


def check_range(start: object, stop: object) -> None:
    """`InvalidInput` unless `start` and `stop` are versions or None."""
    if start is not None:
        check_version_arg(start, "start")
    if stop is not None:
        check_version_arg(stop, "stop")


def span_attributes(stream_id: StreamId) -> dict[str, str]:
    """The attributes of an append's or a load's span."""
    return {
        "event_sourcery.stream": str(stream_id),
        "event_sourcery.category": stream_id.category or "",
    }


def default_context(instrumentation: Instrumentation) -> Context | None:
    """The context of events appended without one: their cause's, and the trace context."""
    context = ambient_context()
    carrier = instrumentation.carrier()
    if not carrier:
        return context
    fields = context.model_dump() if context is not None else {}
    return Context(**fields, trace=carrier)


def check_loaded_range(
    raws: list[RawEvent], stream_id: StreamId, start: object, stop: object
) -> None:
    """`VersionRangeOnVersionlessStream` if a range was asked of a versionless stream."""
    if (start is not None or stop is not None) and raws and raws[0].version is None:
        raise VersionRangeOnVersionlessStream(stream_id)


def decode_loaded(
    raws: list[RawEvent],
    stream_id: StreamId,
    classes: tuple[type[Any], ...] | None,
    registry: EventRegistry,
    encryption: Encryption | None,
    tenant_id: str | None,
) -> LoadedStream[Any]:
    """The `LoadedStream` of a load's stored events, checked against `of=`'s classes."""
    events = deserialize_all(raws, registry, encryption, tenant_id)
    if classes is not None:
        check_instances(events, classes, stream_id)
    return LoadedStream.of(events)


def encode_append(
    events: tuple[Any, ...],
    stream_id: StreamId,
    expected: ExpectedVersion,
    registry: EventRegistry,
    encryption: Encryption | None,
    tenant_id: str | None,
    instrumentation: Instrumentation,
) -> list[RawEvent]:
    """The stored form of an append's events, with their versions; checked before any I/O."""
    default = default_context(instrumentation)
    versions = new_versions(expected, len(events))
    raws = serialize_all(events, stream_id, versions, registry, encryption, tenant_id, default)
    # Before any I/O: an id twice in one append could never be a re-send of it.
    check_unique_event_ids(stream_id, [raw.uuid for raw in raws])
    return raws


def check_raw_append(events: Sequence[RawEvent], expected: ExpectedVersion) -> StreamId:
    """The stream of `append_raw`'s events (never empty), checked as its contract says."""
    stream_id = check_stream_id(events[0].stream_id)
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
    return stream_id


def recorded_after_insert(
    events: tuple[Any, ...],
    raws: list[RawEvent],
    positions: list[int],
    tenant_id: str | None,
    outbox: OutboxConfig | None,
) -> tuple[list[RecordedRaw], list[Recorded[Any]]]:
    """What an append hands on inside its transaction: the outbox's records, the listeners'.

    The first list holds the records passing the outbox's filter (empty without an outbox).
    """
    records = [
        RecordedRaw(raw, position, tenant_id) for raw, position in zip(raws, positions, strict=True)
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
            tenant_id=tenant_id,
        )
        for event, raw, position in zip(events, raws, positions, strict=True)
    ]
    if outbox is None:
        return [], typed
    chosen = [
        record
        for record, recorded in zip(records, typed, strict=True)
        if outbox.filterer is None or outbox.filterer(recorded)
    ]
    return chosen, typed


def encode_snapshot(
    stream_id: object,
    snapshot: object,
    registry: EventRegistry,
    encryption: Encryption | None,
    tenant_id: str | None,
) -> RawEvent:
    """The stored form of a snapshot, after `save_snapshot`'s argument checks."""
    checked = check_stream_id(stream_id)
    if not isinstance(snapshot, WrappedEvent):
        raise InvalidEvent(
            f"a snapshot must be a WrappedEvent (WrappedEvent.wrap(state, version)), "
            f"got {type(snapshot).__name__}"
        )
    if snapshot.version is None:
        raise InvalidEvent("a snapshot needs the version it was taken at")
    check_version_arg(snapshot.version, "snapshot version")
    return serialize(snapshot, checked, snapshot.version, registry, encryption, tenant_id)


#: The span of the default instrumentation: it does nothing, and can be entered again.
_NO_SPAN: AbstractContextManager[object] = nullcontext()


class _Scoped(Protocol):
    tenant_id: str | None


TStorage = TypeVar("TStorage", bound=_Scoped)
TOutbox = TypeVar("TOutbox")


class StoreBase(Generic[TStorage, TOutbox]):
    """What `EventStore` and `AsyncEventStore` hold, and the rules above bound to it.

    Holds no I/O: each store calls these between its own calls (or awaits) of `_storage`.
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
        storage: TStorage,
        registry: EventRegistry,
        *,
        listeners: InTransactionListeners | None = None,
        outbox: tuple[TOutbox, OutboxConfig] | None = None,
        encryption: Encryption | None = None,
        instrumentation: Instrumentation = NO_INSTRUMENTATION,
    ) -> None:
        self._storage = storage
        self._registry = registry
        self._listeners = listeners
        self._outbox = outbox
        self._encryption = encryption
        self._instrumentation = instrumentation

    def _span(self, name: str, stream_id: StreamId) -> AbstractContextManager[object]:
        instrumentation = self._instrumentation
        if instrumentation is NO_INSTRUMENTATION:
            # The default records nothing: no attributes to build (the stream id's text) on
            # every append and load.
            return _NO_SPAN
        return instrumentation.span(name, span_attributes(stream_id))

    # `encryption`: `self._encryption`, or (asyncio) the same over the keys fetched for the call.
    def _decode(
        self,
        raws: list[RawEvent],
        stream_id: StreamId,
        classes: tuple[type[Any], ...] | None,
        encryption: Encryption | None,
    ) -> LoadedStream[Any]:
        tenant = self._storage.tenant_id
        return decode_loaded(raws, stream_id, classes, self._registry, encryption, tenant)

    def _encode(
        self,
        events: tuple[Any, ...],
        stream_id: StreamId,
        expected: ExpectedVersion,
        encryption: Encryption | None,
    ) -> list[RawEvent]:
        registry, tenant = self._registry, self._storage.tenant_id
        instrumentation = self._instrumentation
        return encode_append(
            events, stream_id, expected, registry, encryption, tenant, instrumentation
        )

    def _handed_on(
        self, events: tuple[Any, ...], raws: list[RawEvent], positions: list[int]
    ) -> tuple[list[RecordedRaw], list[Recorded[Any]]]:
        """The outbox's records and the listeners' (both `[]` when neither is configured)."""
        if not (self._listeners or self._outbox):
            return [], []
        config = None if self._outbox is None else self._outbox[1]
        chosen, typed = recorded_after_insert(
            events, raws, positions, self._storage.tenant_id, config
        )
        return chosen, typed if self._listeners else []

    def _snapshot(
        self, stream_id: object, snapshot: object, encryption: Encryption | None
    ) -> RawEvent:
        tenant = self._storage.tenant_id
        return encode_snapshot(stream_id, snapshot, self._registry, encryption, tenant)
