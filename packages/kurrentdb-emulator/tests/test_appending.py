"""Appends through both RPCs: ``Append`` (one NewEvent) and ``BatchAppend`` (a list)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import MaximumAppendSizeExceededError, WrongCurrentVersionError
from kurrentdbclient.protos.v1 import shared_pb2, streams_pb2, streams_pb2_grpc


def new_events(count: int) -> list[NewEvent]:
    """``count`` new events, each with a fresh id."""
    return [NewEvent(type="Happened", data=b"{}") for _ in range(count)]


def test_append_to_a_new_stream_returns_a_commit_position_past_zero(
    client: KurrentDBClient, stream_name: str
) -> None:
    position = client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(2)
    )

    assert position > 0
    assert [e.stream_position for e in client.get_stream(stream_name)] == [0, 1]


def test_append_with_the_exact_revision_continues_the_stream(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(2)
    )

    client.append_to_stream(stream_name, current_version=1, events=new_events(1))
    client.append_to_stream(stream_name, current_version=2, events=new_events(1)[0])

    assert client.get_current_version(stream_name) == 3


def test_wrong_expected_version_is_reported_in_band_for_append(
    client: KurrentDBClient, channel: grpc.Channel, stream_name: str
) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(2)
    )

    with pytest.raises(WrongCurrentVersionError) as raised:
        client.append_to_stream(stream_name, current_version=0, events=new_events(1)[0])
    assert raised.value.actual_version == 1
    assert raised.value.expected_version == 0

    # On the wire it is a successful call whose response carries the conflict.
    stub = streams_pb2_grpc.StreamsStub(channel)  # type: ignore[no-untyped-call]
    response = stub.Append(iter(_append_requests(stream_name, revision=0)))
    assert response.WhichOneof("result") == "wrong_expected_version"
    assert response.wrong_expected_version.current_revision == 1
    assert response.wrong_expected_version.expected_revision == 0


def test_wrong_expected_version_is_a_status_detail_for_batch_append(
    client: KurrentDBClient, stream_name: str
) -> None:
    with pytest.raises(WrongCurrentVersionError) as raised:
        client.append_to_stream(stream_name, current_version=3, events=new_events(2))

    assert raised.value.actual_version is StreamState.NO_STREAM
    assert raised.value.expected_version == 3


def test_any_appends_whatever_the_version(client: KurrentDBClient, stream_name: str) -> None:
    client.append_to_stream(stream_name, current_version=StreamState.ANY, events=new_events(1))
    client.append_to_stream(stream_name, current_version=StreamState.ANY, events=new_events(2))

    assert client.get_current_version(stream_name) == 2


def test_stream_exists_rejects_a_stream_that_does_not_exist(
    client: KurrentDBClient, stream_name: str
) -> None:
    with pytest.raises(WrongCurrentVersionError):
        client.append_to_stream(
            stream_name, current_version=StreamState.EXISTS, events=new_events(1)
        )

    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(1)
    )
    client.append_to_stream(stream_name, current_version=StreamState.EXISTS, events=new_events(1))
    assert client.get_current_version(stream_name) == 1


def test_no_stream_rejects_an_existing_stream(client: KurrentDBClient, stream_name: str) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(1)
    )

    with pytest.raises(WrongCurrentVersionError) as raised:
        client.append_to_stream(
            stream_name, current_version=StreamState.NO_STREAM, events=new_events(1)
        )
    assert raised.value.actual_version == 0


def test_commit_positions_strictly_increase_across_streams(client: KurrentDBClient) -> None:
    positions = [
        client.append_to_stream(
            f"test-{uuid.uuid4()}", current_version=StreamState.ANY, events=new_events(1)
        )
        for _ in range(5)
    ]

    assert positions == sorted(set(positions))


def test_idempotent_reappend_with_the_same_expected_version_changes_nothing(
    client: KurrentDBClient, stream_name: str
) -> None:
    first = new_events(1)
    client.append_to_stream(stream_name, current_version=StreamState.NO_STREAM, events=first)
    batch = new_events(2)
    position = client.append_to_stream(stream_name, current_version=0, events=batch)

    # The reply was "lost": the same events with the same ids and expected version again.
    assert client.append_to_stream(stream_name, current_version=0, events=batch) == position
    assert (
        client.append_to_stream(stream_name, current_version=StreamState.NO_STREAM, events=first)
        < position
    )
    assert [e.id for e in client.get_stream(stream_name)] == [first[0].id, batch[0].id, batch[1].id]


def test_idempotent_reappend_with_any_does_not_duplicate(
    client: KurrentDBClient, stream_name: str
) -> None:
    batch = new_events(3)
    position = client.append_to_stream(stream_name, current_version=StreamState.ANY, events=batch)

    again = client.append_to_stream(stream_name, current_version=StreamState.ANY, events=batch)

    assert again == position
    assert len(client.get_stream(stream_name)) == 3


def test_reappend_of_only_part_of_a_recorded_batch_is_a_wrong_expected_version(
    client: KurrentDBClient, stream_name: str
) -> None:
    batch = new_events(2)
    client.append_to_stream(stream_name, current_version=StreamState.NO_STREAM, events=batch)

    with pytest.raises(WrongCurrentVersionError):
        client.append_to_stream(
            stream_name, current_version=StreamState.ANY, events=[batch[0], *new_events(1)]
        )
    with pytest.raises(WrongCurrentVersionError):
        client.append_to_stream(
            stream_name, current_version=StreamState.NO_STREAM, events=[batch[0], *new_events(1)]
        )
    assert len(client.get_stream(stream_name)) == 2


def test_append_larger_than_the_maximum_append_size_is_refused(
    plaintext_client: KurrentDBClient, stream_name: str
) -> None:
    too_big = [NewEvent(type="Big", data=b"x" * 600_000) for _ in range(2)]

    with pytest.raises(MaximumAppendSizeExceededError):
        plaintext_client.append_to_stream(
            stream_name, current_version=StreamState.ANY, events=too_big
        )


def test_event_fields_round_trip(plaintext_client: KurrentDBClient, stream_name: str) -> None:
    events = [
        NewEvent(type="A", data=b"{}", content_type="application/json"),
        NewEvent(
            type="B", data=b"\x00\x01", content_type="application/octet-stream", metadata=b"m"
        ),
    ]
    plaintext_client.append_to_stream(stream_name, current_version=StreamState.ANY, events=events)

    recorded = plaintext_client.get_stream(stream_name)

    assert [e.content_type for e in recorded] == ["application/json", "application/octet-stream"]
    assert [e.id for e in recorded] == [e.id for e in events]
    assert [e.type for e in recorded] == ["A", "B"]
    assert recorded[1].data == b"\x00\x01"
    assert recorded[1].metadata == b"m"
    assert recorded[0].recorded_at is not None
    assert recorded[0].stream_name == stream_name


def _append_requests(stream: str, *, revision: int) -> list[streams_pb2.AppendReq]:
    options = streams_pb2.AppendReq.Options(
        stream_identifier=shared_pb2.StreamIdentifier(stream_name=stream.encode()),
        revision=revision,
    )
    message = streams_pb2.AppendReq.ProposedMessage(
        id=shared_pb2.UUID(string=str(uuid.uuid4())),
        metadata={"type": "Raw", "content-type": "application/json"},
        data=b"{}",
    )
    return [
        streams_pb2.AppendReq(options=options),
        streams_pb2.AppendReq(proposed_message=message),
    ]
