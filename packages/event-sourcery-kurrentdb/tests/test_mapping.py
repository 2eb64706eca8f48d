"""What the backend stores in KurrentDB, read back with the plain client."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from event_sourcery import NO_VERSIONING, Context, StreamId, WrappedEvent, default_registry
from event_sourcery.exceptions import ConcurrentStreamWriteError, InvalidEvent, InvalidInput
from event_sourcery.interfaces import serialize
from event_sourcery_kurrentdb import KurrentDBBackend
from event_sourcery_kurrentdb._stream_steps import StreamSteps
from kurrentdbclient import KurrentDBClient, StreamState

from ._events import Noted, Opened


def test_an_event_is_a_record_of_its_stream(
    kurrentdb_backend: KurrentDBBackend, kurrentdb_client: KurrentDBClient
) -> None:
    stream, tenant = StreamId(name=f"acc-{uuid4().hex}", category="account"), "acme"
    context = Context(correlation_id=uuid4(), causation_id=uuid4(), user="alice")
    wrapped = WrappedEvent.wrap(Opened(owner="Ann"), context=context)
    kurrentdb_backend.in_tenant_mode(tenant).event_store.append(wrapped, stream_id=stream)

    (record,) = kurrentdb_client.get_stream(f"account-{stream.hex}@acme")
    assert (record.id, record.type) == (wrapped.uuid, "es_kurrentdb_tests.Opened")
    assert json.loads(record.data) == {"owner": "Ann"}
    metadata = json.loads(record.metadata)
    assert metadata["version"] == 1
    assert metadata["tenant_id"] == "acme"
    assert metadata["name"] == stream.name
    assert metadata["$correlationId"] == str(context.correlation_id)
    assert metadata["$causationId"] == str(context.causation_id)
    assert metadata["context"] == {"user": "alice"}
    assert metadata["schema_version"] == 1


def test_version_n_is_revision_n_minus_one_until_a_delete(
    kurrentdb_backend: KurrentDBBackend, kurrentdb_client: KurrentDBClient
) -> None:
    store, stream = kurrentdb_backend.event_store, StreamId(category="rev")
    store.append(Noted(text="a"), Noted(text="b"), stream_id=stream)
    name = f"rev-{stream.hex}"
    assert kurrentdb_client.get_current_version(name) == 1
    store.delete_stream(stream)
    assert kurrentdb_client.get_current_version(name) is StreamState.NO_STREAM
    store.append(Noted(text="c"), stream_id=stream)
    store.append(Noted(text="d"), stream_id=stream, expected_version=1)
    loaded = store.load_stream(stream)
    assert [(w.event.text, w.version) for w in loaded] == [("c", 1), ("d", 2)]
    # KurrentDB went on counting: two events, the deletion marker, then the new generation.
    assert kurrentdb_client.get_current_version(name) == 4
    assert [w.version for w in store.load_stream(stream, start=2)] == [2]


def test_an_append_racing_a_delete_is_a_conflict(kurrentdb_backend: KurrentDBBackend) -> None:
    # A writer that read the head just before a delete must not land in a "re-created"
    # stream: KurrentDB accepts an append expecting the last revision of a soft-deleted
    # stream. The deletion marker moves the revision on, so the writer's append fails.
    store, stream = kurrentdb_backend.event_store, StreamId()
    store.append(Noted(text="a"), stream_id=stream)
    connection, storage = kurrentdb_backend._connection, StreamSteps()
    name = stream.hex
    head_read_before_the_delete = connection.run(storage._head(name))
    store.delete_stream(stream)
    late = [serialize(Noted(text="late"), stream, 2, default_registry)]
    assert connection.run(storage._append(name, stream, head_read_before_the_delete, late)) is None
    with pytest.raises(ConcurrentStreamWriteError):
        store.append(Noted(text="late"), stream_id=stream, expected_version=1)
    assert store.load_stream(stream) == []


def test_an_interrupted_delete_reads_as_deleted_and_heals(
    kurrentdb_backend: KurrentDBBackend, kurrentdb_client: KurrentDBClient
) -> None:
    from event_sourcery_kurrentdb._codec import DELETED, internal_event

    store, stream = kurrentdb_backend.event_store, StreamId(category="half")
    store.append(Noted(text="a"), Noted(text="b"), stream_id=stream)
    name = f"half-{stream.hex}"
    # The marker is written, the process dies before the soft delete.
    kurrentdb_client.append_to_stream(
        name, current_version=1, events=[internal_event(DELETED, {}, name=None)]
    )
    assert store.load_stream(stream) == []
    assert store.load_stream(stream, start=1) == []
    store.append(Noted(text="new"), stream_id=stream)
    assert [(w.event.text, w.version) for w in store.load_stream(stream)] == [("new", 1)]


def test_versionless_streams_keep_null_versions(
    kurrentdb_backend: KurrentDBBackend, kurrentdb_client: KurrentDBClient
) -> None:
    store, stream = kurrentdb_backend.event_store, StreamId()
    events = [WrappedEvent.wrap(Noted(text="x")), WrappedEvent.wrap(Noted(text="y"))]
    store.append(*events, stream_id=stream, expected_version=NO_VERSIONING)
    store.append(*events, stream_id=stream, expected_version=NO_VERSIONING)  # re-sent: kept once
    records = kurrentdb_client.get_stream(stream.hex)
    assert [json.loads(r.metadata)["version"] for r in records] == [None, None]


def test_snapshots_live_in_a_companion_stream(
    kurrentdb_backend: KurrentDBBackend, kurrentdb_client: KurrentDBClient
) -> None:
    store, stream = kurrentdb_backend.event_store, StreamId(category="snap")
    store.append(Noted(text="a"), stream_id=stream)
    store.save_snapshot(stream, WrappedEvent.wrap(Opened(owner="S"), 1))
    (record,) = kurrentdb_client.get_stream(f"es$snapshot-snap-{stream.hex}")
    assert record.type == "$es-snapshot"
    assert json.loads(record.metadata)["type"] == "es_kurrentdb_tests.Opened"
    metadata, _ = kurrentdb_client.get_stream_metadata(f"es$snapshot-snap-{stream.hex}")
    assert metadata["$maxCount"] == 1


def test_event_types_kurrentdb_reserves_are_refused(kurrentdb_backend: KurrentDBBackend) -> None:
    class Systemic(Noted):
        __event_name__ = "$es_kurrentdb_tests.Systemic"

    with pytest.raises(InvalidEvent, match="reserves"):
        kurrentdb_backend.event_store.append(Systemic(text="x"), stream_id=StreamId())


def test_categories_and_tenants_with_dashes_keep_kurrentdbs_category(
    kurrentdb_backend: KurrentDBBackend, kurrentdb_client: KurrentDBClient
) -> None:
    stream = StreamId(category="billing-eu")
    kurrentdb_backend.in_tenant_mode("tenant-1").event_store.append(
        Noted(text="x"), stream_id=stream
    )
    (record,) = kurrentdb_client.get_stream(f"billing%2Deu-{stream.hex}@tenant%2D1")
    assert record.stream_name.partition("-")[0] == "billing%2Deu"


def test_bad_backend_arguments_are_rejected(kurrentdb_client: KurrentDBClient) -> None:
    # A URI string is the likely mistake: the message says how to make the client from it.
    with pytest.raises(InvalidInput, match=r"got str; make one with KurrentDBClient\(uri="):
        KurrentDBBackend("kurrentdb://localhost:2113")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="outbox_name"):
        KurrentDBBackend(kurrentdb_client, outbox_name=" ")
