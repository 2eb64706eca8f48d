"""Multi-tenancy: the default context and every tenant are mutually invisible."""

from __future__ import annotations

from uuid import uuid4

import pytest
from event_sourcery import Backend, StreamId, WrappedEvent
from event_sourcery.exceptions import InvalidTenantId

from event_sourcery_testing.conformance._events import Balance, Deposited
from event_sourcery_testing.conformance._support import fresh_name, fresh_tenant, payloads, versions


class TenantsContract:
    """Tenant isolation every backend shares."""

    def test_tenant_mode_returns_scoped_copy(self, backend: Backend) -> None:
        tenant = fresh_tenant()
        scoped = backend.in_tenant_mode(tenant)
        assert scoped.tenant_id == tenant
        assert backend.tenant_id is None
        assert scoped.without_tenant().tenant_id is None

    def test_same_stream_id_lives_independently_per_tenant(self, backend: Backend) -> None:
        stream = StreamId(category="shared")
        default = backend.event_store
        one = backend.in_tenant_mode(fresh_tenant()).event_store
        two = backend.in_tenant_mode(fresh_tenant()).event_store
        default.append(Deposited(amount=0), stream_id=stream)
        one.append(Deposited(amount=1), Deposited(amount=11), stream_id=stream)
        two.append(Deposited(amount=2), stream_id=stream)
        assert payloads(default.load_stream(stream)) == [Deposited(amount=0)]
        assert versions(one.load_stream(stream)) == [1, 2]
        assert payloads(two.load_stream(stream)) == [Deposited(amount=2)]
        two.append(Deposited(amount=3), stream_id=stream, expected_version=1)
        assert versions(two.load_stream(stream)) == [1, 2]

    def test_tenant_streams_are_invisible_elsewhere(self, backend: Backend) -> None:
        stream = StreamId()
        tenant = backend.in_tenant_mode(fresh_tenant()).event_store
        tenant.append(Deposited(amount=1), stream_id=stream)
        assert backend.event_store.load_stream(stream) == []
        assert backend.in_tenant_mode(fresh_tenant()).event_store.load_stream(stream) == []

    def test_delete_touches_only_its_tenant(self, backend: Backend) -> None:
        stream, tenant_id = StreamId(), fresh_tenant()
        tenant = backend.in_tenant_mode(tenant_id).event_store
        backend.event_store.append(Deposited(amount=0), stream_id=stream)
        tenant.append(Deposited(amount=1), stream_id=stream)
        backend.event_store.delete_stream(stream)
        assert payloads(tenant.load_stream(stream)) == [Deposited(amount=1)]
        backend.event_store.append(Deposited(amount=2), stream_id=stream)
        backend.in_tenant_mode(tenant_id).event_store.delete_stream(stream)
        assert payloads(backend.event_store.load_stream(stream)) == [Deposited(amount=2)]
        assert tenant.load_stream(stream) == []

    def test_snapshots_are_per_tenant(self, backend: Backend) -> None:
        stream = StreamId()
        tenant = backend.in_tenant_mode(fresh_tenant()).event_store
        backend.event_store.append(Deposited(amount=1), stream_id=stream)
        tenant.append(Deposited(amount=2), stream_id=stream)
        tenant.save_snapshot(stream, WrappedEvent.wrap(Balance(total=2), 1))
        assert payloads(backend.event_store.load_stream(stream)) == [Deposited(amount=1)]
        assert payloads(tenant.load_stream(stream)) == [Balance(total=2)]

    def test_names_are_per_tenant(self, backend: Backend) -> None:
        name = fresh_name()
        backend.event_store.append(Deposited(amount=1), stream_id=StreamId(uuid4(), name=name))
        tenant = backend.in_tenant_mode(fresh_tenant()).event_store
        mine = StreamId(uuid4(), name=name)
        tenant.append(Deposited(amount=2), stream_id=mine)
        assert payloads(tenant.load_stream(mine)) == [Deposited(amount=2)]

    def test_longest_identifiers_round_trip(self, backend: Backend) -> None:
        tenant_id = ("ż" + uuid4().hex) * 7 + "t" * (255 - 33 * 7)
        category = "ć" * 255
        name = ("🐍" + uuid4().hex) * 7 + "n" * (255 - 33 * 7)
        store = backend.in_tenant_mode(tenant_id).event_store
        stream = StreamId(name=name, category=category)
        store.append(Deposited(amount=1), stream_id=stream)
        (raw,) = store.load_stream_raw(StreamId(name=name, category=category))
        assert (raw.stream_id.name, raw.stream_id.category) == (name, category)

    @pytest.mark.parametrize("tenant_id", ["", " padded ", "x" * 256, "bad\x00", 7, None])
    def test_unusable_tenant_ids_are_rejected(self, backend: Backend, tenant_id: object) -> None:
        with pytest.raises(InvalidTenantId):
            backend.in_tenant_mode(tenant_id)  # type: ignore[arg-type]
