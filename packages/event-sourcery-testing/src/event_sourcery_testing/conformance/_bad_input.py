"""Bad input gets the library's own errors, and leaves the store unchanged."""

from __future__ import annotations

import math
from typing import Any

import pytest
from event_sourcery import Backend, Event, EventRegistry, StreamId, WrappedEvent
from event_sourcery.exceptions import (
    EventSerializationError,
    InvalidEvent,
    InvalidExpectedVersion,
    InvalidInput,
    InvalidStreamId,
)
from pydantic import BaseModel, ConfigDict

from event_sourcery_testing.conformance._events import Deposited
from event_sourcery_testing.conformance._support import snapshot_of_store


class _Opaque:
    """A value pydantic cannot turn into JSON."""


class Unstorable(Event):
    """An event with a field that has no JSON form."""

    __event_name__ = "es_conformance.Unstorable"
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    thing: Any


class Measured(Event):
    """An event with a float, which Python allows to be NaN or infinite (JSON does not)."""

    __event_name__ = "es_conformance.Measured"
    value: float


class NotAnEvent(BaseModel):
    """Looks like an event, is not one."""

    amount: int


class BadInputContract:
    """Rejections every backend shares."""

    def _existing(self, backend: Backend) -> StreamId:
        stream = StreamId(category="guarded")
        backend.event_store.append(Deposited(amount=1), stream_id=stream)
        return stream

    @pytest.mark.parametrize(
        "item", [NotAnEvent(amount=1), {"amount": 1}, None, "event", Deposited]
    )
    def test_non_events_are_rejected(self, backend: Backend, item: object) -> None:
        stream = self._existing(backend)
        before = snapshot_of_store(backend.event_store, stream)
        with pytest.raises(InvalidEvent):
            backend.event_store.append(
                Deposited(amount=2), item, stream_id=stream, expected_version=1
            )
        assert snapshot_of_store(backend.event_store, stream) == before

    def test_unserialisable_field_is_rejected(self, backend: Backend) -> None:
        stream = self._existing(backend)
        before = snapshot_of_store(backend.event_store, stream)
        with pytest.raises(EventSerializationError, match="Unstorable"):
            backend.event_store.append(
                Deposited(amount=2),
                Unstorable(thing=_Opaque()),
                stream_id=stream,
                expected_version=1,
            )
        assert snapshot_of_store(backend.event_store, stream) == before

    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
    def test_nan_and_infinities_are_refused_before_anything_is_stored(
        self, backend: Backend, value: float
    ) -> None:
        # JSON has no such numbers: one database's JSON column refused them, the others
        # stored a token that only some JSON parsers read back.
        stream = self._existing(backend)
        before = snapshot_of_store(backend.event_store, stream)
        with pytest.raises(EventSerializationError, match="Measured.*NaN or infinite"):
            backend.event_store.append(
                Deposited(amount=2), Measured(value=value), stream_id=stream, expected_version=1
            )
        assert snapshot_of_store(backend.event_store, stream) == before
        with pytest.raises(EventSerializationError):  # nor a snapshot of such a state
            backend.event_store.save_snapshot(stream, WrappedEvent.wrap(Measured(value=value), 1))

    @pytest.mark.parametrize(
        "name", ["nul\x00inside", "tab\tinside", "bell\x07", "trailing ", " leading", "\ud800"]
    )
    def test_event_names_follow_the_identifier_rules(self, backend: Backend, name: str) -> None:
        # The rules of stream names, categories and tenants: a name one database stores
        # and another refuses (NUL), or compares loosely (trailing spaces), is refused
        # when the class is registered, so no backend ever sees it.
        stream = StreamId(category="guarded")
        registry = EventRegistry()
        with pytest.raises(InvalidEvent, match="event name"):
            registry.add(Deposited, name=name)
            backend.with_registry(registry).event_store.append(
                Deposited(amount=1), stream_id=stream
            )
        assert backend.event_store.load_stream_raw(stream) == []

    @pytest.mark.parametrize("expected", [-1, 1.0, "1", True, None])
    def test_bad_expected_versions_are_rejected(self, backend: Backend, expected: object) -> None:
        stream = self._existing(backend)
        before = snapshot_of_store(backend.event_store, stream)
        with pytest.raises(InvalidExpectedVersion):
            backend.event_store.append(
                Deposited(amount=2),
                stream_id=stream,
                expected_version=expected,  # type: ignore[arg-type]
            )
        assert snapshot_of_store(backend.event_store, stream) == before

    @pytest.mark.parametrize(("start", "stop"), [(-1, None), (None, -2), ("1", None), (None, 2.5)])
    def test_bad_ranges_are_rejected(self, backend: Backend, start: object, stop: object) -> None:
        stream = self._existing(backend)
        with pytest.raises(InvalidExpectedVersion):
            backend.event_store.load_stream(stream, start, stop)  # type: ignore[call-overload]

    @pytest.mark.parametrize("stream_id", ["acc-1", None, 42])
    def test_bad_stream_ids_are_rejected(self, backend: Backend, stream_id: object) -> None:
        store = backend.event_store
        with pytest.raises(InvalidStreamId):
            store.append(Deposited(amount=1), stream_id=stream_id)  # type: ignore[arg-type]
        with pytest.raises(InvalidStreamId):
            store.load_stream(stream_id)  # type: ignore[call-overload]
        with pytest.raises(InvalidStreamId):
            store.delete_stream(stream_id)  # type: ignore[arg-type]

    def test_snapshot_must_be_a_versioned_wrapped_event(self, backend: Backend) -> None:
        stream = self._existing(backend)
        with pytest.raises(InvalidEvent):
            backend.event_store.save_snapshot(stream, Deposited(amount=1))  # type: ignore[arg-type]
        with pytest.raises(InvalidEvent):
            backend.event_store.save_snapshot(stream, WrappedEvent.wrap(Deposited(amount=1)))

    def test_every_rejection_is_an_event_store_exception(self, backend: Backend) -> None:
        stream = self._existing(backend)
        with pytest.raises(InvalidInput):
            backend.event_store.append(object(), stream_id=stream, expected_version=1)
