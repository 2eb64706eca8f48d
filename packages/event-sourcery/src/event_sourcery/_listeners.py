"""In-transaction listeners: called inside the append's transaction, after positions exist."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from event_sourcery._event import Event
from event_sourcery._limits import check_stream_label
from event_sourcery._recorded import Recorded
from event_sourcery._tracing import caused_by
from event_sourcery.exceptions import InvalidInput

Listener = Callable[[Recorded], object]


@dataclass
class _Subscription:
    types: tuple[type[Event], ...] = ()
    categories: frozenset[str] = field(default_factory=frozenset)

    def matches(self, record: Recorded) -> bool:
        return isinstance(record.wrapped_event.event, self.types) or (
            record.stream_id.category in self.categories
        )


class InTransactionListeners:
    """Listeners called synchronously for every appended event they are registered to.

    On transactional backends they run inside the append's transaction: an exception propagates
    out of `append`, so the caller's transaction rolls back with it. A listener registered to
    several types or categories of one event is called once for it; registering the same pair
    twice counts once. Shared by every backend copy made from one configuration.
    """

    def __init__(self) -> None:
        self._subscriptions: dict[Listener, _Subscription] = {}
        self._lock = threading.Lock()

    def register(self, listener: Listener, *, to: type[Event] | str) -> None:
        """Call `listener(recorded)` for events of class `to` (subclasses too) or category `to`."""
        if not callable(listener):
            raise InvalidInput(f"a listener must be callable, got {listener!r}")
        with self._lock:
            current = self._subscriptions.get(listener, _Subscription())
            if isinstance(to, str):
                category = check_stream_label(to, "stream category")
                current.categories = current.categories | {category}
            elif isinstance(to, type) and issubclass(to, Event):
                if to not in current.types:
                    current.types = (*current.types, to)
            else:
                raise InvalidInput(
                    f"register listeners to an Event class or a category, not {to!r}"
                )
            # Copy-on-write: dispatch iterates without the lock.
            self._subscriptions = {**self._subscriptions, listener: current}

    def unregister(self, listener: Listener) -> None:
        """Stop calling `listener`; no-op if it was not registered."""
        with self._lock:
            self._subscriptions = {k: v for k, v in self._subscriptions.items() if k != listener}

    def __bool__(self) -> bool:
        return bool(self._subscriptions)

    def calls(self, records: Sequence[Recorded]) -> Iterator[tuple[Listener, Recorded]]:
        """The (listener, record) calls `dispatch` makes, in order: for an async store to make
        them itself, awaiting a listener that returns an awaitable (under `caused_by`)."""
        subscriptions = self._subscriptions
        for record in records:
            for listener, subscription in subscriptions.items():
                if subscription.matches(record):
                    yield listener, record

    def dispatch(self, records: Sequence[Recorded]) -> None:
        """Call the matching listeners for each record, in registration order."""
        for listener, record in self.calls(records):
            with caused_by(record.wrapped_event):
                listener(record)
