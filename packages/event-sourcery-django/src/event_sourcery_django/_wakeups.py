"""Waking subscriptions when events are committed.

PostgreSQL appends NOTIFY `CHANNEL`, which every cursor LISTENs to (see `_subscription`): a wake-up
crosses processes as soon as the transaction commits. On the other databases an append wakes
the cursors of its own process when its transaction commits (`transaction.on_commit`), and
cursors poll for the appends of other processes.
"""

from __future__ import annotations

import threading
from collections import defaultdict

#: The channel PostgreSQL appends notify.
CHANNEL = "event_sourcery_django"

_lock = threading.Lock()
_changed: defaultdict[str, threading.Condition] = defaultdict(lambda: threading.Condition(_lock))
_generation: defaultdict[str, int] = defaultdict(int)


def committed(using: str) -> None:
    """Wake the cursors of this process that read database alias `using`."""
    with _lock:
        _generation[using] += 1
        _changed[using].notify_all()


def generation(using: str) -> int:
    """A number that changes whenever `committed(using)` runs."""
    with _lock:
        return _generation[using]


def wait(using: str, seen: int, timeout: float) -> None:
    """Block until `committed(using)` runs after `generation` returned `seen`, or `timeout`."""
    with _lock:
        if _generation[using] == seen:
            _changed[using].wait(timeout)
