"""The one exception tree of Event Sourcery.

Every error a user of the public API can see is an instance of `EventStoreException`.
Backends translate their driver's errors into this tree at exactly one place each, chaining the
original with ``raise ... from exc``.

```
EventStoreException
├── ConcurrentStreamWriteError          expected version did not match the stored one
├── VersioningMismatch                  versioned and versionless appends mixed on one stream
│   ├── ExpectedVersionUsedOnVersionlessStream
│   ├── NoExpectedVersionGivenOnVersionedStream
│   └── VersionRangeOnVersionlessStream
├── AnotherStreamWithThisNameButOtherIdExists
├── IncompatibleUuidAndName
├── DuplicateEventId                    an event id taken in the tenant, or twice in one append
├── UnknownEventType                    a stored event type has no registered class
├── UnexpectedEventType                 a typed read met an event not of the classes asked for
├── DuplicateEventName                  two classes registered under one event name
├── InvalidSnapshot                     snapshot version differs from the stream's version
├── InvalidInput (also ValueError)      bad arguments; the store is never changed by them
│   ├── InvalidStreamId
│   ├── InvalidTenantId
│   ├── InvalidExpectedVersion
│   ├── InvalidEvent (also TypeError)
│   └── EventSerializationError
└── StorageError                        the backend failed, not because of the caller's input
```
"""

from __future__ import annotations

from typing import Any


class EventStoreException(Exception):
    """Root of every error raised by Event Sourcery and its backends."""


class ConcurrentStreamWriteError(EventStoreException):
    """The stream's stored version differs from the expected one.

    Another writer appended first (or the stream already exists / does not exist). Reload the
    stream and decide again; retrying the same append blindly would overwrite their decision.
    """

    def __init__(self, stream_id: Any, expected_version: int, actual_version: int | None) -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        actual = "does not exist" if actual_version is None else f"is at version {actual_version}"
        super().__init__(
            f"Stream {stream_id!r} {actual}, but version {expected_version} was expected"
            + (" (0 means: the stream must not exist yet)" if expected_version == 0 else "")
            + ". Reload the stream and retry your decision."
        )


class VersioningMismatch(EventStoreException):
    """Versioned and versionless operations were mixed on one stream."""


class ExpectedVersionUsedOnVersionlessStream(VersioningMismatch):
    """An expected version was given for a stream created with NO_VERSIONING."""

    def __init__(self, stream_id: Any) -> None:
        self.stream_id = stream_id
        super().__init__(
            f"Stream {stream_id!r} is versionless (created with NO_VERSIONING); "
            "append to it with expected_version=NO_VERSIONING."
        )


class NoExpectedVersionGivenOnVersionedStream(VersioningMismatch):
    """NO_VERSIONING was given for a stream that has versions."""

    def __init__(self, stream_id: Any, actual_version: int) -> None:
        self.stream_id = stream_id
        self.actual_version = actual_version
        super().__init__(
            f"Stream {stream_id!r} is versioned (at version {actual_version}); "
            "pass its expected_version instead of NO_VERSIONING."
        )


class VersionRangeOnVersionlessStream(VersioningMismatch):
    """`start`/`stop` were given for a stream whose events have no versions."""

    def __init__(self, stream_id: Any) -> None:
        self.stream_id = stream_id
        super().__init__(f"Stream {stream_id!r} is versionless; load it without start/stop.")


class AnotherStreamWithThisNameButOtherIdExists(EventStoreException):
    """The stream name is already bound to another uuid in this category and tenant."""

    def __init__(
        self, name: str, category: str | None, existing_uuid: Any, given_uuid: Any
    ) -> None:
        self.name = name
        self.category = category
        self.existing_uuid = existing_uuid
        self.given_uuid = given_uuid
        super().__init__(
            f"Stream name {name!r} (category {category!r}) already belongs to stream "
            f"{existing_uuid}, not {given_uuid}. Use StreamId(name=...) alone to address it."
        )


