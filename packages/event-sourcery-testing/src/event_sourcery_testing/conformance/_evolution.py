"""Schema evolution: old events read as the current class, and reads change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from event_sourcery import Backend, Event, EventRegistry, StreamId
from event_sourcery.exceptions import EventSerializationError

from event_sourcery_testing.conformance._hooks import Hooks
from event_sourcery_testing.conformance._support import first_batch

_NAME = "es_conformance.Priced"


class PricedV1(Event):
    """The first shape: a whole amount."""

    __event_name__ = "es_conformance.PricedV1"
    amount: int


class PricedV2(Event):
    """Today's shape: cents and a currency."""

    __event_name__ = "es_conformance.PricedV2"
    __schema_version__ = 2
    cents: int
    currency: str


class Renamed(Event):
    """A class renamed from `es_conformance.BeforeRename`."""

    __event_name__ = "es_conformance.Renamed"
    amount: int


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"cents": data["amount"] * 100, "currency": "EUR"}


def _registries() -> tuple[EventRegistry, EventRegistry]:
    old, new = EventRegistry(), EventRegistry()
    old.add(PricedV1, name=_NAME)
    new.add(PricedV2, name=_NAME)
    new.upcaster(PricedV2, from_version=1)(_v1_to_v2)
    return old, new


class EvolutionContract(Hooks):
    """Upcasters and aliases on every read path."""

    def test_v1_events_load_as_v2_and_stay_stored_as_v1(self, backend: Backend) -> None:
        old, new = _registries()
        stream = StreamId(category="evolving")
        backend.with_registry(old).event_store.append(PricedV1(amount=3), stream_id=stream)
        reader = backend.with_registry(new).event_store
        before = reader.load_stream_raw(stream)
        assert [w.event for w in reader.load_stream(stream)] == [
            PricedV2(cents=300, currency="EUR")
        ]
        assert reader.load_stream_raw(stream) == before
        assert (before[0].data, before[0].schema_version) == ({"amount": 3}, 1)
        reader.append(PricedV2(cents=5, currency="PLN"), stream_id=stream, expected_version=1)
        assert [w.event for w in reader.load_stream(stream)] == [
            PricedV2(cents=300, currency="EUR"),
            PricedV2(cents=5, currency="PLN"),
        ]

    def test_subscriptions_upcast_too(self, backend: Backend) -> None:
        old, new = _registries()
        category = f"evolving-{StreamId().hex}"
        backend.with_registry(old).event_store.append(
            PricedV1(amount=1), stream_id=StreamId(category=category)
        )
        self.commit(backend)
        batches = backend.with_registry(new).subscriber.to_category(category).build_batch(5, 1)
        batch = first_batch(batches)
        assert [r.wrapped_event.event for r in batch] == [PricedV2(cents=100, currency="EUR")]

    def test_missing_upcaster_is_a_clear_error(self, backend: Backend) -> None:
        old, _ = _registries()
        stream = StreamId()
        backend.with_registry(old).event_store.append(PricedV1(amount=3), stream_id=stream)
        bare = EventRegistry()
        bare.add(PricedV2, name=_NAME)
        with pytest.raises(EventSerializationError, match="no upcaster"):
            backend.with_registry(bare).event_store.load_stream(stream)

    def test_renamed_class_reads_its_old_name(self, backend: Backend) -> None:
        before, after = EventRegistry(), EventRegistry()
        before.add(Renamed, name="es_conformance.BeforeRename")
        after.add(Renamed)
        after.alias("es_conformance.BeforeRename", Renamed)
        stream = StreamId()
        backend.with_registry(before).event_store.append(Renamed(amount=1), stream_id=stream)
        backend.with_registry(after).event_store.append(
            Renamed(amount=2), stream_id=stream, expected_version=1
        )
        raws = backend.event_store.load_stream_raw(stream)
        assert [r.type for r in raws] == ["es_conformance.BeforeRename", "es_conformance.Renamed"]
        loaded = backend.with_registry(after).event_store.load_stream(stream)
        assert [w.event for w in loaded] == [Renamed(amount=1), Renamed(amount=2)]
