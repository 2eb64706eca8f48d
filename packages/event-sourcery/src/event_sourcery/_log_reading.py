"""How a subscription reads the log, with no I/O: shared by `Subscriber` and `AsyncSubscriber`.

A read is a generator that yields `Fetch` and `Wait` steps and receives what the cursor gave
back (records for a `Fetch`, None for a `Wait`); its return value is what the subscription
delivers next. `read` drives it on a `LogCursor`, `AsyncSubscriber` on an `AsyncLogCursor`, so
the deadline and the filling of batches are decided once.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass

from event_sourcery._recorded import RecordedRaw


@dataclass(frozen=True, slots=True)
class Fetch:
    """Ask the cursor for up to `limit` records; the reply is the list it returned."""

    limit: int


@dataclass(frozen=True, slots=True)
class Wait:
    """Wait on the cursor for new records, at most `timeout` seconds; the reply is None."""

    timeout: float


Steps = Generator[Fetch | Wait, list[RecordedRaw] | None, list[RecordedRaw]]


def next_records(limit: int, timelimit: float) -> Steps:
    """Up to `limit` records as soon as some are ready; `[]` after `timelimit` seconds."""
    deadline = time.monotonic() + timelimit
    while True:
        records = yield Fetch(limit)
        if records:
            return records
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        yield Wait(remaining)


def next_batch(size: int, timelimit: float) -> Steps:
    """`size` records as soon as they are ready, fewer when the log is caught up, `[]` when
    nothing came within `timelimit` seconds."""
    records = yield from next_records(size, timelimit)
    while records and len(records) < size:
        more = yield Fetch(size - len(records))
        if not more:
            break
        records.extend(more)
    return records
