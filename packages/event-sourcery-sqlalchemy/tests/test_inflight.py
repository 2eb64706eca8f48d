"""PostgreSQL markers: which transactions a snapshot holds as running.

A snapshot lists in-progress ids only below its ``xmax`` (one past the newest completed id); an
id at or above it is running too. Taking the list for the whole truth once settled a gap whose
writer was still in flight, and its event was never delivered.
"""

from __future__ import annotations

from event_sourcery_sqlalchemy._inflight import PgSnapshot, _widen


def test_a_transaction_newer_than_every_completed_one_is_running_though_not_listed() -> None:
    snapshot = PgSnapshot.parse("20806:20806:")
    assert snapshot.listed == frozenset()
    assert snapshot.running(20806)
    assert snapshot.running(20807)
    assert not snapshot.running(20805)


def test_listed_transactions_are_running_and_the_rest_below_xmax_ended() -> None:
    snapshot = PgSnapshot.parse("100:105:100,103")
    assert [x for x in range(99, 108) if snapshot.running(x)] == [100, 103, 105, 106, 107]


def test_32_bit_ids_widen_to_the_epoch_of_the_reference() -> None:
    epoch = 7 << 32
    assert _widen(12, epoch + 10) == epoch + 12
    # Around a wraparound of the 32-bit counter, both ways.
    assert _widen(0xFFFFFFF0, epoch + 5) == epoch - 16
    assert _widen(3, epoch - 16) == epoch + 3
