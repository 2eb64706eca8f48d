"""Appending and loading: versions, optimistic concurrency, versionless streams, positions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import uuid4

import pytest
from event_sourcery import (
    NO_VERSIONING,
    Backend,
    ConcurrentStreamWriteError,
    Context,
    EventRegistry,
    ExpectedVersionUsedOnVersionlessStream,
    NoExpectedVersionGivenOnVersionedStream,
    StreamId,
    UnknownEventType,
    WrappedEvent,
)
from event_sourcery.exceptions import VersionRangeOnVersionlessStream

from event_sourcery_testing.conformance._events import Deposited, Rich, Withdrawn
from event_sourcery_testing.conformance._support import payloads, snapshot_of_store, versions


class StreamsContract:
    """Append/load behaviour every backend shares."""

    def test_missing_stream_loads_as_empty(self, backend: Backend) -> None:
        assert backend.event_store.load_stream(StreamId(category="nowhere")) == []

    def test_first_append_creates_stream_at_version_one(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream)
        loaded = store.load_stream(stream)
        assert payloads(loaded) == [Deposited(amount=1)]
        assert versions(loaded) == [1]

    def test_versions_are_contiguous_across_appends(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId(category="account")
        store.append(Deposited(amount=1), Withdrawn(amount=2), stream_id=stream)
        store.append(Deposited(amount=3), stream_id=stream, expected_version=2)
        store.append(
            *(Deposited(amount=n) for n in range(4, 8)), stream_id=stream, expected_version=3
        )
        loaded = store.load_stream(stream)
        assert versions(loaded) == list(range(1, 8))
        assert payloads(loaded)[:3] == [
            Deposited(amount=1),
            Withdrawn(amount=2),
            Deposited(amount=3),
        ]

    def test_expected_zero_on_existing_stream_is_a_conflict(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream)
        before = snapshot_of_store(store, stream)
        with pytest.raises(ConcurrentStreamWriteError) as info:
            store.append(Deposited(amount=2), stream_id=stream)
        assert (info.value.expected_version, info.value.actual_version) == (0, 1)
        assert info.value.stream_id == stream
        assert snapshot_of_store(store, stream) == before

    def test_stale_expected_version_names_actual_version(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), Deposited(amount=2), stream_id=stream)
        with pytest.raises(ConcurrentStreamWriteError, match="version 2") as info:
            store.append(Deposited(amount=3), stream_id=stream, expected_version=1)
        assert (info.value.expected_version, info.value.actual_version) == (1, 2)
        assert versions(store.load_stream(stream)) == [1, 2]

    def test_expected_version_ahead_of_stream_is_a_conflict(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream)
        with pytest.raises(ConcurrentStreamWriteError):
            store.append(Deposited(amount=3), stream_id=stream, expected_version=5)
        assert versions(store.load_stream(stream)) == [1]

    def test_expected_version_on_missing_stream_is_a_conflict(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        with pytest.raises(ConcurrentStreamWriteError) as info:
            store.append(Deposited(amount=1), stream_id=stream, expected_version=3)
        assert info.value.actual_version is None
        assert store.load_stream(stream) == []

    def test_append_of_nothing_stores_nothing(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(stream_id=stream)
        assert store.load_stream(stream) == []
        store.append(Deposited(amount=1), stream_id=stream)
        assert versions(store.load_stream(stream)) == [1]

    def test_wrapped_event_keeps_its_envelope(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        created = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=5)))
        context = Context(correlation_id=uuid4(), causation_id=uuid4(), user="alice", n=3)
        wrapped = WrappedEvent.wrap(
            Deposited(amount=7), uuid=uuid4(), created_at=created, context=context
        )
        store.append(wrapped, stream_id=stream)
        (loaded,) = store.load_stream(stream)
        assert loaded.uuid == wrapped.uuid
        assert loaded.created_at == created
        assert loaded.created_at.utcoffset() == timedelta(0)
        assert loaded.context == context
        assert loaded.context.model_extra == {"user": "alice", "n": 3}

    def test_created_at_is_timezone_aware_utc(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        before = datetime.now(UTC)
        store.append(Deposited(amount=1), stream_id=stream)
        (loaded,) = store.load_stream(stream)
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= loaded.created_at <= datetime.now(UTC)

    def test_every_field_kind_round_trips(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        rich = Rich(
            text='zażółć ✓ 🐍 "quoted" \\ back',
            number=-1.5e-300,
            big=2**62,
            price=Decimal("12.30"),
            when=datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            ref=uuid4(),
            tags=["a", "", "c" * 1000],
            nested={"x": [1, 2], "": []},
        )
        large = Rich(**{**rich.model_dump(), "text": "y" * 200_000})
        store.append(rich, large, stream_id=stream)
        assert payloads(store.load_stream(stream)) == [rich, large]

    def test_load_range_is_start_inclusive_stop_exclusive(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(*(Deposited(amount=n) for n in range(1, 7)), stream_id=stream)
        assert versions(store.load_stream(stream, start=2, stop=5)) == [2, 3, 4]
        assert versions(store.load_stream(stream, start=5)) == [5, 6]
        assert versions(store.load_stream(stream, stop=2)) == [1]
        assert store.load_stream(stream, start=7) == []
        assert store.load_stream(stream, start=4, stop=4) == []

    def test_versionless_stream_takes_appends_without_versions(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream, expected_version=NO_VERSIONING)
        store.append(
            Deposited(amount=2),
            Withdrawn(amount=3),
            stream_id=stream,
            expected_version=NO_VERSIONING,
        )
        loaded = store.load_stream(stream)
        assert versions(loaded) == [None, None, None]
        assert payloads(loaded) == [Deposited(amount=1), Deposited(amount=2), Withdrawn(amount=3)]

    def test_expected_version_on_versionless_stream_is_rejected(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream, expected_version=NO_VERSIONING)
        for expected in (0, 1):
            with pytest.raises(ExpectedVersionUsedOnVersionlessStream):
                store.append(Deposited(amount=2), stream_id=stream, expected_version=expected)
        assert len(store.load_stream(stream)) == 1

    def test_no_versioning_on_versioned_stream_is_rejected(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream)
        with pytest.raises(NoExpectedVersionGivenOnVersionedStream):
            store.append(Deposited(amount=2), stream_id=stream, expected_version=NO_VERSIONING)
        assert versions(store.load_stream(stream)) == [1]

    def test_version_range_on_versionless_stream_is_rejected(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream, expected_version=NO_VERSIONING)
        with pytest.raises(VersionRangeOnVersionlessStream):
            store.load_stream(stream, start=1)

    def test_same_uuid_in_two_categories_is_two_streams(self, backend: Backend) -> None:
        store, uuid = backend.event_store, uuid4()
        first, second, bare = (
            StreamId(uuid, category="a"),
            StreamId(uuid, category="b"),
            StreamId(uuid),
        )
        store.append(Deposited(amount=1), stream_id=first)
        store.append(Deposited(amount=2), Deposited(amount=3), stream_id=second)
        store.append(Deposited(amount=4), stream_id=bare)
        assert payloads(store.load_stream(first)) == [Deposited(amount=1)]
        assert versions(store.load_stream(second)) == [1, 2]
        assert payloads(store.load_stream(bare)) == [Deposited(amount=4)]
        store.delete_stream(first)
        assert store.load_stream(first) == []
        assert versions(store.load_stream(second)) == [1, 2]

    def test_loaded_stream_id_keeps_category(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId(category="invoice")
        store.append(Deposited(amount=1), stream_id=stream)
        (raw,) = store.load_stream_raw(stream)
        assert raw.stream_id == stream
        assert raw.stream_id.category == "invoice"

    def test_delete_removes_stream_and_frees_it(self, backend: Backend) -> None:
        store, stream, other = backend.event_store, StreamId(), StreamId()
        store.append(Deposited(amount=1), Deposited(amount=2), stream_id=stream)
        store.append(Deposited(amount=9), stream_id=other)
        store.delete_stream(stream)
        assert store.load_stream(stream) == []
        store.append(Deposited(amount=3), stream_id=stream)
        assert versions(store.load_stream(stream)) == [1]
        assert payloads(store.load_stream(other)) == [Deposited(amount=9)]

    def test_deleting_a_missing_stream_is_a_no_op(self, backend: Backend) -> None:
        backend.event_store.delete_stream(StreamId(category="never"))

    def test_position_grows_with_every_stored_event(self, backend: Backend) -> None:
        store = backend.event_store
        start = store.position
        assert isinstance(start, int)
        assert start >= 0
        store.append(Deposited(amount=1), Deposited(amount=2), stream_id=StreamId())
        after_first = store.position
        assert after_first >= start + 2
        store.append(Deposited(amount=3), stream_id=StreamId(), expected_version=NO_VERSIONING)
        assert store.position >= after_first + 1

    def test_unknown_event_type_raises_but_raw_form_stays_readable(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=5), stream_id=stream)
        blind = backend.with_registry(EventRegistry()).event_store
        with pytest.raises(UnknownEventType) as info:
            blind.load_stream(stream)
        assert info.value.type_name == "es_conformance.Deposited"
        assert info.value.version == 1
        (raw,) = blind.load_stream_raw(stream)
        assert (raw.type, raw.data, raw.version) == ("es_conformance.Deposited", {"amount": 5}, 1)
