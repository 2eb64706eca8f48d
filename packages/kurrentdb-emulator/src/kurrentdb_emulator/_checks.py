"""The commit check: may an append (or delete) go ahead, is it a repeat, or is it a conflict?

These are KurrentDB's rules (its index writer's ``CheckCommit``), restated:

- ``stream exists`` fails on a soft-deleted stream (as "deleted") and on a stream with neither
  events nor metadata (as a wrong expected version).
- ``any`` and ``stream exists`` are idempotent by event id: if every proposed id is already
  recorded in this stream, the append is a repeat and succeeds without writing. If only the first
  few ids are recorded, the request is neither new nor a repeat: wrong expected version.
- An exact revision (or ``no stream``) behind the stream's end is idempotent by position: the
  proposed ids must be exactly the ids recorded right after the expected revision. A mismatch on
  the first event is a conflict, except that ``no stream`` on a soft-deleted stream re-creates it.
- An expected revision ahead of the stream's end is a conflict; equal is a go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kurrentdb_emulator._records import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    ProposedEvent,
    Record,
    StreamDeleted,
    WrongExpectedVersion,
)


@dataclass(frozen=True, slots=True)
class Repeat:
    """The proposed events are already recorded; nothing is to be written.

    Attributes:
        last_revision: The revision of the last of the already-recorded events.
    """

    last_revision: int


@dataclass(frozen=True, slots=True)
class StreamState:
    """What the check needs to know about the target stream.

    Attributes:
        name: The stream name.
        events: The stream's events; ``events[n].revision == n``.
        soft_deleted: Whether the stream is soft-deleted.
        has_metadata: Whether the stream's metastream has an event.
    """

    name: str
    events: Sequence[Record]
    soft_deleted: bool
    has_metadata: bool

    @property
    def current(self) -> int:
        """The last revision, or ``NO_STREAM``."""
        return len(self.events) - 1


def check_commit(
    state: StreamState,
    expected: int,
    proposed: Sequence[ProposedEvent],
    recorded_ids: Mapping[str, tuple[str, int]],
) -> Repeat | None:
    """Decide an append of ``proposed`` to ``state`` with the ``expected`` version.

    Args:
        state: The target stream (never a tombstoned one: the caller rejects those first).
        expected: The expected version (``ANY``, ``NO_STREAM``, ``STREAM_EXISTS`` or a revision).
        proposed: The events to append; a delete passes one event with a fresh id.
        recorded_ids: Every recorded event id, mapped to its stream and revision.

    Returns:
        None if the events are to be written, or a ``Repeat`` if they already were.

    Raises:
        WrongExpectedVersion: The stream's version conflicts with ``expected``.
        StreamDeleted: ``expected`` is ``STREAM_EXISTS`` and the stream is soft-deleted.
    """
    current = state.current
    if expected == STREAM_EXISTS:
        if state.soft_deleted:
            raise StreamDeleted(state.name)
        if current < 0 and not state.has_metadata:
            raise WrongExpectedVersion(state.name, expected, current)
    if expected in (ANY, STREAM_EXISTS):
        return _repeat_by_id(state, expected, proposed, recorded_ids)
    if expected < current:
        return _repeat_by_revision(state, expected, proposed)
    if expected > current:
        raise WrongExpectedVersion(state.name, expected, current)
    return None


def _repeat_by_id(
    state: StreamState,
    expected: int,
    proposed: Sequence[ProposedEvent],
    recorded_ids: Mapping[str, tuple[str, int]],
) -> Repeat | None:
    last_revision: int | None = None
    for index, event in enumerate(proposed):
        found = recorded_ids.get(event.event_id)
        if found is None or found[0] != state.name:
            if index == 0:
                return None
            raise WrongExpectedVersion(state.name, expected, state.current)
        last_revision = found[1]
    return None if last_revision is None else Repeat(last_revision)


def _repeat_by_revision(
    state: StreamState, expected: int, proposed: Sequence[ProposedEvent]
) -> Repeat | None:
    for offset, event in enumerate(proposed):
        revision = expected + 1 + offset
        if revision <= state.current and state.events[revision].event_id == event.event_id:
            continue
        if offset > 0:
            raise WrongExpectedVersion(state.name, expected, state.current)
        if expected == NO_STREAM and state.soft_deleted:
            return None
        raise WrongExpectedVersion(state.name, expected, state.current)
    if not proposed:
        raise WrongExpectedVersion(state.name, expected, state.current)
    return Repeat(expected + len(proposed))
