"""Gap-free reading of a global log whose positions are allocated before commit.

Positions (autoincrement ids) are handed out when a transaction inserts, but become visible
when it commits, so a reader can see position 7 while 6 is still in flight. Skipping 6 would
lose it for good if its transaction later commits; waiting on a timer is a guess. The rule used
here, for every backend with concurrent writers:

    A missing position is passed only after every transaction that was in progress when the gap
    was observed has ended, and a read made after that still does not show it.

Why this is enough: the writer that holds a missing position p < v (v visible) allocated p before
v, and got its transaction id before p (every append writes the stream row first, which assigns
the transaction id, then inserts events; backends MUST keep that order). v committed before our
read, so p's transaction existed before our read; a marker of in-flight transactions taken after
the read therefore includes it, or it had ended, in which case a later read shows p if committed.

No I/O here: a backend supplies the reads and the in-flight markers, whatever its driver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Marker = TypeVar("Marker")


@dataclass
class GapTracker(Generic[Marker]):
    """Decides how far a reader may advance over the positions it has seen. O(1) state.

    Per poll: `tracker.confirm(ended)` *before* reading positions, then
    `bound = tracker.safe_bound(seen, take_marker)`; everything up to `bound`
    is safe to deliver, and positions missing below it are permanent gaps (rolled back or
    deleted). Then `tracker.advance(bound)`.
    """

    position: int
    #: Every position <= settled is visible or will never be (its observers have ended).
    settled: int = 0
    #: (marker, highest position seen) of the oldest read that saw a still-open gap.
    _pending: tuple[Marker, int] | None = field(default=None)

    def confirm(self, ended: Callable[[Marker], bool]) -> None:
        """Settle the pending gaps if every transaction in flight when they were seen ended.

        Call before the next read, so that read shows anything those transactions committed.
        """
        if self._pending is not None and ended(self._pending[0]):
            self.settled = max(self.settled, self._pending[1])
            self._pending = None

    @property
    def waiting(self) -> bool:
        """Whether a gap is open, i.e. delivery is held back until a transaction ends."""
        return self._pending is not None

    @property
    def marker(self) -> Marker | None:
        """The marker the open gap waits on (None if no gap is open): what `confirm` asks
        about, for a caller that must look it up before it can answer."""
        return None if self._pending is None else self._pending[0]

    def opens_gap(self, seen: Sequence[int]) -> bool:
        """Whether `safe_bound(seen, ...)` would take a marker: a gap not yet settled, and none
        pending. A caller whose marker costs a statement takes it first, only then."""
        if self._pending is not None or not seen or seen[-1] - self.position == len(seen):
            return False  # waiting already, or no position missing
        bound = self.position
        for position in seen:
            if self._unsettled_gap(bound, position):
                return True
            bound = position
        return False

    def _unsettled_gap(self, bound: int, position: int) -> bool:
        return position > bound + 1 and position - 1 > self.settled

    def safe_bound(
        self, seen: Sequence[int], marker: Callable[[], Marker], *, horizon: int | None = None
    ) -> int:
        """The highest position up to which nothing can still appear.

        Args:
            seen: positions after `self.position` visible in one read, ascending.
            marker: takes the backend's record of transactions in flight, after that read
                (now). Called only when a gap opens, at most once: markers cost a query.
            horizon: the highest position visible in that same read, when `seen` is only its
                first page. Once the marker's transactions end, every gap below the horizon is
                settled at once, not page by page (the rule holds for any visible position).
        """
        bound = self.position
        for position in seen:
            if self._unsettled_gap(bound, position):
                # A gap not yet settled: hold delivery there until its observers end.
                if self._pending is None:
                    self._pending = (marker(), max(seen[-1], horizon or 0))
                return bound
            bound = position
        return bound

    def advance(self, position: int) -> None:
        """Record that everything up to `position` was delivered."""
        self.position = max(self.position, position)
