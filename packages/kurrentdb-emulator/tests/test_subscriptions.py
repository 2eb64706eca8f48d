"""Catch-up subscriptions: confirmation, history, ``caught_up``, live events, checkpoints."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, RecordedEvent, StreamState
from kurrentdbclient.exceptions import InvalidCommitPositionError, StreamIsDeletedError

# Every subscription gets a gRPC deadline, so a missing event fails the test instead of hanging it.
DEADLINE = 10.0


def append(client: KurrentDBClient, stream: str, *types: str) -> int:
    """Append one event per type to ``stream``; return the last commit position."""
    events = [NewEvent(type=t, data=b"{}") for t in types]
    return client.append_to_stream(stream, current_version=StreamState.ANY, events=events)


def take(subscription: Iterable[RecordedEvent], count: int) -> list[RecordedEvent]:
    """The next ``count`` items of ``subscription``."""
    taken: list[RecordedEvent] = []
    for item in subscription:
        taken.append(item)
        if len(taken) == count:
            break
    return taken


def kinds(items: Iterable[RecordedEvent]) -> list[str]:
    """Each item's event type, or "caught-up" / "checkpoint"."""
    return [
        "caught-up" if i.is_caught_up else "checkpoint" if i.is_checkpoint else i.type
        for i in items
    ]


def test_stream_subscription_confirms_catches_up_then_delivers_live_events(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "A", "B")

    with client.subscribe_to_stream(
        stream_name, include_caught_up=True, timeout=DEADLINE
    ) as subscription:
        assert subscription.subscription_id
        history = take(subscription, 3)
        append(client, stream_name, "C")
        live = take(subscription, 1)

    assert kinds(history) == ["A", "B", "caught-up"]
    assert history[2].stream_position == 1
    assert [(e.type, e.stream_position) for e in live] == [("C", 2)]


def test_stream_subscription_from_a_revision_starts_after_it(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "A", "B", "C")

    with client.subscribe_to_stream(
        stream_name, stream_position=0, include_caught_up=True, timeout=DEADLINE
    ) as subscription:
        assert kinds(take(subscription, 3)) == ["B", "C", "caught-up"]


def test_stream_subscription_from_the_end_gets_only_new_events(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "Old")

    with client.subscribe_to_stream(stream_name, from_end=True, timeout=DEADLINE) as subscription:
        append(client, stream_name, "New")
        assert kinds(take(subscription, 1)) == ["New"]


def test_stream_subscription_waits_for_a_stream_that_does_not_exist_yet(
    client: KurrentDBClient, stream_name: str
) -> None:
    with client.subscribe_to_stream(
        stream_name, include_caught_up=True, timeout=DEADLINE
    ) as subscription:
        assert kinds(take(subscription, 1)) == ["caught-up"]
        append(client, stream_name, "First")
        assert kinds(take(subscription, 1)) == ["First"]


def test_subscription_to_a_tombstoned_stream_fails_as_deleted(
    client: KurrentDBClient, stream_name: str
) -> None:
    client.tombstone_stream(stream_name, current_version=StreamState.ANY)

    with (
        pytest.raises(StreamIsDeletedError),
        client.subscribe_to_stream(stream_name, timeout=DEADLINE) as subscription,
    ):
        take(subscription, 1)


def test_all_subscription_switches_from_history_to_live_without_gaps_or_duplicates(
    client: KurrentDBClient,
) -> None:
    prefix = f"gapless-{uuid.uuid4()}"
    start = client.get_commit_position(filter_exclude=())
    for n in range(20):
        append(client, f"{prefix}-{n % 3}", f"History{n}")
    expected = [f"History{n}" for n in range(20)] + [f"Live{n}" for n in range(30)]

    def append_live() -> None:
        for n in range(30):
            append(client, f"{prefix}-{n % 3}", f"Live{n}")

    with client.subscribe_to_all(
        commit_position=start,
        filter_include=(prefix,),
        filter_by_stream_name=True,
        filter_by_prefix=True,
        timeout=DEADLINE,
    ) as subscription:
        appender = threading.Thread(target=append_live)
        appender.start()
        received = take(subscription, 50)
        appender.join()

    assert [e.type for e in received] == expected
    positions = [e.commit_position or 0 for e in received]
    assert positions == sorted(set(positions))


