"""Finite reads of one stream and of ``$all``, with the client's filters."""

from __future__ import annotations

import uuid

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import InvalidCommitPositionError, NotFoundError


def append(client: KurrentDBClient, stream: str, *types: str) -> int:
    """Append one event per type to ``stream``; return the last commit position."""
    events = [NewEvent(type=t, data=b"{}") for t in types]
    return client.append_to_stream(stream, current_version=StreamState.ANY, events=events)


def test_read_stream_forwards_from_a_revision_with_a_limit(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "A", "B", "C", "D")

    events = client.get_stream(stream_name, stream_position=1, limit=2)

    assert [(e.stream_position, e.type) for e in events] == [(1, "B"), (2, "C")]


def test_read_stream_backwards_from_the_end_and_from_a_revision(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "A", "B", "C")

    assert [e.type for e in client.get_stream(stream_name, backwards=True)] == ["C", "B", "A"]
    from_one = client.get_stream(stream_name, backwards=True, stream_position=1)
    assert [e.type for e in from_one] == ["B", "A"]
    assert client.get_current_version(stream_name) == 2


def test_read_past_the_end_of_a_stream_is_empty(client: KurrentDBClient, stream_name: str) -> None:
    append(client, stream_name, "A")

    assert client.get_stream(stream_name, stream_position=5) == ()


def test_missing_stream_reads_as_not_found(client: KurrentDBClient, stream_name: str) -> None:
    with pytest.raises(NotFoundError):
        client.get_stream(stream_name)

    assert client.get_current_version(stream_name) is StreamState.NO_STREAM


def test_stream_events_carry_the_commit_positions_of_all(
    client: KurrentDBClient, stream_name: str
) -> None:
    position = append(client, stream_name, "A", "B")

    events = client.get_stream(stream_name)

    assert events[-1].commit_position == position
    assert events[0].commit_position is not None
    assert 0 < events[0].commit_position < position


def test_system_events_come_first_so_positions_never_start_at_zero(
    plaintext_client: KurrentDBClient,
) -> None:
    with plaintext_client.read_all(filter_exclude=(), limit=3) as read:
        first = list(read)

    assert [e.stream_name for e in first] == ["$epoch-information", "$user-admin", "$users"]
    assert all(e.is_system_event for e in first)
    assert first[0].commit_position is not None
    assert first[0].commit_position > 0


def test_read_all_hides_system_events_with_the_default_filter(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "A")

    with client.read_all() as read:
        types = [e.type for e in read]

    assert "A" in types
    assert not [t for t in types if t.startswith("$")]


def test_read_all_forwards_includes_the_event_at_the_position(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "A")
    start = append(client, stream_name, "B")
    append(client, stream_name, "C")

    with client.read_all(commit_position=start, filter_include=(r"[ABC]",)) as read:
        assert [e.type for e in read] == ["B", "C"]


def test_read_all_backwards_excludes_the_event_at_the_position(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "A")
    start = append(client, stream_name, "B")

    with client.read_all(commit_position=start, backwards=True, limit=1) as read:
        before = list(read)

    assert [(e.stream_name, e.type) for e in before] == [(stream_name, "A")]


def test_read_all_from_the_end_backwards_starts_with_the_newest_event(
    client: KurrentDBClient, stream_name: str
) -> None:
    position = append(client, stream_name, "A", "Newest")

    assert client.get_commit_position() >= position
    with client.read_all(backwards=True, filter_include=(r"Newest",), limit=1) as read:
        assert [e.commit_position for e in read] == [position]


def test_read_all_filters_by_stream_name_prefix(client: KurrentDBClient, stream_name: str) -> None:
    prefix = f"prefix-{uuid.uuid4()}"
    append(client, f"{prefix}-one", "A")
    append(client, stream_name, "B")
    append(client, f"{prefix}-two", "C")

    with client.read_all(
        filter_include=(prefix,), filter_by_stream_name=True, filter_by_prefix=True
    ) as read:
        assert [e.type for e in read] == ["A", "C"]


def test_read_all_filters_by_stream_name_regex(client: KurrentDBClient) -> None:
    tag = uuid.uuid4().hex
    append(client, f"order-{tag}", "A")
    append(client, f"invoice-{tag}", "B")

    with client.read_all(filter_include=(rf"order-{tag}",), filter_by_stream_name=True) as read:
        assert [e.type for e in read] == ["A"]


def test_read_all_filters_by_event_type_prefix_and_regex(
    client: KurrentDBClient, stream_name: str
) -> None:
    tag = uuid.uuid4().hex
    append(client, stream_name, f"Order{tag}Placed", f"Invoice{tag}Sent", f"Order{tag}Paid")

    with client.read_all(filter_include=(f"Order{tag}",), filter_by_prefix=True) as read:
        assert [e.type for e in read] == [f"Order{tag}Placed", f"Order{tag}Paid"]
    with client.read_all(filter_include=(rf".*{tag}Sent",)) as read:
        assert [e.type for e in read] == [f"Invoice{tag}Sent"]
    with client.read_all(
        filter_exclude=(r"\$.*", rf"Order{tag}.*"), limit=1, backwards=True
    ) as read:
        assert [e.type for e in read] == [f"Invoice{tag}Sent"]


def test_read_all_from_a_position_without_an_event_is_refused(
    client: KurrentDBClient, stream_name: str
) -> None:
    position = append(client, stream_name, "A")

    with (
        pytest.raises(InvalidCommitPositionError),
        client.read_all(commit_position=position + 1) as read,
    ):
        list(read)


def test_resolve_links_is_accepted_and_changes_nothing(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "A")

    events = client.get_stream(stream_name, resolve_links=True)

    assert [e.link for e in events] == [None]
