"""Typed reads: `load_stream(..., of=...)`, `LoadedStream.version`, typed subscriptions.

The typing itself is checked by ``mypy --strict`` over this module (`assert_type`); the tests
check what the types promise at run time.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from contextlib import closing
from typing import Any, assert_type
from uuid import uuid4

import pytest
from event_sourcery import (
    NO_VERSIONING,
    Backend,
    Event,
    EventRegistry,
    LoadedStream,
    Recorded,
    StreamId,
    Subscriber,
    UnexpectedEventType,
    WrappedEvent,
)
from event_sourcery.exceptions import InvalidInput

from event_sourcery_testing.conformance._events import (
    Balance,
    CartEvent,
    Deposited,
    ItemAdded,
    ItemRemoved,
)
from event_sourcery_testing.conformance._hooks import Hooks
from event_sourcery_testing.conformance._support import payloads, snapshot_of_store, versions


def _cart(backend: Backend) -> StreamId:
    stream = StreamId(category="cart")
    backend.event_store.append(ItemAdded(sku="pen"), ItemRemoved(sku="pen"), stream_id=stream)
    return stream


def _reloaded(name: str) -> type[Event]:
    """A class as a module reload makes it: same module and name, another class object."""

    class Reloaded(Event):
        __event_name__ = name
        sku: str

    return Reloaded


class TypedReadsContract(Hooks):
    """Typed loads and subscriptions every backend shares (the core decides them once)."""

    def test_typed_load_returns_the_events_typed_by_their_base_class(
        self, backend: Backend
    ) -> None:
        stream = _cart(backend)
        loaded = backend.event_store.load_stream(stream, of=CartEvent)
        assert_type(loaded, LoadedStream[CartEvent])
        assert payloads(loaded) == [ItemAdded(sku="pen"), ItemRemoved(sku="pen")]
        assert [wrapped.event.__event_name__ for wrapped in loaded] == [
            "es_conformance.ItemAdded",
            "es_conformance.ItemRemoved",
        ]

    def test_typed_load_accepts_a_tuple_of_classes(self, backend: Backend) -> None:
        stream = _cart(backend)
        loaded: LoadedStream[ItemAdded | ItemRemoved] = backend.event_store.load_stream(
            stream, of=(ItemAdded, ItemRemoved)
        )
        assert [wrapped.event.sku for wrapped in loaded] == ["pen", "pen"]

    def test_typed_load_of_another_class_raises_and_changes_nothing(self, backend: Backend) -> None:
        store, stream = backend.event_store, _cart(backend)
        before = snapshot_of_store(store, stream)
        with pytest.raises(UnexpectedEventType, match="ItemRemoved.*version 2") as info:
            store.load_stream(stream, of=ItemAdded)
        assert (info.value.actual, info.value.expected) == (ItemRemoved, (ItemAdded,))
        assert (info.value.stream_id, info.value.version) == (stream, 2)
        assert snapshot_of_store(store, stream) == before
        assert len(store.load_stream(stream, start=1, stop=2, of=ItemAdded)) == 1

    def test_typed_load_checks_the_snapshot_too(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream)
        store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=1), 1))
        with pytest.raises(UnexpectedEventType, match="Balance"):
            store.load_stream(stream, of=Deposited)
        loaded = store.load_stream(stream, of=(Balance, Deposited))
        assert payloads(loaded) == [Balance(total=1)]
        assert loaded.version == 1

    @pytest.mark.parametrize("of", [int, (), (Deposited, str), "Deposited", None.__class__])
    def test_typed_load_rejects_what_is_not_event_classes(self, backend: Backend, of: Any) -> None:
        with pytest.raises(InvalidInput, match="of= must be an Event class"):
            backend.event_store.load_stream(_cart(backend), of=of)

    def test_loaded_stream_knows_the_version_to_append_at(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        missing = store.load_stream(stream)
        assert (missing, missing.version) == ([], 0)
        store.append(Deposited(amount=1), stream_id=stream, expected_version=missing.version)
        loaded = store.load_stream(stream, of=Deposited)
        assert loaded.version == 1
        store.append(Deposited(amount=2), stream_id=stream, expected_version=loaded.version)
        assert versions(store.load_stream(stream)) == [1, 2]
        assert store.load_stream(stream).version == 2
        assert store.load_stream(stream, stop=2).version == 1

    def test_loaded_versionless_stream_appends_without_versions(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream, expected_version=NO_VERSIONING)
        loaded = store.load_stream(stream, of=Deposited)
        assert loaded.version is NO_VERSIONING
        store.append(Deposited(amount=2), stream_id=stream, expected_version=loaded.version)
        assert versions(store.load_stream(stream)) == [None, None]

    def test_subscription_to_events_is_typed_and_checked(self, backend: Backend) -> None:
        name = f"es_conformance.typed-{uuid4().hex}"
        old, new = _reloaded(name), _reloaded(name)
        registry = EventRegistry()
        registry.add(old, name=name)
        writer, category = backend.with_registry(registry), f"typed-{uuid4().hex}"
        start = writer.event_store.position
        writer.event_store.append(
            old(sku="a"), ItemAdded(sku="b"), stream_id=StreamId(category=category)
        )
        self.commit(writer)
        subscriber = writer.subscriber.start_from(start).to_category(category)
        typed: Subscriber[Event] = subscriber.to_events([old, ItemAdded])
        records = self._take(typed.build_batch(10, 1), 2)
        assert [type(r.wrapped_event.event) for r in records] == [old, ItemAdded]
        added = subscriber.to_events([ItemAdded]).build_batch(10, 1)
        assert_type(added, Generator[list[Recorded[ItemAdded]], None, None])
        assert [r.wrapped_event.event.sku for r in self._take(added, 1)] == ["b"]
        registry.add(new, name=name)  # a reload: the name now reads as another class
        with pytest.raises(UnexpectedEventType, match="Reloaded") as info:
            self._take(typed.build_batch(10, 1), 2)
        assert info.value.position is not None

    @staticmethod
    def _take(
        batches: Generator[list[Recorded[Any]], None, None], count: int
    ) -> list[Recorded[Any]]:
        """`count` records from a build_batch iterator, which is then closed."""
        found: list[Recorded[Any]] = []
        deadline = time.monotonic() + 10
        with closing(batches):
            while len(found) < count:
                assert time.monotonic() < deadline, f"{len(found)} of {count} records arrived"
                found.extend(next(batches))
        return found
