"""The version rules of appends and snapshots, as plain functions.

No I/O here: every backend reads the stream's state its own way and calls these functions, so
the rules exist once.
"""

from __future__ import annotations

import enum
from typing import Final
from uuid import UUID

from event_sourcery._stream_id import StreamId
from event_sourcery.exceptions import (
    AnotherStreamWithThisNameButOtherIdExists,
    ConcurrentStreamWriteError,
    DuplicateEventId,
    ExpectedVersionUsedOnVersionlessStream,
    IncompatibleUuidAndName,
    InvalidExpectedVersion,
    InvalidSnapshot,
    NoExpectedVersionGivenOnVersionedStream,
)


class _NoVersioning(enum.Enum):
    NO_VERSIONING = "NO_VERSIONING"

    def __repr__(self) -> str:
        return "NO_VERSIONING"


#: Pass as `expected_version` to make (or append to) a stream whose events carry no version.
NO_VERSIONING: Final = _NoVersioning.NO_VERSIONING
NoVersioning = _NoVersioning
ExpectedVersion = int | _NoVersioning


class Missing(enum.Enum):
    """The state of a stream that does not exist (see `StreamState`)."""

    STREAM = "missing"


#: What a backend knows of a stream before an append: `MISSING`, `VERSIONLESS`, or its version.
MISSING: Final = Missing.STREAM
VERSIONLESS: Final = NO_VERSIONING
StreamState = int | _NoVersioning | Missing


def check_version_arg(value: object, what: str = "expected_version") -> int:
    """`value` if it is a non-negative int (bools excluded), else `InvalidExpectedVersion`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidExpectedVersion(
            f"{what} must be an int or NO_VERSIONING, got {type(value).__name__} {value!r}"
        )
    if value < 0:
        raise InvalidExpectedVersion(f"{what} must not be negative, got {value}")
    return value


def check_expected(expected: object) -> ExpectedVersion:
    """Validate an `expected_version` argument before any I/O."""
    if expected is NO_VERSIONING:
        return NO_VERSIONING
    return check_version_arg(expected)


def new_versions(expected: ExpectedVersion, count: int) -> list[int | None]:
    """Versions of `count` events appended at `expected`: contiguous from expected + 1."""
    if expected is NO_VERSIONING:
        return [None] * count
    return list(range(expected + 1, expected + 1 + count))


def check_append(stream_id: StreamId, state: StreamState, expected: ExpectedVersion) -> None:
    """Raise the error an append at `expected` gets on a stream in `state`; None if allowed.

    - expected 0: the stream must not exist;
    - expected n > 0: the stream must be versioned and at version n;
    - NO_VERSIONING: the stream must be versionless or not exist.
    """
    if expected is NO_VERSIONING:
        if isinstance(state, int):
            raise NoExpectedVersionGivenOnVersionedStream(stream_id, state)
        return
    if state is VERSIONLESS:
        raise ExpectedVersionUsedOnVersionlessStream(stream_id)
    actual = None if state is MISSING else state
    if (actual or 0) != expected or (expected == 0 and actual is not None):
        raise ConcurrentStreamWriteError(stream_id, expected, actual)


def check_snapshot(stream_id: StreamId, state: StreamState, snapshot_version: object) -> int:
    """The snapshot's version if it equals the stream's current version, else `InvalidSnapshot`."""
    if state is MISSING:
        raise InvalidSnapshot(
            f"Stream {stream_id!r} does not exist; append events before a snapshot."
        )
    if state is VERSIONLESS:
        raise InvalidSnapshot(
            f"Stream {stream_id!r} is versionless; snapshots need a versioned stream."
        )
    version = check_version_arg(snapshot_version, "snapshot version")
    if version != state:
        raise InvalidSnapshot(
            f"Snapshot version {version} of stream {stream_id!r} must equal the stream's "
            f"current version {state}."
        )
    return version


def snapshot_applies(snapshot_version: int, start: int | None, stop: int | None) -> bool:
    """Whether `load_stream(start, stop)` begins with the stream's snapshot.

    Only a load from the beginning uses it, and only if the snapshot is inside the window.
    """
    return start is None and (stop is None or snapshot_version < stop)


def check_name(stream_id: StreamId, stored_name: str | None, holder: UUID | None) -> None:
    """Raise if `stream_id.name` cannot be bound: the name rules every backend applies.

    Args:
        stream_id: the stream being appended to, with the name it is addressed by.
        stored_name: the name the stream is stored with (None: unnamed or missing).
        holder: the uuid of *another* stream of the same tenant and category holding that
            name, if any.
    """
    name = stream_id.name
    if name is None:
        return
    if stored_name is not None and stored_name != name:
        raise IncompatibleUuidAndName(stream_id.uuid, stored_name, name)
    if holder is not None and holder != stream_id.uuid:
        raise AnotherStreamWithThisNameButOtherIdExists(
            name, stream_id.category, holder, stream_id.uuid
        )


def is_repeat(stored: list[UUID], resent: list[UUID]) -> bool:
    """Whether an append is a re-send of one already stored (a lost reply).

    `stored` are the uuids of the stream's events at the versions the append asked for
    (expected + 1 on, as many as it carries); the rule of the kit's idempotency contract.
    """
    return bool(resent) and stored == resent


def check_unique_event_ids(stream_id: StreamId, event_ids: list[UUID]) -> None:
    """Raise `DuplicateEventId` if one append carries an event id more than once."""
    if len(set(event_ids)) == len(event_ids):
        return
    seen: set[UUID] = set()
    repeated: dict[UUID, None] = {}
    for event_id in event_ids:
        if event_id in seen:
            repeated[event_id] = None
        seen.add(event_id)
    raise DuplicateEventId(stream_id, repeated)
