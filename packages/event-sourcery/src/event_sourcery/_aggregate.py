"""Event-sourced aggregates and the repository that loads and saves them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from event_sourcery._event import Context, Event, WrappedEvent
from event_sourcery._event_store import EventStore
from event_sourcery._stream_id import StreamId, StreamUUID
from event_sourcery.exceptions import InvalidInput, InvalidStreamId

_PENDING = "_event_sourcery_pending"


class Aggregate:
    """Base of event-sourced aggregates.

    Subclasses set `category`, change state only in `__apply__`, and record decisions with
    `_emit`. For snapshots, set `snapshot_type` and implement `__snapshot__` / `__restore__`.
    Subclasses need not call `super().__init__()`.
    """

    category: ClassVar[str]
    #: The event class holding this aggregate's snapshot; None: no snapshots.
    snapshot_type: ClassVar[type[Event] | None] = None

    def __apply__(self, event: Event) -> None:
        """Change state by one event (also called while loading)."""
        raise NotImplementedError(f"{type(self).__name__} must implement __apply__")

    def __snapshot__(self) -> Event:
        """The whole state as one `snapshot_type` event."""
        raise NotImplementedError(f"{type(self).__name__} must implement __snapshot__")

    def __restore__(self, snapshot: Event) -> None:
        """Take the state from a `snapshot_type` event."""
        raise NotImplementedError(f"{type(self).__name__} must implement __restore__")

    def _emit(self, event: Event) -> None:
        """Apply a new event and keep it to be saved."""
        self.__apply__(event)
        self.__dict__.setdefault(_PENDING, []).append(event)

    def _take_pending(self) -> list[Event]:
        pending: list[Event] = self.__dict__.pop(_PENDING, [])
        return pending


TAggregate = TypeVar("TAggregate", bound=Aggregate)
#: The store a repository loads from and saves to (sync or async).
TStore = TypeVar("TStore")


def _stream_uuid(uuid: object) -> StreamUUID:
    if isinstance(uuid, StreamUUID):
        return uuid
    if isinstance(uuid, UUID):
        return StreamUUID(uuid)
    if isinstance(uuid, str):
        # Not guessed: text could be a uuid or a stream name, two different streams.
        raise InvalidStreamId(
            f"the aggregate's id must be a UUID or StreamUUID, got the str {uuid!r}: pass "
            "UUID(text) for a uuid, or StreamUUID(name=text) for a named stream"
        )
    raise InvalidStreamId(
        f"the aggregate's id must be a UUID or StreamUUID, got {type(uuid).__name__}"
    )


@dataclass
class WrappedAggregate(Generic[TAggregate]):
    """An aggregate with what the store knows of it.

    Attributes:
        aggregate: the aggregate.
        stream_id: its stream.
        stored_version: the version it was loaded at (0: new).
        created_at: when its first event was stored (None if new).
        updated_at: when its last loaded event was stored (None if new).
    """

    aggregate: TAggregate
    stream_id: StreamId
    stored_version: int
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def version(self) -> int:
        """The version including changes not saved yet."""
        return self.stored_version + len(self.aggregate.__dict__.get(_PENDING, ()))

    @property
    def is_new(self) -> bool:
        """Whether nothing of this aggregate is stored yet."""
        return self.stored_version == 0


def check_aggregate(aggregate: object, snapshot_every: int | None) -> None:
    """`InvalidInput` unless `aggregate` can be loaded by a repository with `snapshot_every`."""
    if not isinstance(aggregate, Aggregate):
        raise InvalidInput(f"{type(aggregate).__name__} is not an Aggregate")
    if not isinstance(getattr(type(aggregate), "category", None), str):
        raise InvalidInput(
            f"{type(aggregate).__name__} needs a class attribute `category` (its streams' category)"
        )
    if snapshot_every is not None and type(aggregate).snapshot_type is None:
        raise InvalidInput(
            f"snapshot_every is set but {type(aggregate).__name__} has no snapshot_type"
        )


def fold(
    aggregate: TAggregate, stream_id: StreamId, events: list[WrappedEvent[Any]]
) -> WrappedAggregate[TAggregate]:
    """`aggregate` rebuilt from its loaded `events` (a snapshot first, if it has one)."""
    aggregate._take_pending()
    snapshot_type = type(aggregate).snapshot_type
    for index, wrapped in enumerate(events):
        if index == 0 and snapshot_type is not None and isinstance(wrapped.event, snapshot_type):
            aggregate.__restore__(wrapped.event)
        else:
            aggregate.__apply__(wrapped.event)
    return WrappedAggregate(
        aggregate=aggregate,
        stream_id=stream_id,
        stored_version=(events[-1].version or 0) if events else 0,
        created_at=events[0].created_at if events else None,
        updated_at=events[-1].created_at if events else None,
    )


def snapshot_due(
    wrapped: WrappedAggregate[Any], saved: int, every: int | None
) -> WrappedEvent[Any] | None:
    """The snapshot to save after `saved` new events, if the version crossed a multiple of
    `every`; None otherwise."""
    new_version = wrapped.stored_version + saved
    crossed = every is not None and new_version // every > wrapped.stored_version // every
    if not crossed or type(wrapped.aggregate).snapshot_type is None:
        return None
    return WrappedEvent.wrap(wrapped.aggregate.__snapshot__(), new_version)


class RepositoryBase(Generic[TAggregate, TStore]):
    """What `Repository` and `AsyncRepository` share: their options (the arguments
    `Repository` documents) and the checks of a load."""

    def __init__(
        self,
        event_store: TStore,
        *,
        snapshot_every: int | None = None,
        context: Context | None = None,
    ) -> None:
        if snapshot_every is not None and (
            isinstance(snapshot_every, bool)
            or not isinstance(snapshot_every, int)
            or snapshot_every < 1
        ):
            raise InvalidInput(f"snapshot_every must be a positive int, got {snapshot_every!r}")
        self._store = event_store
        self._snapshot_every = snapshot_every
        self._context = context

    def _stream_of(self, uuid: StreamUUID | UUID, aggregate: TAggregate) -> StreamId:
        check_aggregate(aggregate, self._snapshot_every)
        return StreamId.of(_stream_uuid(uuid), category=aggregate.category)

    def _pending(
        self, wrapped: WrappedAggregate[Any], context: Context | None
    ) -> list[WrappedEvent[Any]]:
        return [
            WrappedEvent.wrap(event, context=context or self._context)
            for event in wrapped.aggregate._take_pending()
        ]


class Repository(RepositoryBase[TAggregate, EventStore]):
    """Loads aggregates from an event store and saves their new events atomically.

    Args:
        event_store: where the aggregates' streams live.
        snapshot_every: save a snapshot whenever the version crosses a multiple of this
            (aggregates need `snapshot_type`); None: never.
        context: attached to every event this repository saves.
    """

    @contextmanager
    def aggregate(
        self, uuid: StreamUUID | UUID, aggregate: TAggregate, *, context: Context | None = None
    ) -> Iterator[WrappedAggregate[TAggregate]]:
        """Load `aggregate` from its stream, yield it, and save its new events on a clean exit.

        New events are appended at the loaded version, so a concurrent change raises
        `ConcurrentStreamWriteError` and nothing is saved; on an exception inside the block
        nothing is saved either.

        Args:
            uuid: the aggregate's id: a `StreamUUID` (which may carry a name), or a plain
                `UUID`. Its stream is in the aggregate's `category`, whatever category a
                `StreamId` given here has.
            aggregate: a fresh instance to load the stream into.
            context: attached to the saved events instead of the repository's.

        Raises:
            InvalidStreamId: `uuid` is not a `UUID` (a str is refused: it could be a uuid or
                a stream name; pass `UUID(text)` or `StreamUUID(name=text)`).
            InvalidInput: `aggregate` is not an `Aggregate` with a `category`.
        """
        stream_id = self._stream_of(uuid, aggregate)
        wrapped = fold(aggregate, stream_id, self._store.load_stream(stream_id))
        yield wrapped
        self._save(wrapped, context)

    def _save(self, wrapped: WrappedAggregate[Any], context: Context | None) -> None:
        pending = self._pending(wrapped, context)
        if not pending:
            return
        self._store.append(
            *pending, stream_id=wrapped.stream_id, expected_version=wrapped.stored_version
        )
        snapshot = snapshot_due(wrapped, len(pending), self._snapshot_every)
        if snapshot is not None:
            self._store.save_snapshot(wrapped.stream_id, snapshot)
        wrapped.stored_version += len(pending)
