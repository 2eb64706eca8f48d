"""New event ids: version 7 uuids, ordered by time, distinct, valid for UUID's own checks."""

import time
from uuid import UUID

from event_sourcery import Event, WrappedEvent
from event_sourcery._readers import new_uuids


class _Noted(Event):
    __event_name__ = "es_core_tests.event_ids.Noted"


def test_new_ids_are_version_7_of_the_rfc_variant_and_distinct() -> None:
    ids = new_uuids(1000)
    assert len(set(ids)) == 1000
    for made in ids:
        assert made.version == 7
        assert made.variant == "specified in RFC 4122"
        assert UUID(str(made)) == made  # what UUID's own parser makes of its text


def test_new_ids_carry_the_time_in_milliseconds_so_later_ones_sort_after() -> None:
    before = time.time_ns() // 1_000_000
    (first,) = new_uuids(1)
    time.sleep(0.002)
    (second,) = new_uuids(1)
    after = time.time_ns() // 1_000_000
    assert before <= first.int >> 80 <= second.int >> 80 <= after
    assert first.hex < second.hex  # as text too: SQLite and MariaDB index the hex form


def test_wrapped_events_get_such_ids_by_default() -> None:
    for wrapped in (WrappedEvent(_Noted()), WrappedEvent.wrap(_Noted())):
        assert wrapped.uuid.version == 7
