"""The worker loop: publish the outbox and keep projections up to date, until stopped.

One loop for every way of running it: ``event-sourcery worker --app module:attr`` and
Django's ``manage.py event_sourcery_worker`` both run a `Worker`. Each batch is one unit of
work (`UnitOfWork`, given by whoever knows the backend's transactions): the outbox entries it
published are removed, or a projection's read-model writes and its checkpoint are saved,
together or not at all. A stop request (`stop`, SIGTERM, SIGINT) is honoured between batches,
so the batch in progress always commits.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import FrameType

from event_sourcery._backend import Backend
from event_sourcery._projection import Projector
from event_sourcery._recorded import Recorded
from event_sourcery.exceptions import InvalidInput

Publisher = Callable[[Recorded], object]
#: Runs one batch on a backend in a transaction: commits when the block succeeds, rolls back
#: when it raises (and lets the exception through).
UnitOfWork = Callable[[Backend], AbstractContextManager[object]]

_logger = logging.getLogger("event_sourcery.worker")
_logger.addHandler(logging.NullHandler())  # no last-resort output on stderr: docs/logging.md


def no_transaction(backend: Backend) -> AbstractContextManager[object]:
    """The unit of work of a backend without transactions (KurrentDB, in-memory): none."""
    return nullcontext()


class Worker:
    """Runs batches of the outbox and of projections until `stop()` is called.

    Args:
        backend: the backend whose outbox is published (its `with_outbox` settings apply);
            None when there is no outbox to publish.
        publisher: hands one event to your broker; None: the outbox is left alone.
        projectors: projections to keep up to date, each in its own backend's transaction.
        batch_size: events per batch (one unit of work each).
        idle_wait: seconds to wait when a round found nothing to do.
        unit_of_work: makes the transaction of one batch on a backend; the default, none,
            suits backends without transactions only. On SQLAlchemy, commit the backend's
            session when the block succeeds and roll it back when it raises.
        between_rounds: called before each round (Django closes stale connections there).
        logger: where the worker says that it started, stopped, or that a projection failed.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        publisher: Publisher | None = None,
        projectors: Sequence[Projector] = (),
        batch_size: int = 100,
        idle_wait: float = 1.0,
        unit_of_work: UnitOfWork = no_transaction,
        between_rounds: Callable[[], object] | None = None,
        logger: logging.Logger = _logger,
    ) -> None:
        if publisher is not None and (backend is None or not callable(publisher)):
            raise InvalidInput("a publisher needs a callable and the backend of the outbox")
        self.backend = backend
        self.publisher = publisher
        self.projectors = list(projectors)
        for projector in self.projectors:
            if not isinstance(projector, Projector):
                raise InvalidInput(f"projectors must be Projectors, got {projector!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput(f"batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.unit_of_work = unit_of_work
        self._between_rounds = between_rounds
        self._logger = logger
        self._stopping = threading.Event()

    def projector(self, name: str) -> Projector:
        """The projector called `name`; `InvalidInput` listing the names if there is none."""
        for projector in self.projectors:
            if projector.name == name:
                return projector
        known = ", ".join(repr(projector.name) for projector in self.projectors) or "none"
        raise InvalidInput(f"no projection {name!r} in this worker (it has: {known})")

    def stop(self) -> None:
        """Finish the batch in progress, then return from `run` (safe from a signal handler)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """Whether `stop` was called."""
        return self._stopping.is_set()

    def run_once(self) -> int:
        """One batch of the outbox and of each projection; how many events they handled."""
        done = 0
        if self.publisher is not None and self.backend is not None and not self.stopping:
            with self.unit_of_work(self.backend):
                done += self.backend.outbox.run(self.publisher, limit=self.batch_size)
        for projector in self.projectors:
            if self.stopping:
                break
            try:
                with self.unit_of_work(projector.backend):
                    done += projector.run_once(self.batch_size)
            except Exception:
                # Rolled back; the projection starts again from its checkpoint next round, and
                # the other projections go on.
                self._logger.exception("projection %r failed; retrying next round", projector.name)
        return done

    def run(self) -> None:
        """Run batches until `stop()`; wait `idle_wait` seconds when there is nothing to do."""
        self._logger.info(
            "worker started: outbox %s, projections %s",
            "on" if self.publisher is not None else "off",
            [projector.name for projector in self.projectors] or "none",
        )
        while not self.stopping:
            if self._between_rounds is not None:
                self._between_rounds()
            if self.run_once() == 0:
                self._stopping.wait(self.idle_wait)
        self._logger.info("worker stopped cleanly")

    def run_until_signalled(self) -> None:
        """`run`, with SIGTERM and SIGINT (Ctrl-C) calling `stop`; from the main thread only.

        The signal handlers in place before are put back when it returns.
        """
        with self._stopped_by_signals():
            self.run()

    @contextmanager
    def _stopped_by_signals(self) -> Iterator[None]:
        def stop(signum: int, frame: FrameType | None) -> None:
            self.stop()

        previous = {
            signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
