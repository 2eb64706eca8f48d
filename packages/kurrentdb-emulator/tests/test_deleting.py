"""Soft delete (``Delete``) and hard delete (``Tombstone``), and what each leaves behind."""

from __future__ import annotations

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import (
    FailedPreconditionError,
    NotFoundError,
    StreamIsDeletedError,
    WrongCurrentVersionError,
)

INT64_MAX = 2**63 - 1


def new_events(count: int) -> list[NewEvent]:
    """``count`` new events, each with a fresh id."""
    return [NewEvent(type="Happened", data=b"{}") for _ in range(count)]


def test_soft_deleted_stream_reads_as_not_found_and_its_metadata_gets_tb(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(3)
    )

    client.delete_stream(stream_name, current_version=2)

    with pytest.raises(NotFoundError):
        client.get_stream(stream_name)
    assert client.get_current_version(stream_name) is StreamState.NO_STREAM
    metadata, version = client.get_stream_metadata(stream_name)
    assert metadata == {"$tb": INT64_MAX}
    assert version == 0


def test_appending_after_a_soft_delete_continues_revisions_and_hides_older_events(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(3)
    )
    client.delete_stream(stream_name, current_version=2)

    # NO_STREAM is the right expectation after a delete, as for a stream never written.
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(2)
    )

    assert [e.stream_position for e in client.get_stream(stream_name)] == [3, 4]
    assert client.get_current_version(stream_name) == 4
    metadata, _ = client.get_stream_metadata(stream_name)
    assert metadata == {"$tb": 3}


def test_repeating_a_soft_deleted_streams_first_append_stores_nothing_and_has_no_position(
    client: KurrentDBClient, stream_name: str
) -> None:
    first = new_events(2)
    client.append_to_stream(stream_name, current_version=StreamState.NO_STREAM, events=first)
    client.delete_stream(stream_name, current_version=1)

    # KurrentDB takes it for a repeat of the deleted first append: success, without a position
    # (kurrentdbclient reads the absent position as 0), and the stream stays deleted.
    again = client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=first
    )

    assert again == 0
    with pytest.raises(NotFoundError):
        client.get_stream(stream_name)
    assert client.get_current_version(stream_name) is StreamState.NO_STREAM


def test_soft_deleted_stream_accepts_an_append_expecting_its_last_revision(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(2)
    )
    client.delete_stream(stream_name, current_version=StreamState.ANY)

    client.append_to_stream(stream_name, current_version=1, events=new_events(1))

    assert [e.stream_position for e in client.get_stream(stream_name)] == [2]


def test_stream_exists_on_a_soft_deleted_stream_is_reported_as_deleted(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(1)
    )
    client.delete_stream(stream_name, current_version=0)

    with pytest.raises(StreamIsDeletedError):
        client.append_to_stream(
            stream_name, current_version=StreamState.EXISTS, events=new_events(1)
        )


def test_delete_with_a_wrong_expected_version_raises_wrong_current_version(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(2)
    )

    with pytest.raises(WrongCurrentVersionError) as raised:
        client.delete_stream(stream_name, current_version=0)

    assert raised.value.actual_version == 1
    assert raised.value.expected_version == 0
    assert client.get_current_version(stream_name) == 1


@pytest.mark.parametrize(
    "expected", [StreamState.ANY, StreamState.NO_STREAM, StreamState.EXISTS, 0], ids=str
)
def test_soft_delete_of_a_stream_without_events_raises_not_found(
    client: KurrentDBClient, stream_name: str, expected: StreamState | int
) -> None:
    # KurrentDB answers "Actual version: -1" whatever the expectation; the client raises
    # NotFoundError for that.
    with pytest.raises(NotFoundError):
        client.delete_stream(stream_name, current_version=expected)


def test_soft_delete_can_be_repeated(client: KurrentDBClient, stream_name: str) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(2)
    )
    client.delete_stream(stream_name, current_version=1)

    client.delete_stream(stream_name, current_version=1)
    client.delete_stream(stream_name, current_version=StreamState.ANY)
    with pytest.raises(WrongCurrentVersionError):
        client.delete_stream(stream_name, current_version=0)
    with pytest.raises(StreamIsDeletedError):
        client.delete_stream(stream_name, current_version=StreamState.EXISTS)


def test_tombstoned_stream_rejects_reads(client: KurrentDBClient, stream_name: str) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(1)
    )

    client.tombstone_stream(stream_name, current_version=0)

    with pytest.raises(StreamIsDeletedError):
        client.get_stream(stream_name)
    with pytest.raises(StreamIsDeletedError):
        client.get_current_version(stream_name)


def test_tombstoned_stream_rejects_reading_its_metadata(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(1)
    )
    client.set_stream_metadata(stream_name, metadata={"$maxCount": 5})

    client.tombstone_stream(stream_name, current_version=0)

    # A real server answers for the metastream of a hard-deleted stream as for the stream; the
    # emulator used to return the old metadata.
    with pytest.raises(StreamIsDeletedError):
        client.get_stream_metadata(stream_name)
    with pytest.raises(StreamIsDeletedError):
        client.get_stream("$$" + stream_name)


def test_tombstoned_stream_rejects_appends(client: KurrentDBClient, stream_name: str) -> None:
    client.tombstone_stream(stream_name, current_version=StreamState.ANY)

    # BatchAppend (a list of events) reports the deletion as a status detail...
    with pytest.raises(StreamIsDeletedError):
        client.append_to_stream(stream_name, current_version=StreamState.ANY, events=new_events(1))
    # ...while Append (a single NewEvent) fails the call, which kurrentdbclient 1.3 maps by
    # status code only, as it does against a real server.
    with pytest.raises(FailedPreconditionError, match="is deleted"):
        client.append_to_stream(
            stream_name, current_version=StreamState.ANY, events=new_events(1)[0]
        )


def test_tombstoned_stream_rejects_delete_and_tombstone(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.tombstone_stream(stream_name, current_version=StreamState.NO_STREAM)

    with pytest.raises(StreamIsDeletedError):
        client.delete_stream(stream_name, current_version=StreamState.ANY)
    with pytest.raises(StreamIsDeletedError):
        client.tombstone_stream(stream_name, current_version=StreamState.ANY)


def test_tombstone_with_a_wrong_expected_version_raises_wrong_current_version(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.append_to_stream(
        stream_name, current_version=StreamState.NO_STREAM, events=new_events(1)
    )

    with pytest.raises(WrongCurrentVersionError):
        client.tombstone_stream(stream_name, current_version=5)

    assert client.get_current_version(stream_name) == 0


def test_deletes_leave_system_events_in_all(client: KurrentDBClient, stream_name: str) -> None:
    other = f"{stream_name}-other"
    start = client.append_to_stream(
        stream_name, current_version=StreamState.ANY, events=new_events(1)
    )
    client.append_to_stream(other, current_version=StreamState.ANY, events=new_events(1))

    client.delete_stream(stream_name, current_version=0)
    client.tombstone_stream(other, current_version=0)

    with client.read_all(commit_position=start, filter_exclude=()) as read:
        written = [(e.stream_name, e.type, e.stream_position) for e in read]
    assert written[-2:] == [
        (f"$${stream_name}", "$metadata", 0),
        (other, "$streamDeleted", INT64_MAX),
    ]
    # The deleted events stay in $all, as in KurrentDB until a scavenge.
    assert written[0] == (stream_name, "Happened", 0)
