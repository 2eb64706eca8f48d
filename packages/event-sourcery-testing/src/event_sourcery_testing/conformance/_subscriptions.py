"""Catch-up subscriptions: order, filters, envelopes, live delivery, time limits."""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import Backend, Event, EventRegistry, Recorded, StreamId, UnknownEventType
from event_sourcery.exceptions import InvalidInput

from event_sourcery_testing.conformance._events import Deposited, Withdrawn
from event_sourcery_testing.conformance._hooks import Hooks
from event_sourcery_testing.conformance._support import first_batch, fresh_name, fresh_tenant

#: Generous bound for "delivered live, not after a full timelimit" (the CI machine is shared).
_LIVE = 5.0


class _Exact(Event):
    amount: int


class _OtherCase(Event):
    amount: int


class _Padded(Event):
    amount: int


# Types whose names differ from `_Exact`'s only by case or a trailing space: a database that
# compares case-insensitively, or pads with spaces (MariaDB's PAD SPACE collations), would
# let them through a filter on `_Exact`.
_EXACT_NAME = "es_conformance.Deposited"


def _look_alike_registry() -> tuple[EventRegistry, list[type[Event]]]:
    registry = EventRegistry()
    registry.add(_Exact, name=_EXACT_NAME)
    registry.add(_OtherCase, name=_EXACT_NAME.lower())
    look_alikes: list[type[Event]] = [_OtherCase]
    try:  # a registry may refuse the name outright, which is as exact
        registry.add(_Padded, name=f"{_EXACT_NAME} ")
    except InvalidInput:
        pass
    else:
        look_alikes.append(_Padded)
    return registry, look_alikes


def _category() -> str:
    return f"sub-{uuid4().hex}"


def _collect(records: Any, count: int, limit: float = 10.0) -> list[Recorded]:
    """Take `count` records from a build_iter iterator, failing after `limit` seconds."""
    found: list[Recorded] = []
    deadline = time.monotonic() + limit
    while len(found) < count:
        assert time.monotonic() < deadline, f"only {len(found)} of {count} records arrived"
        record = next(records)
        if record is not None:
            found.append(record)
    return found


