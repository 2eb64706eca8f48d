"""A slow publisher and a slow projection for the worker tests' subprocesses.

Both append the position of each event they handle to the file ``ES_DJANGO_LOG`` names, then
sleep, so that a test can send SIGTERM while a batch is in progress.
"""

from __future__ import annotations

import os
import time

from event_sourcery import Projector, Recorded
from event_sourcery_django import DjangoBackend
from event_sourcery_testing.conformance._events import Deposited

PAUSE = 0.3
#: The tests append these; importing the class registers it in this process too.
EVENTS = (Deposited,)


def _handle(record: Recorded) -> None:
    with open(os.environ["ES_DJANGO_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{record.position}\n")
    time.sleep(PAUSE)


def slow_publish(record: Recorded) -> None:
    """Publishes nowhere, slowly."""
    _handle(record)


slow_projection = Projector(
    DjangoBackend(),
    name=os.environ.get("ES_DJANGO_PROJECTION", "worker-tests"),
    handler=_handle,
    categories=[os.environ.get("ES_DJANGO_CATEGORY", "worker-tests")],
)
