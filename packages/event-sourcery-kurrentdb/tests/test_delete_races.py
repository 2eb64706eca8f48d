"""An append creating a stream, with the stream deleted right after it: no load needed.

An append to a stream that does not exist expects "no stream", and KurrentDB takes one whose
event ids match a deleted generation's first events for a repeat, storing nothing. The backend
tells that apart from another writer deleting our (stored) events before we read them back:
the first is a `StorageError`, the second a successful append with our events' positions.
"""

from __future__ import annotations

from typing import Any

import pytest
from event_sourcery import StreamId, default_registry
from event_sourcery.exceptions import StorageError
from event_sourcery.interfaces import RawEvent, serialize
from event_sourcery_kurrentdb import KurrentDBBackend, KurrentDBStorageStrategy
from event_sourcery_kurrentdb._client import Connection
from event_sourcery_kurrentdb._steps import Request
from kurrentdbclient import KurrentDBClient

from ._events import Noted


class DeletingRightAfterAppend(Connection):
    """A connection on which another writer deletes `stream_id` as soon as an append to it
    returns: the race a loaded machine makes rare, made certain."""

    def __init__(self, backend: KurrentDBBackend, stream_id: StreamId) -> None:
        base = backend._connection
        super().__init__(base.client, base.retry, base.deadline)
        self.other_writer = backend.event_store
        self.stream_id = stream_id
        self.target = stream_id.hex
        self.appended: list[int] = []

    def _execute(self, request: Request) -> Any:
        answer = super()._execute(request)
        appended = request.method == "append_to_stream" and answer is not None
        if appended and request.kwargs["stream_name"] == self.target:
            self.appended.append(answer)
            self.other_writer.delete_stream(self.stream_id)
        return answer


def _raws(stream: StreamId, *texts: str) -> list[RawEvent]:
    return [
        serialize(Noted(text=text), stream, version, default_registry)
        for version, text in enumerate(texts, start=1)
    ]


def _log_positions(client: KurrentDBClient, stream: StreamId, raws: list[RawEvent]) -> list[int]:
    """Where `$all` holds `raws` (a soft delete hides them from the stream, not from `$all`)."""
    wanted = {raw.uuid for raw in raws}
    found = {
        record.id: record.commit_position
        for record in client.read_all(filter_include=(stream.hex,), filter_by_stream_name=True)
        if record.id in wanted
    }
    return [found[raw.uuid] for raw in raws]


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("deleted_before", [False, True], ids=["new", "re-created"])
def test_a_delete_right_after_creating_append_keeps_the_append(
    kurrentdb_backend: KurrentDBBackend,
    kurrentdb_client: KurrentDBClient,
    count: int,
    deleted_before: bool,
) -> None:
    stream, store = StreamId(), kurrentdb_backend.event_store
    if deleted_before:
        store.append(Noted(text="old"), stream_id=stream)
        store.delete_stream(stream)
    racing = DeletingRightAfterAppend(kurrentdb_backend, stream)
    raws = _raws(stream, *(f"e{n}" for n in range(count)))

    positions = KurrentDBStorageStrategy(racing).insert_events(stream, 0, raws)

    assert positions == _log_positions(kurrentdb_client, stream, raws)
    assert positions[-1] == racing.appended[-1]
    assert positions == sorted(set(positions))
    assert store.load_stream(stream) == []


@pytest.mark.parametrize("count", [1, 3])
def test_ids_of_a_deleted_generation_are_refused_as_a_repeat(
    kurrentdb_backend: KurrentDBBackend, count: int
) -> None:
    stream, store = StreamId(), kurrentdb_backend.event_store
    raws = _raws(stream, *(f"e{n}" for n in range(count)))
    storage = KurrentDBStorageStrategy(kurrentdb_backend._connection)
    storage.insert_events(stream, 0, raws)
    store.delete_stream(stream)

    with pytest.raises(StorageError, match="cannot be read back.*append fresh ones"):
        storage.insert_events(stream, 0, raws)
    assert store.load_stream(stream) == []
