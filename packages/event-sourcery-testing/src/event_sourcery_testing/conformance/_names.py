"""Named streams: a name is bound to one uuid per category and tenant."""

from __future__ import annotations

from uuid import uuid4

import pytest
from event_sourcery import (
    AnotherStreamWithThisNameButOtherIdExists,
    Backend,
    IncompatibleUuidAndName,
    StreamId,
)

from event_sourcery_testing.conformance._events import Deposited
from event_sourcery_testing.conformance._support import (
    fresh_name,
    fresh_tenant,
    payloads,
    snapshot_of_store,
)


class NamesContract:
    """Stream names every backend binds the same way."""

    def test_named_stream_is_found_by_name_alone(self, backend: Backend) -> None:
        store, name = backend.event_store, fresh_name()
        store.append(Deposited(amount=1), stream_id=StreamId(name=name, category="acc"))
        store.append(
            Deposited(amount=2), stream_id=StreamId(name=name, category="acc"), expected_version=1
        )
        loaded = store.load_stream(StreamId(name=name, category="acc"))
        assert payloads(loaded) == [Deposited(amount=1), Deposited(amount=2)]
        (raw, _) = store.load_stream_raw(StreamId(name=name, category="acc"))
        assert raw.stream_id.name == name

    def test_names_categories_and_tenants_differing_in_case_are_distinct(
        self, backend: Backend
    ) -> None:
        # Databases whose default collation ignores case (MariaDB's) must still keep them apart.
        name, category, tenant = fresh_name(), f"cat-{uuid4().hex}", fresh_tenant()
        variants = [
            (name, category, tenant),
            (name.upper(), category, tenant),
            (name, category.upper(), tenant),
            (name, category, tenant.upper()),
        ]
        for amount, (each_name, each_category, each_tenant) in enumerate(variants):
            store = backend.in_tenant_mode(each_tenant).event_store
            store.append(
                Deposited(amount=amount), stream_id=StreamId(name=each_name, category=each_category)
            )
        for amount, (each_name, each_category, each_tenant) in enumerate(variants):
            store = backend.in_tenant_mode(each_tenant).event_store
            loaded = store.load_stream(StreamId(name=each_name, category=each_category))
            assert payloads(loaded) == [Deposited(amount=amount)]

    def test_name_bound_to_explicit_uuid_is_kept(self, backend: Backend) -> None:
        store, name, uuid = backend.event_store, fresh_name(), uuid4()
        store.append(Deposited(amount=1), stream_id=StreamId(uuid, name=name))
        (raw,) = store.load_stream_raw(StreamId(uuid))
        assert raw.stream_id.name == name

    def test_name_taken_by_another_uuid_is_rejected(self, backend: Backend) -> None:
        store, name = backend.event_store, fresh_name()
        first = StreamId(uuid4(), name=name, category="c")
        store.append(Deposited(amount=1), stream_id=first)
        intruder = StreamId(uuid4(), name=name, category="c")
        with pytest.raises(AnotherStreamWithThisNameButOtherIdExists) as info:
            store.append(Deposited(amount=2), stream_id=intruder)
        assert info.value.existing_uuid == first.uuid
        assert store.load_stream(intruder) == []
        assert payloads(store.load_stream(first)) == [Deposited(amount=1)]

    def test_renaming_a_stored_stream_is_rejected(self, backend: Backend) -> None:
        store, uuid = backend.event_store, uuid4()
        store.append(Deposited(amount=1), stream_id=StreamId(uuid, name=fresh_name()))
        before = snapshot_of_store(store, StreamId(uuid))
        with pytest.raises(IncompatibleUuidAndName):
            store.append(
                Deposited(amount=2), stream_id=StreamId(uuid, name=fresh_name()), expected_version=1
            )
        assert snapshot_of_store(store, StreamId(uuid)) == before

    def test_unnamed_stream_gets_its_name_on_a_later_append(self, backend: Backend) -> None:
        store, uuid, name = backend.event_store, uuid4(), fresh_name()
        store.append(Deposited(amount=1), stream_id=StreamId(uuid))
        store.append(Deposited(amount=2), stream_id=StreamId(uuid, name=name), expected_version=1)
        raws = store.load_stream_raw(StreamId(uuid))
        assert [raw.stream_id.name for raw in raws] == [name, name]
        with pytest.raises(AnotherStreamWithThisNameButOtherIdExists):
            store.append(Deposited(amount=3), stream_id=StreamId(uuid4(), name=name))

    def test_append_by_uuid_alone_keeps_the_stored_name(self, backend: Backend) -> None:
        store, uuid, name = backend.event_store, uuid4(), fresh_name()
        store.append(Deposited(amount=1), stream_id=StreamId(uuid, name=name))
        store.append(Deposited(amount=2), stream_id=StreamId(uuid), expected_version=1)
        raws = store.load_stream_raw(StreamId(uuid))
        assert [raw.stream_id.name for raw in raws] == [name, name]
        with pytest.raises(AnotherStreamWithThisNameButOtherIdExists):
            store.append(Deposited(amount=3), stream_id=StreamId(uuid4(), name=name))

    def test_one_name_in_two_categories_is_two_streams(self, backend: Backend) -> None:
        store, name = backend.event_store, fresh_name()
        in_a, in_b = StreamId(name=name, category="a"), StreamId(name=name, category="b")
        store.append(Deposited(amount=1), stream_id=in_a)
        store.append(Deposited(amount=2), stream_id=in_b)
        assert payloads(store.load_stream(in_a)) == [Deposited(amount=1)]
        assert payloads(store.load_stream(in_b)) == [Deposited(amount=2)]

    def test_deleting_a_named_stream_frees_its_name(self, backend: Backend) -> None:
        store, name = backend.event_store, fresh_name()
        first = StreamId(uuid4(), name=name)
        store.append(Deposited(amount=1), stream_id=first)
        store.delete_stream(first)
        second = StreamId(uuid4(), name=name)
        store.append(Deposited(amount=2), stream_id=second)
        assert payloads(store.load_stream(second)) == [Deposited(amount=2)]
        assert store.load_stream(first) == []
