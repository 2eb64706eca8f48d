"""Snapshots: saved at the stream's version, loaded first, newer events after them."""

from __future__ import annotations

import pytest
from event_sourcery import NO_VERSIONING, Backend, StreamId, WrappedEvent
from event_sourcery.exceptions import InvalidSnapshot

from event_sourcery_testing.conformance._events import Balance, Deposited
from event_sourcery_testing.conformance._support import payloads, versions


def _stream_of(backend: Backend, count: int) -> StreamId:
    stream = StreamId(category="snap")
    backend.event_store.append(
        *(Deposited(amount=n) for n in range(1, count + 1)), stream_id=stream
    )
    return stream


class SnapshotsContract:
    """Snapshot behaviour every backend shares."""

    def test_load_starts_from_snapshot(self, backend: Backend) -> None:
        store = backend.event_store
        stream = _stream_of(backend, 3)
        store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=6), 3))
        store.append(Deposited(amount=4), stream_id=stream, expected_version=3)
        loaded = store.load_stream(stream)
        assert payloads(loaded) == [Balance(total=6), Deposited(amount=4)]
        assert versions(loaded) == [3, 4]

    def test_newer_snapshot_replaces_older(self, backend: Backend) -> None:
        store = backend.event_store
        stream = _stream_of(backend, 2)
        store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=3), 2))
        store.append(Deposited(amount=3), stream_id=stream, expected_version=2)
        store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=6), 3))
        assert payloads(store.load_stream(stream)) == [Balance(total=6)]

    def test_snapshot_keeps_its_envelope(self, backend: Backend) -> None:
        store = backend.event_store
        stream = _stream_of(backend, 1)
        snapshot = WrappedEvent.wrap(Balance(total=1), 1)
        store.save_snapshot(stream, snapshot)
        (loaded,) = store.load_stream(stream)
        assert (loaded.uuid, loaded.created_at, loaded.version) == (
            snapshot.uuid,
            snapshot.created_at,
            1,
        )

    def test_ranged_load_ignores_snapshot(self, backend: Backend) -> None:
        store = backend.event_store
        stream = _stream_of(backend, 4)
        store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=10), 4))
        assert versions(store.load_stream(stream, start=2)) == [2, 3, 4]
        assert payloads(store.load_stream(stream, start=1, stop=2)) == [Deposited(amount=1)]

    def test_snapshot_beyond_stop_is_not_used(self, backend: Backend) -> None:
        store = backend.event_store
        stream = _stream_of(backend, 4)
        store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=10), 4))
        assert versions(store.load_stream(stream, stop=3)) == [1, 2]
        assert payloads(store.load_stream(stream, stop=5)) == [Balance(total=10)]

    @pytest.mark.parametrize("version", [1, 3])
    def test_snapshot_at_another_version_is_rejected(self, backend: Backend, version: int) -> None:
        store = backend.event_store
        stream = _stream_of(backend, 2)
        with pytest.raises(InvalidSnapshot, match="current version 2"):
            store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=0), version))
        assert versions(store.load_stream(stream)) == [1, 2]

    def test_snapshot_of_missing_stream_is_rejected(self, backend: Backend) -> None:
        stream = StreamId()
        with pytest.raises(InvalidSnapshot):
            backend.event_store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=0), 1))
        assert backend.event_store.load_stream(stream) == []

    def test_snapshot_of_versionless_stream_is_rejected(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId()
        store.append(Deposited(amount=1), stream_id=stream, expected_version=NO_VERSIONING)
        with pytest.raises(InvalidSnapshot):
            store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=1), 1))

    def test_delete_removes_snapshot(self, backend: Backend) -> None:
        store = backend.event_store
        stream = _stream_of(backend, 1)
        store.save_snapshot(stream, WrappedEvent.wrap(Balance(total=1), 1))
        store.delete_stream(stream)
        assert store.load_stream(stream) == []
        store.append(Deposited(amount=5), stream_id=stream)
        assert payloads(store.load_stream(stream)) == [Deposited(amount=5)]
