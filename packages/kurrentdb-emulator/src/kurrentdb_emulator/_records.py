"""What the log holds: recorded events, proposed events and the expected-version constants.

The integers follow KurrentDB's own encoding of an expected version, because they appear
verbatim in error texts that clients parse ("Expected version: -2").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

ANY = -2
"""Expected version: no concurrency check."""
NO_STREAM = -1
"""Expected version: the stream has no events (or was soft-deleted). Also "no current version"."""
STREAM_EXISTS = -4
"""Expected version: the stream has at least one event (or metadata)."""

DELETED_STREAM = 2**63 - 1
"""The revision of a tombstone and the ``$tb`` that marks a soft-deleted stream (Int64.MaxValue)."""

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"

METADATA_EVENT_TYPE = "$metadata"
TOMBSTONE_EVENT_TYPE = "$streamDeleted"


def metastream_of(stream: str) -> str:
    """The name of the stream that holds ``stream``'s metadata (``$$<stream>``)."""
    return f"$${stream}"


def is_metastream(stream: str) -> bool:
    """Whether ``stream`` is a metadata stream."""
    return stream.startswith("$$")


def describe_expected(expected: int) -> str:
    """A readable form of an expected version, for messages."""
    names = {ANY: "any", NO_STREAM: "no stream", STREAM_EXISTS: "stream exists"}
    return names.get(expected, str(expected))


def ticks_now() -> int:
    """Now, in the 100-nanosecond ticks since the Unix epoch that KurrentDB reports as "created"."""
    return time.time_ns() // 100


@dataclass(frozen=True, slots=True)
class ProposedEvent:
    """An event a client asks to append.

    Attributes:
        event_id: The event's UUID in canonical lower-case text form.
        type: The event type.
        content_type: The content type the client sent.
        data: The event's payload.
        metadata: The event's custom metadata.
    """

    event_id: str
    type: str
    content_type: str
    data: bytes
    metadata: bytes

    @property
    def size(self) -> int:
        """Bytes counted against the append size limit (payload, metadata and type)."""
        return len(self.data) + len(self.metadata) + len(self.type.encode())


@dataclass(frozen=True, slots=True)
class Record:
    """An event as recorded in the log.

    Attributes:
        position: The commit (and prepare) position in ``$all``; strictly increasing.
        stream: The stream the event belongs to.
        revision: The event's revision in its stream (``DELETED_STREAM`` for a tombstone).
        event_id: The event's UUID in canonical lower-case text form.
        type: The event type.
        is_json: Whether the content type was ``application/json``: KurrentDB keeps only this bit,
            so an event comes back as ``application/json`` or ``application/octet-stream``.
        data: The event's payload.
        metadata: The event's custom metadata.
        created: When the event was recorded, in ticks (see :func:`ticks_now`).
    """

    position: int
    stream: str
    revision: int
    event_id: str
    type: str
    is_json: bool
    data: bytes
    metadata: bytes
    created: int

    @property
    def content_type(self) -> str:
        """The content type as a KurrentDB server reports it."""
        return JSON if self.is_json else OCTET_STREAM


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The outcome of a successful (or idempotently repeated) append.

    Attributes:
        last_revision: The stream's revision after the append (``NO_STREAM`` if it has no event).
        position: The position of the last event of the append, or None if nothing was written
            and nothing was matched.
    """

    last_revision: int
    position: int | None


class WrongExpectedVersion(Exception):
    """The stream's current version does not satisfy the expected version.

    Attributes:
        stream: The stream name.
        expected: The expected version as sent (see the module constants).
        current: The stream's last revision, or ``NO_STREAM``.
    """

    def __init__(self, stream: str, expected: int, current: int) -> None:
        super().__init__(
            f"stream {stream!r}: expected {describe_expected(expected)}, current {current}"
        )
        self.stream = stream
        self.expected = expected
        self.current = current


class StreamDeleted(Exception):
    """The stream is tombstoned (or soft-deleted where the operation needs it to exist)."""

    def __init__(self, stream: str) -> None:
        super().__init__(f"Event stream '{stream}' is deleted.")
        self.stream = stream


class InvalidPosition(Exception):
    """A ``$all`` position that is neither 0 nor the position of a recorded event."""


class AppendTooLarge(Exception):
    """The events of one append exceed the maximum append size."""

    def __init__(self, max_size: int) -> None:
        super().__init__(f"Maximum Append Size of {max_size} Exceeded.")
        self.max_size = max_size
