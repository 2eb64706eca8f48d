"""Projections: apply events to a read model, checkpointed in the read model's transaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from event_sourcery._event import Event
from event_sourcery._limits import check_stream_label
from event_sourcery._recorded import Recorded
from event_sourcery._subscription import SubscriptionFilter
from event_sourcery._tracing import caused_by
from event_sourcery.exceptions import InvalidInput

if TYPE_CHECKING:
    from event_sourcery._backend import Backend

Handler = Callable[[Recorded], object]


class CheckpointStrategy(ABC):
    """The port a backend implements to keep projection checkpoints."""

    @abstractmethod
    def load(self, name: str) -> int:
        """The checkpoint `name` (0 if new), locked for the current transaction.

        A second worker asking for the same checkpoint waits until the first transaction
        ends, so two workers never apply the same events concurrently.
        """

    @abstractmethod
    def save(self, name: str, position: int) -> None:
        """Store the checkpoint in the current transaction."""

    @abstractmethod
    def positions(self) -> dict[str, int]:
        """Every stored checkpoint by projection name; {} when there is none.

        For operators (`event-sourcery projections list`): reads without locking, so a
        checkpoint a worker is moving may be one batch behind.
        """


def _positive(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{what} must be a positive int, got {value!r}")
    return value


class Projector:
    """Applies new events of the global log to a read model, exactly once.

    Each `run_once` works in the backend's current transaction: the handler's read-model
    writes and the new checkpoint commit together or not at all, so a crash can neither skip
    nor double-apply an event. Commit after each `run_once` (the library never commits).

    Args:
        backend: where events and the checkpoint live.
        name: the checkpoint's name; one per projection.
        handler: applies one event to the read model (in the same transaction).
        categories: only events of these categories (default: all).
        events: only events of these classes (default: all).
        on_reset: clears the read model; `reset` calls it in the same transaction, so a
            rebuild (``event-sourcery projections rebuild``) starts from an empty one.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        name: str,
        handler: Handler,
        categories: Iterable[str] | None = None,
        events: Iterable[type[Event]] | None = None,
        on_reset: Callable[[], object] | None = None,
    ) -> None:
        self._backend = backend
        self.name = check_stream_label(name, "projection name")
        if not callable(handler):
            raise InvalidInput("handler must be callable")
        self._handler = handler
        if on_reset is not None and not callable(on_reset):
            raise InvalidInput("on_reset must be callable")
        self._on_reset = on_reset
        subscriber = backend.subscriber
        if categories is not None:
            subscriber = subscriber.to_category(*categories)
        if events is not None:
            subscriber = subscriber.to_events(events)
        self._filter: SubscriptionFilter = subscriber.subscription_filter

    def run_once(self, limit: int = 500) -> int:
        """Apply up to `limit` new events; return how many were applied."""
        _positive(limit, "limit")
        checkpoints = self._backend._checkpoint_strategy()
        position = checkpoints.load(self.name)
        cursor = self._backend._subscription_strategy().open(position, self._filter)
        try:
            records = cursor.fetch(limit)
            registry, encryption = self._backend.config.registry, self._backend._encryption()
            instrumentation = self._backend.config.instrumentation
            for record in records:
                recorded = Recorded.of(record, registry, encryption)
                carrier = (recorded.wrapped_event.context.model_extra or {}).get("trace") or {}
                with (
                    instrumentation.handling(carrier, f"event_sourcery.project {self.name}"),
                    caused_by(recorded.wrapped_event),
                ):
                    self._handler(recorded)
            if cursor.position > position:
                checkpoints.save(self.name, cursor.position)
        finally:
            cursor.close()
        return len(records)

    @property
    def backend(self) -> Backend:
        """The backend whose events, checkpoint and transaction this projector works in."""
        return self._backend

    @property
    def position(self) -> int:
        """The checkpoint: every event up to it was applied (locks it for this transaction)."""
        return self._backend._checkpoint_strategy().load(self.name)

    def reset(self) -> None:
        """Start over from position 0, calling `on_reset` to clear the read model.

        All in the backend's current transaction: commit it, and the next `run_once`
        applies the log from its start. Without `on_reset`, clear the read model yourself in
        the same transaction.
        """
        self._backend._checkpoint_strategy().load(self.name)
        if self._on_reset is not None:
            self._on_reset()
        self._backend._checkpoint_strategy().save(self.name, 0)
