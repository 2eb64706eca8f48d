"""What the in-memory backend alone promises, beyond the conformance kit every backend runs."""

from uuid import uuid4

import pytest
from event_sourcery import StreamId, WrappedEvent
from event_sourcery.exceptions import InvalidSnapshot
from event_sourcery.interfaces import SubscriptionFilter
from event_sourcery_testing import InMemoryBackend
from event_sourcery_testing._in_memory import (
    InMemoryData,
    InMemoryOutboxStrategy,
    InMemoryStorageStrategy,
    InMemorySubscriptionStrategy,
)
from event_sourcery_testing.conformance._events import Deposited


def test_deleting_the_newest_stream_lowers_the_position() -> None:
    # No concurrent writers share this store, so the position can be checked exactly (the
    # kit cannot: other tests append to a shared database meanwhile).
    store = InMemoryBackend().event_store
    older, newest = StreamId(), StreamId()
    store.append(Deposited(amount=1), stream_id=older)
    store.append(Deposited(amount=2), Deposited(amount=3), stream_id=newest)
    assert store.position == 3
    store.delete_stream(newest)
    assert store.position == 1
    store.delete_stream(older)
    assert store.position == 0
    store.append(Deposited(amount=4), stream_id=StreamId())
    assert store.position == 4  # positions are never reused


def test_deleting_an_older_stream_keeps_the_position() -> None:
    store = InMemoryBackend().event_store
    older, newest = StreamId(), StreamId()
    store.append(Deposited(amount=1), stream_id=older)
    store.append(Deposited(amount=2), stream_id=newest)
    store.delete_stream(older)
    assert store.position == 2


def _outbox_with(entries: int) -> InMemoryOutboxStrategy:
    backend = InMemoryBackend().with_outbox()
    store = backend.event_store
    for amount in range(entries):
        store.append(Deposited(amount=amount), stream_id=StreamId())
    assert isinstance(backend.data, InMemoryData)
    return InMemoryOutboxStrategy(backend.data)


def test_a_claimed_entry_is_not_claimed_again_until_released() -> None:
    outbox = _outbox_with(3)
    first = outbox.claim(limit=2, max_attempts=1)
    assert len(first) == 2
    (rest,) = outbox.claim(limit=10, max_attempts=1)
    assert rest.id not in {entry.id for entry in first}
    assert outbox.claim(limit=10, max_attempts=1) == []
    outbox.release(first)
    assert [entry.id for entry in outbox.claim(limit=10, max_attempts=1)] == [
        entry.id for entry in first
    ]


def test_a_failed_entry_counts_an_attempt_and_is_claimable_until_dead() -> None:
    outbox = _outbox_with(1)
    (entry,) = outbox.claim(limit=1, max_attempts=2)
    outbox.failed(entry, "Boom")
    (again,) = outbox.claim(limit=1, max_attempts=2)
    assert (again.id, again.attempts, again.last_error) == (entry.id, 1, "Boom")
    outbox.failed(again, "Boom")
    assert outbox.claim(limit=1, max_attempts=2) == []
    assert [dead.attempts for dead in outbox.dead_letters(max_attempts=2, limit=10)] == [2]
    outbox.reset_attempts([entry.id])
    (retried,) = outbox.claim(limit=1, max_attempts=2)
    assert (retried.attempts, retried.last_error) == (0, None)


def test_claim_stops_at_its_limit() -> None:
    outbox = _outbox_with(3)
    assert len(outbox.claim(limit=1, max_attempts=1)) == 1
    assert len(outbox.claim(limit=3, max_attempts=1)) == 2


def test_scoped_for_tenant_shares_the_data_in_another_tenant() -> None:
    data = InMemoryData()
    storage = InMemoryStorageStrategy(data)
    scoped = storage.scoped_for_tenant("t-1")
    assert isinstance(scoped, InMemoryStorageStrategy)
    assert (scoped.tenant_id, storage.tenant_id) == ("t-1", None)
    InMemoryBackend(data=data).in_tenant_mode("t-1").event_store.append(
        Deposited(amount=1), stream_id=(stream := StreamId())
    )
    assert len(scoped.fetch_events(stream)) == 1
    assert storage.fetch_events(stream) == []


def test_the_log_shows_the_name_a_stream_was_given_later() -> None:
    data = InMemoryData()
    store, uuid, name = InMemoryBackend(data=data).event_store, uuid4(), f"n-{uuid4().hex}"
    store.append(Deposited(amount=1), stream_id=StreamId(uuid))
    store.append(Deposited(amount=2), stream_id=StreamId(uuid, name=name), expected_version=1)
    records = InMemorySubscriptionStrategy(data).open(0, SubscriptionFilter()).fetch(10)
    assert [record.raw.stream_id.name for record in records] == [name, name]
    assert [record.raw.stream_id.uuid for record in records] == [uuid, uuid]


def test_an_entry_purged_during_a_run_is_left_alone() -> None:
    # An operator may purge an entry a worker has claimed; the worker's verdict then finds
    # nothing to update, and must not fail.
    outbox = _outbox_with(2)
    claimed = outbox.claim(limit=2, max_attempts=1)
    outbox.remove([entry.id for entry in claimed])
    outbox.failed(claimed[0], "Boom")
    outbox.release(claimed[1:])
    outbox.published(claimed[1])
    outbox.reset_attempts([claimed[0].id])
    assert outbox.claim(limit=10, max_attempts=1) == []
    assert outbox.dead_letters(max_attempts=1, limit=10) == []


def test_snapshot_of_a_missing_stream_says_it_does_not_exist() -> None:
    store = InMemoryBackend().event_store
    with pytest.raises(InvalidSnapshot, match="does not exist; append events before a snapshot"):
        store.save_snapshot(StreamId(), WrappedEvent.wrap(Deposited(amount=0), 1))
