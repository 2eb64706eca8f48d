"""Idempotent appends: re-sending an append that was stored (a lost reply) stores nothing twice.

The rule every backend honours: an append at expected version n whose events (by uuid, in
order) are exactly the stream's events n + 1, n + 2, ... is a repeat. It succeeds, stores
nothing and reports the positions the events got the first time. Any other append at a stale
expected version is a `ConcurrentStreamWriteError`, as before. Versionless appends make no such
promise: without an expected version a re-send cannot be told from a new append.

Event ids are unique per tenant: an id twice in one append, or an id stored already (on
another stream, or earlier in the same one) in any append but the re-send, is a
`DuplicateEventId`, and nothing of that append is stored. Backends without
`Capabilities.unique_event_ids` refuse only the first case.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import (
    NO_VERSIONING,
    Backend,
    ConcurrentStreamWriteError,
    DuplicateEventId,
    Recorded,
    StreamId,
    WrappedEvent,
)

from event_sourcery_testing.conformance._events import Deposited, Withdrawn
from event_sourcery_testing.conformance._hooks import Hooks
from event_sourcery_testing.conformance._support import first_batch, fresh_tenant, snapshot_of_store


def _wrapped(*amounts: int) -> list[WrappedEvent[Any]]:
    return [WrappedEvent.wrap(Deposited(amount=amount)) for amount in amounts]


class IdempotencyContract(Hooks):
    """Retrying an append after a lost reply is safe on every backend."""

    def test_resending_a_stored_append_stores_nothing_twice(self, backend: Backend) -> None:
        store, stream = backend.event_store, StreamId(category=f"idem-{uuid4().hex}")
        first, second = _wrapped(1, 2), _wrapped(3)
        store.append(*first, stream_id=stream)
        store.append(*first, stream_id=stream)
        store.append(*second, stream_id=stream, expected_version=2)
        store.append(*second, stream_id=stream, expected_version=2)
        store.append(*first, stream_id=stream)
        loaded = store.load_stream(stream)
        assert [(w.uuid, w.version) for w in loaded] == [
            (first[0].uuid, 1),
            (first[1].uuid, 2),
            (second[0].uuid, 3),
        ]
        self.commit(backend)
        batch = first_batch(
            backend.subscriber.to_category(stream.category or "").build_batch(10, 1)
        )
        assert [r.wrapped_event.uuid for r in batch] == [w.uuid for w in loaded]

    def test_a_repeat_reports_the_original_positions(self, backend: Backend) -> None:
        seen: list[Recorded] = []
        category = f"idem-{uuid4().hex}"
        backend.in_transaction.register(seen.append, to=category)
        events, stream = _wrapped(1, 2), StreamId(category=category)
        backend.event_store.append(*events, stream_id=stream)
        backend.event_store.append(*events, stream_id=stream)
        backend.in_transaction.unregister(seen.append)
        assert [r.position for r in seen[2:]] == [r.position for r in seen[:2]]
        assert [r.wrapped_event.version for r in seen] == [1, 2, 1, 2]

    @pytest.mark.parametrize("resent", ["other uuid", "fewer", "more", "shifted"])
    def test_a_resend_that_differs_is_a_conflict(self, backend: Backend, resent: str) -> None:
        store, stream = backend.event_store, StreamId()
        stored = _wrapped(1, 2)
        store.append(*stored, stream_id=stream)
        before = snapshot_of_store(store, stream)
        attempt = {
            "other uuid": [stored[0], WrappedEvent.wrap(Withdrawn(amount=2))],
            "fewer": stored[1:],
            "more": [*stored, *_wrapped(3)],
            "shifted": [stored[0]],
        }[resent]
        expected = 1 if resent == "shifted" else 0
        with pytest.raises(ConcurrentStreamWriteError):
            store.append(*attempt, stream_id=stream, expected_version=expected)
        assert snapshot_of_store(store, stream) == before

    @pytest.mark.parametrize("expected", [0, 1, NO_VERSIONING])
    def test_an_event_id_twice_in_one_append_is_refused(
        self, backend: Backend, expected: Any
    ) -> None:
        store, stream = backend.event_store, StreamId()
        if expected != 0:  # an existing stream: versioned at 1, or versionless
            first_expected = 0 if expected == 1 else NO_VERSIONING
            store.append(*_wrapped(1), stream_id=stream, expected_version=first_expected)
        before = snapshot_of_store(store, stream)
        twice = _wrapped(2)[0]
        with pytest.raises(DuplicateEventId) as info:
            store.append(twice, *_wrapped(3), twice, stream_id=stream, expected_version=expected)
        assert info.value.event_ids == (twice.uuid,)
        assert snapshot_of_store(store, stream) == before

    @pytest.mark.parametrize("where", ["another stream", "same stream later", "versionless"])
    def test_a_stored_event_id_is_refused_by_a_new_append(
        self, backend: Backend, where: str
    ) -> None:
        store, first = backend.event_store, StreamId(category=f"idem-{uuid4().hex}")
        versionless = where == "versionless"
        (stored,) = _wrapped(1)
        store.append(stored, stream_id=first, expected_version=NO_VERSIONING if versionless else 0)
        self.commit(backend)
        target = StreamId(category=first.category) if where == "another stream" else first
        expected: Any = {"another stream": 0, "same stream later": 1}.get(where, NO_VERSIONING)
        if not self.capabilities.unique_event_ids:
            # The declared difference (KurrentDB keeps no index of ids across appends): the
            # re-used id is stored again, where the backend's docs say so.
            store.append(*_wrapped(2), stored, stream_id=target, expected_version=expected)
            self.commit(backend)
            ids = [wrapped.uuid for wrapped in store.load_stream(target)]
            assert ids.count(stored.uuid) == (2 if target == first else 1)
            return
        before = snapshot_of_store(store, first, target)
        with pytest.raises(DuplicateEventId):
            store.append(*_wrapped(2), stored, stream_id=target, expected_version=expected)
        if self.capabilities.transactions:
            self.rollback(backend)
        assert snapshot_of_store(store, first, target) == before

    def test_event_ids_are_unique_per_tenant_only(self, backend: Backend) -> None:
        (event,) = _wrapped(1)
        stream, tenant = StreamId(), fresh_tenant()
        backend.event_store.append(event, stream_id=stream)
        backend.in_tenant_mode(tenant).event_store.append(event, stream_id=stream)
        for store in (backend.event_store, backend.in_tenant_mode(tenant).event_store):
            assert [w.uuid for w in store.load_stream(stream)] == [event.uuid]