class IncompatibleUuidAndName(EventStoreException):
    """The stream with this uuid exists under another name."""

    def __init__(self, uuid: Any, stored_name: str | None, given_name: str) -> None:
        self.uuid = uuid
        self.stored_name = stored_name
        self.given_name = given_name
        super().__init__(
            f"Stream {uuid} is stored with name {stored_name!r}, not {given_name!r}; "
            "a stream's name cannot change."
        )


class DuplicateEventId(EventStoreException):
    """An event's id (`WrappedEvent.uuid`) is taken: event ids are unique per tenant.

    Raised when one append carries an id twice, or carries an id already stored in the tenant
    (on another stream, or earlier in the same one) and is not a re-send of a stored append:
    the re-send at the same expected version, with the same events in the same order, is
    accepted and stores nothing (see `EventStore.append`). Nothing of the refused append is
    stored; with a backend that writes in your transaction, roll it back.
    """

    def __init__(self, stream_id: Any, event_ids: Any = ()) -> None:
        self.stream_id = stream_id
        self.event_ids = tuple(event_ids)
        which = ", ".join(str(event_id) for event_id in self.event_ids) or "an event id"
        super().__init__(
            f"Appending to stream {stream_id!r}: {which} is already used in this tenant "
            "(event ids are unique per tenant). Give new events new ids (WrappedEvent.wrap "
            "without uuid=); re-send an append only whole, at the same expected version."
        )


class UnknownEventType(EventStoreException):
    """A stored event's type name has no registered class.

    Nothing is lost: `EventStore.load_stream_raw` and `Subscriber.build_raw_batch` return the
    stored form of every event. `position` is set when a subscription met the event.
    """

    def __init__(self, type_name: str, stream_id: Any = None, version: int | None = None) -> None:
        self.type_name = type_name
        self.stream_id = stream_id
        self.version = version
        self.position: int | None = None
        where = f" (stream {stream_id!r}, version {version})" if stream_id is not None else ""
        super().__init__(
            f"No Event class is registered for event type {type_name!r}{where}. Import the "
            "module defining it, register an alias, or read it with load_stream_raw()."
        )


class UnexpectedEventType(EventStoreException):
    """A typed read (`load_stream(..., of=...)`, `Subscriber.to_events`) met another class.

    Nothing is lost or changed: read the stream again with a broader `of` (a common base
    class, or a tuple of classes), or without it. `position` is set when a subscription met it.
    """

    def __init__(
        self,
        actual: type[Any],
        expected: tuple[type[Any], ...],
        stream_id: Any,
        version: int | None = None,
        position: int | None = None,
    ) -> None:
        self.actual = actual
        self.expected = expected
        self.stream_id = stream_id
        self.version = version
        self.position = position
        names = " | ".join(cls.__qualname__ for cls in expected)
        where = f"version {version}" if version is not None else "a versionless event"
        if position is not None:
            where += f", position {position}"
        super().__init__(
            f"Stream {stream_id!r} holds a {actual.__qualname__} event ({where}), which is "
            f"not an instance of {names}. Ask for broader classes (a common base class, or a "
            "tuple of classes, with the snapshot's class if the stream has a snapshot), or "
            "read without of=."
        )


class DuplicateEventName(EventStoreException):
    """Two different classes were registered under one event name."""


class InvalidSnapshot(EventStoreException):
    """A snapshot does not match the stream it is saved to."""


class InvalidInput(EventStoreException, ValueError):
    """An argument was rejected before anything was stored."""


class InvalidStreamId(InvalidInput):
    """A stream id, name or category cannot be used."""


class InvalidTenantId(InvalidInput):
    """A tenant id cannot be used."""


class InvalidExpectedVersion(InvalidInput):
    """`expected_version` (or another version argument) is not a non-negative int."""


class InvalidEvent(InvalidInput, TypeError):
    """Something that is not an `Event` (or `WrappedEvent`) was given as an event."""


class EventSerializationError(InvalidInput):
    """An event could not be turned into JSON, or stored JSON back into an event."""


class StorageError(EventStoreException):
    """The backend failed for a reason unrelated to the caller's input (connection, lock, ...)."""
