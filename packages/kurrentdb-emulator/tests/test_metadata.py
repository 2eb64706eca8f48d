"""Stream metadata through ``$$<stream>`` and the keys that reads honour."""

from __future__ import annotations

import time

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import WrongCurrentVersionError


def append(client: KurrentDBClient, stream: str, count: int) -> None:
    """Append ``count`` events to ``stream``."""
    events = [NewEvent(type="Happened", data=b"{}") for _ in range(count)]
    client.append_to_stream(stream, current_version=StreamState.ANY, events=events)


def test_stream_metadata_round_trips_with_its_version(
    client: KurrentDBClient, stream_name: str
) -> None:
    assert client.get_stream_metadata(stream_name) == ({}, StreamState.NO_STREAM)

    client.set_stream_metadata(stream_name, metadata={"owner": "me"})
    metadata, version = client.get_stream_metadata(stream_name)
    assert (metadata, version) == ({"owner": "me"}, 0)

    client.set_stream_metadata(stream_name, metadata={"owner": "you"}, current_version=version)
    assert client.get_stream_metadata(stream_name) == ({"owner": "you"}, 1)
    with pytest.raises(WrongCurrentVersionError):
        client.set_stream_metadata(stream_name, metadata={}, current_version=0)


def test_metastream_reads_show_only_the_newest_metadata(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.set_stream_metadata(stream_name, metadata={"n": 1})
    client.set_stream_metadata(stream_name, metadata={"n": 2})

    events = client.get_stream(f"$${stream_name}")

    assert [(e.stream_position, e.type, e.data) for e in events] == [(1, "$metadata", b'{"n": 2}')]


def test_max_count_hides_all_but_the_newest_events(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, 5)

    client.set_stream_metadata(stream_name, metadata={"$maxCount": 2})

    assert [e.stream_position for e in client.get_stream(stream_name)] == [3, 4]
    assert [e.stream_position for e in client.get_stream(stream_name, backwards=True)] == [4, 3]


def test_truncate_before_hides_earlier_events(client: KurrentDBClient, stream_name: str) -> None:
    append(client, stream_name, 4)

    client.set_stream_metadata(stream_name, metadata={"$tb": 3})

    assert [e.stream_position for e in client.get_stream(stream_name)] == [3]
    assert client.get_stream(stream_name, stream_position=1, backwards=True) == ()


def test_truncating_every_event_leaves_an_empty_stream_not_a_missing_one(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, 2)

    client.set_stream_metadata(stream_name, metadata={"$tb": 10})

    assert client.get_stream(stream_name) == ()


def test_max_age_hides_events_older_than_it(
    plaintext_client: KurrentDBClient, stream_name: str
) -> None:
    append(plaintext_client, stream_name, 2)
    plaintext_client.set_stream_metadata(stream_name, metadata={"$maxAge": 1})
    assert len(plaintext_client.get_stream(stream_name)) == 2

    time.sleep(1.2)
    append(plaintext_client, stream_name, 1)

    assert [e.stream_position for e in plaintext_client.get_stream(stream_name)] == [2]


def test_malformed_metadata_is_ignored_by_reads(client: KurrentDBClient, stream_name: str) -> None:
    append(client, stream_name, 2)

    client.set_stream_metadata(stream_name, metadata={"$maxCount": "two", "$tb": True})

    assert len(client.get_stream(stream_name)) == 2
