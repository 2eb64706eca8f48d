"""Given past events, when a command, then new events or an error: aggregate tests.

The scenario goes through the core's `Repository`, on the in-memory backend unless given
another, so an aggregate is loaded and saved in the test exactly as in the application.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, TypeVar

from event_sourcery import Backend, Event, StreamId, StreamUUID
from event_sourcery.event_sourcing import Aggregate, Repository
from event_sourcery.exceptions import InvalidInput

from event_sourcery_testing._assertions import event_difference
from event_sourcery_testing._in_memory import InMemoryBackend

TAggregate = TypeVar("TAggregate", bound=Aggregate)
TError = TypeVar("TError", bound=BaseException)


def given(
    aggregate: Callable[[], TAggregate], *history: Event, backend: Backend | None = None
) -> Scenario[TAggregate]:
    """A scenario for an aggregate whose stream already holds `history`.

    Args:
        aggregate: makes a fresh instance: the aggregate's class, or a function for one
            whose constructor takes arguments. Each `when` loads the stream into a new one.
        history: the past events, oldest first (none: a new aggregate).
        backend: where the stream lives; a new `InMemoryBackend` if not given.
    """
    return Scenario(aggregate, *history, backend=backend)


class Scenario(Generic[TAggregate]):
    """An aggregate's stream with its past events, ready for a command (see `given`).

    Attributes:
        stream_id: the aggregate's stream, in its category.
        backend: the backend holding it.
    """

    def __init__(
        self,
        aggregate: Callable[[], TAggregate],
        *history: Event,
        backend: Backend | None = None,
    ) -> None:
        self.backend = backend if backend is not None else InMemoryBackend()
        self._make = aggregate
        self._uuid = StreamUUID()
        category = getattr(aggregate(), "category", None)
        if not isinstance(category, str):
            raise InvalidInput("given() needs an Aggregate with a class attribute `category`")
        self.stream_id = StreamId.of(self._uuid, category=category)
        if history:
            self.backend.event_store.append(*history, stream_id=self.stream_id)

    def when(self, command: Callable[[TAggregate], object]) -> ScenarioOutcome:
        """Load the aggregate, run `command` on it and save what it emitted.

        An exception of the command is kept for `then_raises`, not raised. Several `when`s
        on one scenario run one after another, each on what the previous ones saved.
        """
        store = self.backend.event_store
        before = len(store.load_stream(self.stream_id))
        error: BaseException | None = None
        try:
            with Repository[TAggregate](store).aggregate(self._uuid, self._make()) as loaded:
                command(loaded.aggregate)
        except Exception as exc:
            error = exc
        emitted = [wrapped.event for wrapped in store.load_stream(self.stream_id)[before:]]
        return ScenarioOutcome(emitted, error)


class ScenarioOutcome:
    """What a command did: the events it saved, or the error it raised.

    Attributes:
        events: the new events, in order (none when the command raised).
        error: the command's exception, or None.
    """

    def __init__(self, events: list[Event], error: BaseException | None) -> None:
        self.events = events
        self.error = error

    def then(self, *expected: Event) -> None:
        """Assert that the command succeeded and saved exactly `expected` (none: no change).

        Raises:
            AssertionError: the command raised, or its events differ (both listed).
        """
        if self.error is not None:
            raise AssertionError(
                f"the command raised {type(self.error).__name__}: {self.error}; "
                f"expected {len(expected)} new event(s)"
            ) from self.error
        if self.events != list(expected):
            raise AssertionError(event_difference("the command saved", self.events, expected))

    def then_raises(self, error: type[TError], *, match: str | None = None) -> TError:
        """Assert that the command raised `error` (its message matching the regular
        expression `match`, if given) and saved nothing; return the exception.

        Raises:
            AssertionError: the command succeeded, or raised something else.
        """
        raised = self.error
        if raised is None:
            raise AssertionError(
                f"expected {error.__name__}, but the command succeeded and saved {self.events!r}"
            )
        if not isinstance(raised, error):
            raise AssertionError(
                f"expected {error.__name__}, but the command raised "
                f"{type(raised).__name__}: {raised}"
            ) from raised
        if match is not None and re.search(match, str(raised)) is None:
            raise AssertionError(
                f"{type(raised).__name__} was raised, but {str(raised)!r} does not match {match!r}"
            ) from raised
        return raised