def test_caught_up_arrives_once_between_history_and_live(
    client: KurrentDBClient, stream_name: str
) -> None:
    start = client.get_commit_position(filter_exclude=())
    append(client, stream_name, "A", "B")

    with client.subscribe_to_all(
        commit_position=start,
        filter_include=(stream_name,),
        filter_by_stream_name=True,
        include_caught_up=True,
        timeout=DEADLINE,
    ) as subscription:
        history = take(subscription, 3)
        append(client, stream_name, "C")
        append(client, stream_name, "D")
        live = take(subscription, 2)

    assert kinds(history) == ["A", "B", "caught-up"]
    assert history[2].commit_position == history[1].commit_position
    assert kinds(live) == ["C", "D"]


def test_all_subscription_from_the_end_gets_only_new_events(
    client: KurrentDBClient, stream_name: str
) -> None:
    append(client, stream_name, "Old")

    with client.subscribe_to_all(
        from_end=True, filter_include=(stream_name,), filter_by_stream_name=True, timeout=DEADLINE
    ) as subscription:
        append(client, stream_name, "New")
        assert kinds(take(subscription, 1)) == ["New"]


def test_filtered_all_subscription_sends_a_checkpoint_every_window_times_multiplier(
    plaintext_client: KurrentDBClient, stream_name: str
) -> None:
    start = plaintext_client.get_commit_position(filter_exclude=())
    positions = [append(plaintext_client, stream_name, "Skipped") for _ in range(10)]

    with plaintext_client.subscribe_to_all(
        commit_position=start,
        filter_include=("NeverMatches",),
        include_checkpoints=True,
        include_caught_up=True,
        window_size=2,
        checkpoint_interval_multiplier=2,
        timeout=DEADLINE,
    ) as subscription:
        history = take(subscription, 4)
        live_positions = [append(plaintext_client, stream_name, "Skipped") for _ in range(4)]
        live = take(subscription, 1)

    # Every 2 * 2 records considered, and once more on catching up.
    assert kinds(history) == ["checkpoint", "checkpoint", "checkpoint", "caught-up"]
    assert [c.commit_position for c in history] == [
        positions[3],
        positions[7],
        positions[9],
        positions[9],
    ]
    assert kinds(live) == ["checkpoint"]
    assert live[0].commit_position in live_positions


def test_unfiltered_all_subscription_sends_no_checkpoints(
    plaintext_client: KurrentDBClient, stream_name: str
) -> None:
    start = append(plaintext_client, stream_name, "First")
    append(plaintext_client, stream_name, *["Next"] * 12)

    with plaintext_client.subscribe_to_all(
        commit_position=start,
        filter_exclude=(),
        include_checkpoints=True,
        include_caught_up=True,
        timeout=DEADLINE,
    ) as subscription:
        items = take(subscription, 13)

    assert kinds(items) == ["Next"] * 12 + ["caught-up"]


def test_all_subscription_from_a_position_without_an_event_fails(
    client: KurrentDBClient, stream_name: str
) -> None:
    position = append(client, stream_name, "A")

    with (
        pytest.raises(InvalidCommitPositionError),
        client.subscribe_to_all(commit_position=position + 1, timeout=DEADLINE) as subscription,
    ):
        take(subscription, 1)


def test_filtered_all_subscription_from_the_end_goes_live_without_a_checkpoint(
    plaintext_client: KurrentDBClient, stream_name: str
) -> None:
    with plaintext_client.subscribe_to_all(
        from_end=True,
        filter_include=(stream_name,),
        filter_by_stream_name=True,
        include_checkpoints=True,
        include_caught_up=True,
        timeout=DEADLINE,
    ) as subscription:
        first = take(subscription, 1)
        append(plaintext_client, stream_name, "New")
        live = take(subscription, 1)

    assert kinds(first) == ["caught-up"]
    assert kinds(live) == ["New"]
