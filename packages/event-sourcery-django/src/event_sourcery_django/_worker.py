"""The worker of `manage.py event_sourcery_worker`: the core `event_sourcery.Worker` on Django.

The loop (batches, stop requests, signals) is the core's, shared with ``event-sourcery
worker``; this module supplies what only Django knows: each batch is one
``transaction.atomic`` on its backend's database, and stale connections are closed between
rounds, as Django does between requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.db import close_old_connections, transaction
from event_sourcery import Backend, Projector, Recorded
from event_sourcery import Worker as CoreWorker
from event_sourcery.exceptions import InvalidInput

from event_sourcery_django._backend import DjangoBackend

logger = logging.getLogger("event_sourcery_django.worker")
logger.addHandler(logging.NullHandler())  # no last-resort output on stderr: docs/logging.md

Publisher = Callable[[Recorded], object]


def _django_backend(backend: object, what: str) -> DjangoBackend:
    if not isinstance(backend, DjangoBackend):
        raise InvalidInput(f"{what} must work on a DjangoBackend, not {type(backend).__name__}")
    return backend


def atomic(backend: Backend) -> transaction.Atomic:
    """One batch's unit of work: ``transaction.atomic`` on the backend's database."""
    return transaction.atomic(using=_django_backend(backend, "a batch").using)


class Worker(CoreWorker):
    """`event_sourcery.Worker` with Django's transactions; see it for the arguments."""

    def __init__(
        self,
        backend: DjangoBackend,
        *,
        publisher: Publisher | None = None,
        projectors: Sequence[Projector] = (),
        batch_size: int = 100,
        idle_wait: float = 1.0,
    ) -> None:
        _django_backend(backend, "the outbox")
        for projector in projectors:
            _django_backend(projector.backend, f"projection {projector.name!r}")
        super().__init__(
            backend,
            publisher=publisher,
            projectors=projectors,
            batch_size=batch_size,
            idle_wait=idle_wait,
            unit_of_work=atomic,
            between_rounds=close_old_connections,
            logger=logger,
        )
