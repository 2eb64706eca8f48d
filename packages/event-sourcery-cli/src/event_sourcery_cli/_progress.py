"""Progress of a long command (copy, rebuild): a bar on a terminal, plain lines when piped.

Progress goes to standard error, so standard output keeps only the command's result. The
amount of work is measured in global positions (the start and the head are known before the
first event is read, counting events would need a pass of its own): on the SQL backends a
position is an event, on KurrentDB a commit position (bytes), which moves as evenly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from event_sourcery_cli._output import console, is_tty

#: Seconds between two plain progress lines.
_LINE_EVERY = 2.0


def _rate(events: int, seconds: float) -> float:
    return events / seconds if seconds > 0 else 0.0


def _eta(done: int, total: int, seconds: float) -> str:
    if done <= 0 or total <= done:
        return "0:00:00"
    left = int(seconds * (total - done) / done)
    return f"{left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}"


class Reporter:
    """Tells how far a command is: `advance(events, done)` after each batch.

    Args:
        what: the verb shown in front (``copying``, ``rebuilding balances``).
        total: the work to do, in positions (the head minus the start).
    """

    def __init__(self, what: str, total: int) -> None:
        self.what = what
        self.total = max(total, 0)
        self.events = 0
        self.done = 0
        self._started = time.monotonic()
        self._last_line = self._started
        err = console(stderr=True)
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if is_tty(err):
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[events]} events, {task.fields[rate]:,.0f} events/s"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=err,
                transient=False,
            )
        self._err = err

    def __enter__(self) -> Reporter:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self.what, total=self.total, events=0, rate=0.0)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif kind is None:
            self._line()

    @property
    def seconds(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self._started

    @property
    def rate(self) -> float:
        """Events per second so far."""
        return _rate(self.events, self.seconds)

    def advance(self, events: int, done: int) -> None:
        """`events` more were handled; `done` positions of `total` are behind."""
        self.events += events
        self.done = min(max(done, 0), self.total)
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.done, events=self.events, rate=self.rate)
            return
        now = time.monotonic()
        if now - self._last_line >= _LINE_EVERY:
            self._last_line = now
            self._line()

    def _line(self) -> None:
        percent = 100.0 * self.done / self.total if self.total else 100.0
        self._err.file.write(
            f"{self.what}: {self.events} events, {percent:.0f}%, {self.rate:,.0f} events/s, "
            f"ETA {_eta(self.done, self.total, self.seconds)}\n"
        )
        self._err.file.flush()


@contextmanager
def reporting(what: str, total: int) -> Iterator[Reporter]:
    """A `Reporter` for the length of a ``with`` block."""
    with Reporter(what, total) as reporter:
        yield reporter
