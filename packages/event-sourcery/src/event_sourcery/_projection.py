"""Projections: apply events to a read model, checkpointed in the read model's transaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from event_sourcery._event import Event
from event_sourcery._limits import check_stream_label
from event_sourcery._reacting import (
    Decoding,
    Fetch,
    Hand,
    Load,
    Open,
    ProjectStep,
    Save,
    project,
    run_steps,
)
from event_sourcery._recorded import Recorded
from event_sourcery._subscription import LogCursor, SubscriptionFilter
from event_sourcery.exceptions import InvalidInput

if TYPE_CHECKING:
    from event_sourcery._async_backend import AsyncBackend
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


TBackend = TypeVar("TBackend", "Backend", "AsyncBackend")


class ProjectorBase(Generic[TBackend]):
    """What `Projector` and `AsyncProjector` share: the checked arguments and the filter."""

    def __init__(
        self,
        backend: TBackend,
        *,
        name: str,
        handler: Handler,
        categories: Iterable[str] | None = None,
        events: Iterable[type[Event]] | None = None,
        on_reset: Callable[[], object] | None = None,
    ) -> None:
        self._backend: TBackend = backend
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

    def _steps(self, limit: int) -> Generator[ProjectStep, Any, int]:
        """One `run_once`'s steps (see `_reacting.project`)."""
        backend = self._backend
        config = backend.config
        decoding = Decoding(config.registry, backend._encryption(), config.instrumentation)
        return project(self.name, limit, decoding)

    @property
    def backend(self) -> TBackend:
        """The backend whose events, checkpoint and transaction this projector works in."""
        return self._backend


class Projector(ProjectorBase["Backend"]):
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

    def run_once(self, limit: int = 500) -> int:
        """Apply up to `limit` new events; return how many were applied.

        0 means nothing is deliverable now: caught up, or waiting behind a transaction still
        open at a gap of the global log (see `LogCursor.fetch`); a worker calls it again
        later, and nothing is skipped.
        """
        checkpoints = self._backend._checkpoint_strategy()
        subscriptions = self._backend._subscription_strategy()
        cursors: list[LogCursor] = []

        def do(step: ProjectStep) -> object:
            if isinstance(step, Load):
                return checkpoints.load(step.name)
            if isinstance(step, Fetch):
                return cursors[0].fetch(step.limit), cursors[0].position
            if isinstance(step, Open):
                cursors.append(subscriptions.open(step.position, self._filter))
            elif isinstance(step, Hand):
                self._handler(step.recorded)
            elif isinstance(step, Save):
                checkpoints.save(step.name, step.position)
            else:
                cursors[0].close()
            return None

        return run_steps(self._steps(limit), do)

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
