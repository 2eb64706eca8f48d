"""Typed reads: the events of a stream with its version, and the check of their classes.

No I/O here: the sync store and a future async one build the same `LoadedStream` and apply the
same check, so what a typed read promises is decided once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic

from event_sourcery._event import Event, TEvent, WrappedEvent
from event_sourcery._versioning import NO_VERSIONING, ExpectedVersion
from event_sourcery.exceptions import InvalidInput, UnexpectedEventType

#: What `of=` accepts: an `Event` class (often the base class of an aggregate's events) or a
#: tuple of them.
EventTypes = type[TEvent] | tuple[type[TEvent], ...]


class LoadedStream(list[WrappedEvent[TEvent]], Generic[TEvent]):
    """The events `EventStore.load_stream` returned, oldest first, and the version after them.

    A `list` of `WrappedEvent`s (so code written against the list keeps working), plus
    `version`: what to pass as `expected_version` to append after these events::

        loaded = store.load_stream(stream_id, of=AccountEvent)
        store.append(Deposited(amount=5), stream_id=stream_id, expected_version=loaded.version)

    Attributes:
        version: the version of the last event loaded; 0 when nothing was loaded (an append
            at 0 creates the stream), `NO_VERSIONING` for a versionless stream. After a load
            with `stop` it is the last loaded event's, not the stream's current version.
    """

    __slots__ = ("version",)

    def __init__(
        self, events: Iterable[WrappedEvent[TEvent]] = (), *, version: ExpectedVersion = 0
    ) -> None:
        super().__init__(events)
        self.version: ExpectedVersion = version

    @classmethod
    def of(cls, events: list[WrappedEvent[TEvent]]) -> LoadedStream[TEvent]:
        """`events` with the version after the last of them."""
        if not events:
            return cls()
        last = events[-1].version
        return cls(events, version=NO_VERSIONING if last is None else last)


def check_event_types(of: object) -> tuple[type[Event], ...]:
    """`of` as a tuple of `Event` classes; `InvalidInput` if it is anything else."""
    classes = of if isinstance(of, tuple) else (of,)
    if not classes or not all(isinstance(c, type) and issubclass(c, Event) for c in classes):
        raise InvalidInput(
            f"of= must be an Event class or a non-empty tuple of Event classes, got {of!r}"
        )
    return classes


def check_instances(
    events: Iterable[WrappedEvent[Any]],
    classes: tuple[type[Event], ...],
    stream_id: object,
    position: int | None = None,
) -> None:
    """Raise `UnexpectedEventType` for the first event that is not an instance of `classes`."""
    for wrapped in events:
        if not isinstance(wrapped.event, classes):
            raise UnexpectedEventType(
                type(wrapped.event), classes, stream_id, wrapped.version, position
            )
