"""Catch-up subscriptions to the global log: the port and the builder users see.

Positions are plain ints on every backend (decided once, for all): the global position of an
event is its autoincrement id (SQL) or commit position (KurrentDB). Gap freedom does not need a
composite position, because readers never pass a missing position until every transaction
that could still fill it has ended (see `event_sourcery.sql._gaps`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Generator, Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, Self, TypeVar

from event_sourcery._encryption import Encryption
from event_sourcery._event import Event, TEvent
from event_sourcery._limits import check_stream_label, check_tenant_id
from event_sourcery._loaded import check_instances
from event_sourcery._log_reading import Fetch, Steps, next_batch, next_records
from event_sourcery._recorded import Recorded, RecordedRaw
from event_sourcery._registry import EventRegistry
from event_sourcery._versioning import check_version_arg
from event_sourcery.exceptions import InvalidInput

#: Shortest `timelimit`: below it a subscriber would spin on the database.
MIN_TIMELIMIT = 0.1
#: The class of the events a `to_events` subscription delivers.
TOther = TypeVar("TOther", bound=Event)
#: Records fetched per read while iterating one by one.
READ_AHEAD = 500


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    """Which records a subscription delivers; None means "any"."""

    categories: frozenset[str] | None = None
    event_types: frozenset[str] | None = None
    tenants: frozenset[str | None] | None = None

    def matches(self, record: RecordedRaw) -> bool:
        """Whether `record` passes (backends may filter natively instead)."""
        raw = record.raw
        return (
            (self.categories is None or raw.stream_id.category in self.categories)
            and (self.event_types is None or raw.type in self.event_types)
            and (self.tenants is None or record.tenant_id in self.tenants)
        )


class LogCursor(ABC):
    """One reader's place in the global log; not shared between threads."""

    @abstractmethod
    def fetch(self, limit: int) -> list[RecordedRaw]:
        """The next records after the cursor, matching its filter, oldest first; advances it.

        Returns only records that can be delivered without a gap: no event with a lower
        position may still appear later. `[]` when there is nothing (safe) to deliver now.
        """

    @property
    @abstractmethod
    def position(self) -> int:
        """Every record up to this position was returned or did not match the filter."""

    @abstractmethod
    def wait(self, timeout: float) -> None:
        """Block until new records may be available, or `timeout` seconds pass."""

    def close(self) -> None:  # noqa: B027 - optional hook, most cursors hold nothing
        """Release what the cursor holds (connections, listeners)."""


class SubscriptionStrategy(ABC):
    """The port a backend implements for subscriptions."""

    @abstractmethod
    def open(self, after: int, subscription_filter: SubscriptionFilter) -> LogCursor:
        """A cursor delivering records with position > `after` that match the filter."""


def check_timelimit(timelimit: object) -> float:
    if isinstance(timelimit, bool) or not isinstance(timelimit, int | float):
        raise InvalidInput(f"timelimit must be a number of seconds, got {timelimit!r}")
    if timelimit < MIN_TIMELIMIT:
        raise InvalidInput(f"timelimit must be at least {MIN_TIMELIMIT} s, got {timelimit}")
    return float(timelimit)


def check_size(size: object) -> int:
    """`size` if it is a positive int, for batches; `InvalidInput` otherwise."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidInput(f"size must be a positive int, got {size!r}")
    return size


def read(cursor: LogCursor, steps: Steps) -> list[RecordedRaw]:
    """Run a read of `_log_reading` on `cursor`; what it returns."""
    reply: list[RecordedRaw] | None = None
    try:
        while True:
            step = steps.send(reply)
            if isinstance(step, Fetch):
                reply = cursor.fetch(step.limit)
            else:
                reply = None
                cursor.wait(step.timeout)
    except StopIteration as done:
        records: list[RecordedRaw] = done.value
        return records


class SubscriberBase(Generic[TEvent]):
    """What every subscription builder shares: the start, the filter and the typing check.

    `Subscriber` and `AsyncSubscriber` add the iterators; the builder methods return a new
    builder of the same class.
    """

    __slots__ = ("_classes", "_encryption", "_filter", "_position", "_registry", "_strategy")

    def __init__(
        self,
        strategy: Any,
        registry: EventRegistry,
        *,
        position: int = 0,
        subscription_filter: SubscriptionFilter | None = None,
        encryption: Encryption | None = None,
    ) -> None:
        self._strategy = strategy
        self._registry = registry
        self._encryption = encryption
        self._position = position
        self._filter = subscription_filter or SubscriptionFilter()
        # The classes given to `to_events`: every delivered event is checked against them.
        self._classes: tuple[type[Event], ...] | None = None

    def _copy(self, **changes: object) -> Any:
        copy = type(self)(
            self._strategy,
            self._registry,
            position=changes.get("position", self._position),  # type: ignore[arg-type]
            subscription_filter=changes.get("subscription_filter", self._filter),  # type: ignore[arg-type]
            encryption=self._encryption,
        )
        copy._classes = changes.get("classes", self._classes)  # type: ignore[assignment]
        return copy

    @property
    def subscription_filter(self) -> SubscriptionFilter:
        """What this builder's subscriptions deliver."""
        return self._filter

    def start_from(self, position: int) -> Self:
        """Deliver events with a position greater than `position` (0: from the beginning)."""
        return self._copy(position=check_version_arg(position, "position"))  # type: ignore[no-any-return]

    def to_category(self, *categories: str) -> Self:
        """Deliver only events of streams in these categories."""
        if not categories:
            raise InvalidInput("to_category needs at least one category")
        checked = frozenset(check_stream_label(c, "stream category") for c in categories)
        return self._copy(subscription_filter=replace(self._filter, categories=checked))  # type: ignore[no-any-return]

    def _with_events(self, event_types: Iterable[type[Event]]) -> Any:
        types = list(event_types)
        if not types or not all(isinstance(t, type) and issubclass(t, Event) for t in types):
            raise InvalidInput("to_events needs a non-empty list of Event classes")
        names = frozenset(self._registry.name_of(t) for t in types)
        return self._copy(
            subscription_filter=replace(self._filter, event_types=names), classes=tuple(types)
        )

    def in_tenants(self, *tenant_ids: str | None) -> Self:
        """Deliver only events of these tenants (None: the default context). Default: all."""
        checked = frozenset(None if t is None else check_tenant_id(t) for t in tenant_ids)
        return self._copy(subscription_filter=replace(self._filter, tenants=checked))  # type: ignore[no-any-return]

    def _typed(self, records: list[Recorded[Any]]) -> list[Recorded[TEvent]]:
        """`records`, checked to hold instances of the classes `to_events` named."""
        if self._classes is not None:
            for record in records:
                check_instances(
                    (record.wrapped_event,), self._classes, record.stream_id, record.position
                )
        return records

    # `encryption`: `self._encryption`, or (asyncio) the same over the keys fetched for them.
    def _one(self, record: RecordedRaw, encryption: Encryption | None) -> Recorded[TEvent]:
        return self._typed([Recorded.of(record, self._registry, encryption)])[0]

    def _all(
        self, records: list[RecordedRaw], encryption: Encryption | None
    ) -> list[Recorded[TEvent]]:
        return self._typed(Recorded.all_of(records, self._registry, encryption))


