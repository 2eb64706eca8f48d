"""Event Sourcery: event sourcing, event-driven architecture and CQRS for Python."""

from event_sourcery._async_backend import AsyncBackend
from event_sourcery._async_event_store import AsyncEventStore
from event_sourcery._async_projection import AsyncProjector
from event_sourcery._async_subscription import AsyncSubscriber
from event_sourcery._backend import Backend, BackendConfig
from event_sourcery._event import Context, Event, WrappedEvent
from event_sourcery._event_store import EventStore
from event_sourcery._loaded import LoadedStream
from event_sourcery._outbox import OutboxEntry
from event_sourcery._projection import Projector
from event_sourcery._raw import RawEvent
from event_sourcery._recorded import Recorded
from event_sourcery._registry import EventRegistry, default_registry
from event_sourcery._relay import AsyncOutbox, Outbox
from event_sourcery._stream_id import StreamId, StreamUUID
from event_sourcery._subscription import Subscriber
from event_sourcery._tracing import caused_by, context_caused_by
from event_sourcery._versioning import NO_VERSIONING
from event_sourcery._worker import Worker
from event_sourcery.exceptions import (
    AnotherStreamWithThisNameButOtherIdExists,
    ConcurrentStreamWriteError,
    DuplicateEventId,
    EventStoreException,
    ExpectedVersionUsedOnVersionlessStream,
    IncompatibleUuidAndName,
    NoExpectedVersionGivenOnVersionedStream,
    UnexpectedEventType,
    UnknownEventType,
    VersioningMismatch,
)

__all__ = [
    "NO_VERSIONING",
    "AnotherStreamWithThisNameButOtherIdExists",
    "AsyncBackend",
    "AsyncEventStore",
    "AsyncOutbox",
    "AsyncProjector",
    "AsyncSubscriber",
    "Backend",
    "BackendConfig",
    "ConcurrentStreamWriteError",
    "Context",
    "DuplicateEventId",
    "Event",
    "EventRegistry",
    "EventStore",
    "EventStoreException",
    "ExpectedVersionUsedOnVersionlessStream",
    "IncompatibleUuidAndName",
    "LoadedStream",
    "NoExpectedVersionGivenOnVersionedStream",
    "Outbox",
    "OutboxEntry",
    "Projector",
    "RawEvent",
    "Recorded",
    "StreamId",
    "StreamUUID",
    "Subscriber",
    "UnexpectedEventType",
    "UnknownEventType",
    "VersioningMismatch",
    "Worker",
    "WrappedEvent",
    "caused_by",
    "context_caused_by",
    "default_registry",
]
