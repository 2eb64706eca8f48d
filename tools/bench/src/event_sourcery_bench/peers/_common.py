"""What every peer script shares: the job it is given, the payload and the report.

A peer script runs in the peer's own virtual environment, which holds neither this project nor
(for eventsourcing) pydantic, so this module uses the standard library only; the harness puts
this package's folder on the script's `PYTHONPATH`. The harness passes one job as JSON in
`argv[1]`; the script prints one JSON object as its last line of output: `amount` and `seconds`
of the timed part (as the harness' own run functions return them) and an optional `note`.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

#: Events per append in W3 and per page in W5, as in the harness.
BATCH = 100
PAGE = 500
#: The length of W4's stream.
STREAM_LENGTH = 1000
#: How long a follower may take to deliver what the writers wrote.
FOLLOW_DEADLINE = 120.0

Job = dict[str, Any]
Result = tuple[int, float] | tuple[int, float, str]


def payment_fields(n: int) -> dict[str, Any]:
    """The n-th payment's fields (`event_sourcery_bench._payload.payment` is made of them)."""
    return {
        "account": f"account-{n % 977:06d}-ledger-main",
        "amount": 1000 + n,
        "currency": "EUR",
        "reference": f"invoice/2026/{n:08d}/settlement-batch",
        "note": "monthly subscription renewal, paid by card ending 4242, thank you",
    }


def writers(job: Job) -> int:
    """W6's writer processes: 4, 16 for the saturation row (W6s), 2 for a quick run."""
    if job["size"] < 100:
        return 2
    return 16 if job["workload"] == "W6s" else 4


def main(runs: dict[str, Callable[[Job], Result]], argv: Sequence[str] | None = None) -> int:
    """Run the job of `argv[1]` with `runs[job["workload"]]` and print its report."""
    job: Job = json.loads((argv or sys.argv)[1])
    result = runs[job["workload"]](job)
    report: dict[str, Any] = {"amount": result[0], "seconds": result[1]}
    if len(result) == 3:
        report["note"] = result[2]
    print(json.dumps(report), flush=True)
    return 0


class Follower:
    """Counts what a follower delivered, and when the writers finished."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.positions: list[int] = []
        self.finished: float | None = None

    def watch(self, processes: Sequence[Any]) -> None:
        """Note the moment the last writer process ends (in a thread of its own)."""

        def join() -> None:
            for process in processes:
                process.join()
            self.finished = time.perf_counter()

        threading.Thread(target=join, daemon=True).start()

    def follow(self, positions: Iterator[int]) -> None:
        """Take positions until every written event came or the deadline passed."""
        deadline = time.monotonic() + FOLLOW_DEADLINE
        for position in positions:
            self.positions.append(position)
            if len(set(self.positions)) >= self.total or time.monotonic() > deadline:
                return

    def result(self, started: float) -> Result:
        """The writers' rate and the follower's counts, as the harness' W6 notes them."""
        while self.finished is None:
            time.sleep(0.01)
        delivered = len(set(self.positions))
        note = (
            f"follower: written {self.total}, delivered {delivered}, "
            f"missed {self.total - delivered}, "
            f"duplicated {len(self.positions) - delivered}, "
            f"in order {self.positions == sorted(self.positions)}"
        )
        return self.total, self.finished - started, note
