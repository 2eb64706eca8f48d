"""The loop of `manage.py event_sourcery_worker`: publish the outbox, run projections.

Each batch is one transaction (`transaction.atomic` on the batch's database): the outbox
entries it published are removed, or a projection's read-model writes and its checkpoint are
saved, together or not at all. A stop request (SIGTERM, SIGINT) is honoured between batches,
so the batch in progress always commits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from django.db import close_old_connections, transaction
from event_sourcery import Projector, Recorded
from event_sourcery.exceptions import InvalidInput

from event_sourcery_django._backend import DjangoBackend

logger = logging.getLogger("event_sourcery_django.worker")
logger.addHandler(logging.NullHandler())  # no last-resort output on stderr: docs/logging.md

Publisher = Callable[[Recorded], object]


def _django_backend(backend: object, what: str) -> DjangoBackend:
    if not isinstance(backend, DjangoBackend):
        raise InvalidInput(f"{what} must work on a DjangoBackend, not {type(backend).__name__}")
    return backend


class Worker:
    """Runs batches of the outbox and of projections until `stop()` is called.

    Args:
        backend: the backend whose outbox is published (its `with_outbox` settings apply).
        publisher: hands one event to your broker; None: the outbox is left alone.
        projectors: projections to keep up to date, each in its own backend's transaction.
        batch_size: events per batch (one transaction each).
        idle_wait: seconds to wait when a round found nothing to do.
    """

    def __init__(
        self,
        backend: DjangoBackend,
        *,
        publisher: Publisher | None = None,
        projectors: Sequence[Projector] = (),
        batch_size: int = 100,
        idle_wait: float = 1.0,
    ) -> None:
        self.backend = _django_backend(backend, "the outbox")
        self.publisher = publisher
        self.projectors = list(projectors)
        for projector in self.projectors:
            _django_backend(projector.backend, f"projection {projector.name!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput(f"batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self._stopping = threading.Event()

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
        if self.publisher is not None and not self.stopping:
            publisher = self.publisher
            with transaction.atomic(using=self.backend.using):
                done += self.backend.outbox.run(publisher, limit=self.batch_size)
        for projector in self.projectors:
            if self.stopping:
                break
            try:
                with transaction.atomic(using=_django_backend(projector.backend, "").using):
                    done += projector.run_once(self.batch_size)
            except Exception:
                # Rolled back; the projection starts again from its checkpoint next round, and
                # the other projections go on.
                logger.exception("projection %r failed; retrying next round", projector.name)
        return done

    def run(self) -> None:
        """Run batches until `stop()`; wait `idle_wait` seconds when there is nothing to do."""
        logger.info(
            "worker started: outbox %s, projections %s",
            "on" if self.publisher is not None else "off",
            [projector.name for projector in self.projectors] or "none",
        )
        while not self.stopping:
            close_old_connections()  # as Django does between requests
            if self.run_once() == 0:
                self._stopping.wait(self.idle_wait)
        logger.info("worker stopped cleanly")