class SubscriptionsContract(Hooks):
    """Subscription behaviour every backend shares.

    Writers commit through `commit(backend)` so readers on other connections see them.
    """

    def test_delivers_appended_events_in_position_order(self, backend: Backend) -> None:
        category, store = _category(), backend.event_store
        start = store.position
        first, second = StreamId(category=category), StreamId(category=category)
        store.append(Deposited(amount=1), Deposited(amount=2), stream_id=first)
        store.append(Withdrawn(amount=3), stream_id=second)
        self.commit(backend)
        records = _collect(
            backend.subscriber.start_from(start).to_category(category).build_iter(1), 3
        )
        assert [r.wrapped_event.event for r in records] == [
            Deposited(amount=1),
            Deposited(amount=2),
            Withdrawn(amount=3),
        ]
        positions = [r.position for r in records]
        assert positions == sorted(set(positions))
        assert positions[0] > start
        assert positions[-1] <= store.position
        assert [r.stream_id for r in records] == [first, first, second]

    def test_start_from_is_exclusive(self, backend: Backend) -> None:
        category, store = _category(), backend.event_store
        stream = StreamId(category=category)
        store.append(*(Deposited(amount=n) for n in range(4)), stream_id=stream)
        self.commit(backend)
        everything = _collect(backend.subscriber.to_category(category).build_iter(1), 4)
        after_second = everything[1].position
        rest = _collect(
            backend.subscriber.start_from(after_second).to_category(category).build_iter(1), 2
        )
        assert [r.position for r in rest] == [r.position for r in everything[2:]]

    def test_record_carries_name_category_tenant_and_envelope(self, backend: Backend) -> None:
        category, name, tenant_id = _category(), fresh_name(), fresh_tenant()
        tenant = backend.in_tenant_mode(tenant_id)
        stream = StreamId(name=name, category=category)
        tenant.event_store.append(Deposited(amount=1), stream_id=stream)
        self.commit(backend)
        (record,) = _collect(backend.subscriber.to_category(category).build_iter(1), 1)
        assert (record.stream_id, record.stream_id.name, record.stream_id.category) == (
            stream,
            name,
            category,
        )
        assert record.tenant_id == tenant_id
        (stored,) = tenant.event_store.load_stream(stream)
        assert record.wrapped_event == stored

    def test_filters_by_event_type_and_tenant(self, backend: Backend) -> None:
        category, tenant_id = _category(), fresh_tenant()
        stream = StreamId(category=category)
        backend.event_store.append(Deposited(amount=1), Withdrawn(amount=2), stream_id=stream)
        backend.in_tenant_mode(tenant_id).event_store.append(
            Withdrawn(amount=3), Deposited(amount=4), stream_id=stream
        )
        self.commit(backend)
        by_type = backend.subscriber.to_category(category).to_events([Withdrawn]).build_iter(1)
        assert [r.wrapped_event.event for r in _collect(by_type, 2)] == [
            Withdrawn(amount=2),
            Withdrawn(amount=3),
        ]
        by_tenant = backend.subscriber.to_category(category).in_tenants(tenant_id).build_iter(1)
        assert [r.tenant_id for r in _collect(by_tenant, 2)] == [tenant_id, tenant_id]
        default = backend.subscriber.to_category(category).in_tenants(None).build_batch(10, 1)
        assert [r.tenant_id for r in first_batch(default)] == [None, None]

    def test_type_filter_compares_names_exactly(self, backend: Backend) -> None:
        registry, look_alikes = _look_alike_registry()
        typed, category = backend.with_registry(registry), _category()
        classes: list[type[Event]] = [*look_alikes, _Exact]
        events = [cls(amount=number) for number, cls in enumerate(classes)]
        typed.event_store.append(*events, stream_id=StreamId(category=category))
        self.commit(backend)
        batch = typed.subscriber.to_category(category).to_events([_Exact]).build_batch(10, 1)
        assert [r.wrapped_event.event for r in first_batch(batch)] == [events[-1]]
        for look_alike in look_alikes:
            only = typed.subscriber.to_category(category).to_events([look_alike])
            assert [type(r.wrapped_event.event) for r in first_batch(only.build_batch(10, 1))] == [
                look_alike
            ]

    def test_deleted_events_are_not_delivered(self, backend: Backend) -> None:
        category, store = _category(), backend.event_store
        doomed, kept = StreamId(category=category), StreamId(category=category)
        store.append(Deposited(amount=1), stream_id=doomed)
        store.append(Deposited(amount=2), stream_id=kept)
        store.delete_stream(doomed)
        self.commit(backend)
        batch = first_batch(backend.subscriber.to_category(category).build_batch(10, 1))
        assert [r.stream_id for r in batch] == [kept]

    def test_batches_fill_up_to_size_then_return_the_rest(self, backend: Backend) -> None:
        category = _category()
        backend.event_store.append(
            *(Deposited(amount=n) for n in range(5)), stream_id=StreamId(category=category)
        )
        self.commit(backend)
        batches = backend.subscriber.to_category(category).build_batch(size=2, timelimit=1)
        assert [len(first_batch(batches)) for _ in range(3)] == [2, 2, 1]

    def test_caught_up_subscription_reports_nothing_after_timelimit(self, backend: Backend) -> None:
        subscription = backend.subscriber.to_category(_category())
        started = time.monotonic()
        assert next(subscription.build_iter(timelimit=0.2)) is None
        assert next(subscription.build_batch(size=3, timelimit=0.2)) == []
        assert time.monotonic() - started >= 0.4

    def test_live_event_is_delivered_before_timelimit(self, backend: Backend) -> None:
        category = _category()
        records = backend.subscriber.start_from(backend.event_store.position).to_category(category)
        iterator = records.build_iter(timelimit=60)

        def write() -> None:
            time.sleep(0.3)
            backend.event_store.append(Deposited(amount=9), stream_id=StreamId(category=category))
            self.commit(backend)

        writer = threading.Thread(target=write)
        started = time.monotonic()
        writer.start()
        try:
            record = next(iterator)
        finally:
            writer.join()
        assert record is not None
        assert record.wrapped_event.event == Deposited(amount=9)
        assert time.monotonic() - started < _LIVE

    @pytest.mark.parametrize("timelimit", [0, 0.05, -1, "1", None])
    def test_too_short_or_bad_timelimit_is_rejected(self, backend: Backend, timelimit: Any) -> None:
        with pytest.raises(InvalidInput):
            backend.subscriber.build_iter(timelimit=timelimit)
        with pytest.raises(InvalidInput):
            backend.subscriber.build_batch(size=10, timelimit=timelimit)

    @pytest.mark.parametrize("position", [-1, 1.5, "0", True])
    def test_bad_start_position_is_rejected(self, backend: Backend, position: Any) -> None:
        with pytest.raises(InvalidInput):
            backend.subscriber.start_from(position)

    def test_bad_filters_are_rejected(self, backend: Backend) -> None:
        with pytest.raises(InvalidInput):
            backend.subscriber.to_events([])
        with pytest.raises(InvalidInput):
            backend.subscriber.to_events([dict])  # type: ignore[type-var]
        with pytest.raises(InvalidInput):
            backend.subscriber.to_category("")
        with pytest.raises(InvalidInput):
            backend.subscriber.build_batch(size=0, timelimit=1)

    def test_unknown_types_stop_typed_reads_but_not_raw_ones(self, backend: Backend) -> None:
        category = _category()
        backend.event_store.append(
            Deposited(amount=1), Withdrawn(amount=2), stream_id=StreamId(category=category)
        )
        self.commit(backend)
        blind = backend.with_registry(EventRegistry())
        with pytest.raises(UnknownEventType) as info:
            first_batch(blind.subscriber.to_category(category).build_batch(10, 1))
        raws = first_batch(blind.subscriber.to_category(category).build_raw_batch(10, 1))
        assert [r.raw.type for r in raws] == [
            "es_conformance.Deposited",
            "es_conformance.Withdrawn",
        ]
        assert info.value.position == raws[0].position