class Subscriber(SubscriberBase[TEvent]):
    """Builds subscriptions: `subscriber.start_from(p).to_category("c").build_iter(1.0)`.

    Every method returns a new builder; a built subscription is independent of the builder.
    Generic in the class of the events delivered: `to_events` names it, and the records are
    then typed with it (`Recorded[YourEvent]`) and checked to be instances of it.
    """

    __slots__ = ()

    _strategy: SubscriptionStrategy

    def to_events(self, event_types: Iterable[type[TOther]]) -> Subscriber[TOther]:
        """Deliver only events of these classes, typed as their nearest common base class.

        For a union, annotate: `sub: Subscriber[A | B] = subscriber.to_events([A, B])`. A
        delivered event of another class (only a registry mapping these classes' names to
        other classes could deliver one) raises `UnexpectedEventType`.
        """
        return self._with_events(event_types)  # type: ignore[no-any-return]

    def build_iter(self, timelimit: float) -> Generator[Recorded[TEvent] | None, None, None]:
        """An endless iterator: the next `Recorded` as soon as it is committed, or None when
        nothing came within `timelimit` seconds (at least 0.1).

        A generator, typed as one so that `close()` and `contextlib.closing` type-check:
        closing it gives back what its cursor holds (a database connection, say).
        """
        limit = check_timelimit(timelimit)
        return self._iterate(limit)

    def build_batch(
        self, size: int, timelimit: float
    ) -> Generator[list[Recorded[TEvent]], None, None]:
        """An endless iterator of lists: `size` records as soon as they are ready, fewer when
        the log is caught up, `[]` when nothing came within `timelimit` seconds."""
        limit = check_timelimit(timelimit)
        return self._batches(check_size(size), limit)

    def build_raw_batch(
        self, size: int, timelimit: float
    ) -> Generator[list[RecordedRaw], None, None]:
        """Like `build_batch`, but the stored form: readable without the events' classes.

        For consumers that must never stop on an event they cannot type (an unknown or
        poison event): decode each with `Recorded.of(record, registry)` and decide.
        """
        limit = check_timelimit(timelimit)
        return self._raw_batches(check_size(size), limit)

    def _raw_batches(self, size: int, timelimit: float) -> Generator[list[RecordedRaw], None, None]:
        cursor = self._strategy.open(self._position, self._filter)
        try:
            while True:
                yield read(cursor, next_batch(size, timelimit))
        finally:
            cursor.close()

    def _iterate(self, timelimit: float) -> Generator[Recorded[TEvent] | None, None, None]:
        cursor = self._strategy.open(self._position, self._filter)
        buffer: deque[RecordedRaw] = deque()
        try:
            while True:
                if not buffer:
                    buffer.extend(read(cursor, next_records(READ_AHEAD, timelimit)))
                    if not buffer:
                        yield None
                        continue
                yield self._one(buffer.popleft(), self._encryption)
        finally:
            cursor.close()

    def _batches(
        self, size: int, timelimit: float
    ) -> Generator[list[Recorded[TEvent]], None, None]:
        cursor = self._strategy.open(self._position, self._filter)
        try:
            while True:
                yield self._all(read(cursor, next_batch(size, timelimit)), self._encryption)
        finally:
            cursor.close()
