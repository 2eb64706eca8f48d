"""The gap rule, checked against a simulated log of concurrent transactions."""

from event_sourcery.sql import (
    GapTracker,
)
from hypothesis import given, settings
from hypothesis import strategies as st


class SimulatedLog:
    """Transactions take an id (after getting a transaction id) and commit in any order."""

    def __init__(self) -> None:
        self.next_id = 1
        self.open: dict[int, list[int]] = {}
        self.committed: set[int] = set()
        self.next_tx = 1

    def begin(self) -> None:
        self.open[self.next_tx] = []
        self.next_tx += 1

    def insert(self, pick: int) -> None:
        if self.open:
            tx = sorted(self.open)[pick % len(self.open)]
            self.open[tx].append(self.next_id)
            self.next_id += 1

    def end(self, pick: int, commit: bool) -> None:
        if self.open:
            tx = sorted(self.open)[pick % len(self.open)]
            ids = self.open.pop(tx)
            if commit:
                self.committed.update(ids)


class Reader:
    def __init__(self, log: SimulatedLog, page: int | None = None) -> None:
        self.log = log
        #: Positions read per poll; the rest of the read is known only by its horizon.
        self.page = page
        self.tracker: GapTracker[frozenset[int]] = GapTracker(position=0)
        self.delivered: list[int] = []

    def poll(self) -> None:
        self.tracker.confirm(lambda marker: not (marker & self.log.open.keys()))
        seen = sorted(p for p in self.log.committed if p > self.tracker.position)
        horizon = seen[-1] if seen else None
        seen = seen[: self.page]
        # taken after the read
        bound = self.tracker.safe_bound(seen, lambda: frozenset(self.log.open), horizon=horizon)
        self.delivered.extend(p for p in seen if p <= bound)
        self.tracker.advance(bound)


operations = st.lists(
    st.tuples(
        st.sampled_from(["write", "write", "insert", "commit", "commit", "abort", "poll", "poll"]),
        st.integers(0, 7),
    ),
    min_size=5,
    max_size=80,
)


@settings(max_examples=500, deadline=None)
@given(operations, st.sampled_from([None, 1, 2]))
def test_reader_delivers_every_committed_position_once_in_order(
    ops: list[tuple[str, int]], page: int | None
) -> None:
    log = SimulatedLog()
    reader = Reader(log, page)
    for op, pick in ops:
        if op == "write":  # a new transaction that inserts right away
            log.begin()
            log.insert(-1)
        elif op == "insert":
            log.insert(pick)
        elif op in ("commit", "abort"):
            log.end(pick, commit=op == "commit")
        else:
            reader.poll()
        assert reader.delivered == sorted(set(reader.delivered))
        assert set(reader.delivered) <= log.committed
    while log.open:
        log.end(0, commit=True)
    for _ in range(3 + len(log.committed)):
        reader.poll()
    assert reader.delivered == sorted(log.committed)


def test_gap_holds_delivery_until_its_transaction_ends() -> None:
    log = SimulatedLog()
    reader = Reader(log)
    log.begin()
    log.insert(0)  # tx 1 holds position 1
    log.begin()
    log.insert(1)  # tx 2 holds position 2
    log.end(1, commit=True)  # 2 visible, 1 in flight
    reader.poll()
    assert reader.delivered == []
    assert reader.tracker.waiting
    log.end(0, commit=True)
    reader.poll()
    assert reader.delivered == [1, 2]


def test_rolled_back_gap_is_passed_after_its_transaction_ends() -> None:
    log = SimulatedLog()
    reader = Reader(log)
    log.begin()
    log.insert(0)
    log.begin()
    log.insert(1)
    log.end(1, commit=True)
    reader.poll()
    log.end(0, commit=False)
    reader.poll()  # settles the gap: its transaction ended
    reader.poll()
    assert reader.delivered == [2]
    assert not reader.tracker.waiting


# The tracker alone, poll by poll: each test pins one decision of the rule (found by mutation).


class Markers:
    """Hands out numbered markers and counts them: taking one costs a backend a query."""

    def __init__(self) -> None:
        self.taken = 0

    def __call__(self) -> int:
        self.taken += 1
        return self.taken


def test_contiguous_positions_are_no_gap() -> None:
    tracker: GapTracker[int] = GapTracker(position=4)
    markers = Markers()
    assert tracker.safe_bound([5, 6, 7], markers) == 7
    assert markers.taken == 0
    assert tracker.waiting is False


def test_gap_holds_delivery_before_it_and_takes_one_marker() -> None:
    tracker: GapTracker[int] = GapTracker(position=4)
    markers = Markers()
    assert tracker.safe_bound([5, 7, 8], markers) == 5
    assert tracker.waiting is True
    assert tracker.safe_bound([5, 7, 8], markers) == 5  # still open: no second marker
    assert markers.taken == 1


def test_gap_stays_open_while_its_transactions_run() -> None:
    tracker: GapTracker[int] = GapTracker(position=0)
    tracker.safe_bound([2], Markers())
    tracker.confirm(lambda marker: False)
    assert tracker.waiting is True
    assert tracker.settled == 0
    assert tracker.safe_bound([2], Markers()) == 0


def test_confirm_without_an_open_gap_asks_nothing() -> None:
    tracker: GapTracker[int] = GapTracker(position=3)

    def ended(marker: int) -> bool:
        raise AssertionError("no gap is open, so no marker to ask about")

    tracker.confirm(ended)
    assert tracker.settled == 0


def test_position_just_past_a_settled_gap_is_not_held_again() -> None:
    tracker: GapTracker[int] = GapTracker(position=0)
    tracker.safe_bound([2], Markers())  # 1 is missing
    tracker.confirm(lambda marker: True)
    assert (tracker.settled, tracker.waiting) == (2, False)
    # 2 was deleted meanwhile; 3 is right past the settled gap, and 1..2 can no longer appear.
    markers = Markers()
    assert tracker.safe_bound([3], markers) == 3
    assert markers.taken == 0


def test_several_open_gaps_settle_in_one_poll() -> None:
    # Without a horizon (a backend that reads everything at once calls it so): the tracker
    # remembers the highest position seen, not the first, so gaps 1, 3 and 5 all settle at once.
    tracker: GapTracker[int] = GapTracker(position=0)
    assert tracker.safe_bound([2, 4, 6], Markers()) == 0
    tracker.confirm(lambda marker: True)
    assert tracker.settled == 6
    assert tracker.safe_bound([2, 4, 6], Markers()) == 6


def test_horizon_settles_gaps_beyond_the_page_read() -> None:
    tracker: GapTracker[int] = GapTracker(position=0)
    assert tracker.safe_bound([2], Markers(), horizon=9) == 0
    tracker.confirm(lambda marker: True)
    assert tracker.settled == 9
    markers = Markers()
    assert tracker.safe_bound([2, 4, 6, 9], markers) == 9
    assert markers.taken == 0


def test_a_new_gap_after_the_settled_one_is_held() -> None:
    tracker: GapTracker[int] = GapTracker(position=0)
    tracker.safe_bound([2], Markers())
    tracker.confirm(lambda marker: True)
    tracker.advance(tracker.safe_bound([2], Markers()))
    assert tracker.position == 2
    assert tracker.safe_bound([4], Markers()) == 2
    assert tracker.waiting is True


def test_advance_never_goes_back() -> None:
    tracker: GapTracker[int] = GapTracker(position=5)
    tracker.advance(3)
    assert tracker.position == 5
    tracker.advance(8)
    assert tracker.position == 8
