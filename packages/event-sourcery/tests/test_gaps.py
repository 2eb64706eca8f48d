"""The gap rule, checked against a simulated log of concurrent transactions."""

from event_sourcery.interfaces import GapTracker
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
