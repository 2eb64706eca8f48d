"""A stateful property test: a backend and an independent model, driven alike, never diverge.

The model is a few dozen lines written for this test from the documented rules, sharing no code
with any backend (not even the core's version rules): compared with a backend, the in-memory
one included, it can notice a rule broken in the code every backend shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID, uuid4

from event_sourcery import (
    NO_VERSIONING,
    Backend,
    ConcurrentStreamWriteError,
    EventStoreException,
    ExpectedVersionUsedOnVersionlessStream,
    NoExpectedVersionGivenOnVersionedStream,
    StreamId,
    WrappedEvent,
)
from event_sourcery.exceptions import InvalidSnapshot, VersionRangeOnVersionlessStream
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    rule,
    run_state_machine_as_test,
)

from event_sourcery_testing.conformance._events import Balance, Deposited, Withdrawn

#: What the comparison sees of one stored event: its uuid, version and event.
Item = tuple[UUID, int | None, Any]


class _Refused(Exception):
    """The model's verdict: a store must raise `error` here."""

    def __init__(self, error: type[EventStoreException]) -> None:
        super().__init__(error.__name__)
        self.error = error


@dataclass
class _Stream:
    name: str | None
    versioned: bool
    events: list[Item] = field(default_factory=list)
    snapshot: Item | None = None


class Model:
    """The documented rules of streams, in plain Python; raises the error a store must raise.

    A versioned stream is at the number of its events; an append states that version (0: the
    stream must not exist yet) or NO_VERSIONING, which only a versionless stream takes. A
    snapshot is taken at the current version; a load from the start begins with it if it lies
    before `stop`. Streams are told apart by tenant, category and uuid.
    """

    def __init__(self) -> None:
        self.streams: dict[tuple[str | None, str | None, UUID], _Stream] = {}

    def append(
        self, tenant: str | None, stream: StreamId, events: list[Any], expected: Any
    ) -> None:
        found = self.streams.get((tenant, stream.category, stream.uuid))
        versioned = expected is not NO_VERSIONING
        if found is not None and found.versioned != versioned:
            raise _Refused(
                NoExpectedVersionGivenOnVersionedStream
                if found.versioned
                else ExpectedVersionUsedOnVersionlessStream
            )
        if versioned and expected != (len(found.events) if found else 0):
            raise _Refused(ConcurrentStreamWriteError)
        if found is None:
            found = self.streams[(tenant, stream.category, stream.uuid)] = _Stream(
                stream.name, versioned
            )
        for wrapped in events:
            version = len(found.events) + 1 if versioned else None
            found.events.append((wrapped.uuid, version, wrapped.event))

    def load(self, tenant: str | None, stream: StreamId, start: Any, stop: Any) -> list[Item]:
        found = self.streams.get((tenant, stream.category, stream.uuid))
        if found is None:
            return []
        if not found.versioned:
            if start is not None or stop is not None:
                raise _Refused(VersionRangeOnVersionlessStream)
            return list(found.events)
        items, lower, end = [], start or 0, float("inf") if stop is None else stop
        snapshot = found.snapshot
        if snapshot is not None and start is None and (snapshot[1] or 0) < end:
            items.append(snapshot)
            lower = (snapshot[1] or 0) + 1
        return items + [item for item in found.events if lower <= (item[1] or 0) < end]

    def save_snapshot(self, tenant: str | None, stream: StreamId, snapshot: Any) -> None:
        found = self.streams.get((tenant, stream.category, stream.uuid))
        if found is None or not found.versioned or snapshot.version != len(found.events):
            raise _Refused(InvalidSnapshot)
        found.snapshot = (snapshot.uuid, snapshot.version, snapshot.event)

    def delete(self, tenant: str | None, stream: StreamId) -> None:
        self.streams.pop((tenant, stream.category, stream.uuid), None)

    def name(self, tenant: str | None, stream: StreamId) -> str | None:
        found = self.streams.get((tenant, stream.category, stream.uuid))
        return None if found is None else found.name


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return ("ok", call())
    except EventStoreException as exc:
        return ("error", type(exc))
    except _Refused as refused:
        return ("error", refused.error)


def _items(events: list[Any]) -> list[Item]:
    return [(event.uuid, event.version, event.event) for event in events]


class BackendMatchesModel(RuleBasedStateMachine):
    """Random appends, loads, deletes, snapshots and tenant switches on a backend and the model.

    Expected versions are drawn near the truth (right, one off, 0, NO_VERSIONING) so conflicts
    and versioning mismatches happen often; every outcome, value or exception type, must match.
    """

    streams = Bundle("streams")

    #: The backend under test; `StatefulContract` binds it in a subclass per test.
    backend_under_test: ClassVar[Backend]

    def __init__(self) -> None:
        super().__init__()
        self.tenants = [None, f"tenant-{uuid4().hex}", f"tenant-{uuid4().hex}"]
        self.real = self.backend_under_test
        self.model = Model()
        self.tenant: str | None = None

    def _store(self) -> Any:
        real = self.real
        on = real.without_tenant() if self.tenant is None else real.in_tenant_mode(self.tenant)
        return on.event_store

    def _both(self, real: Any, model: Any, touched: StreamId | None = None) -> None:
        found, expected = _outcome(real), _outcome(model)
        assert found == expected, f"backend {found!r} != model {expected!r}"
        if touched is not None:
            # After every change, the whole stream (raw, with the stored name) must agree too.
            tenant = self.tenant
            self._both(
                lambda: [
                    (raw.uuid, raw.version, raw.stream_id.name)
                    for raw in self._store().load_stream_raw(touched)
                ],
                lambda: [
                    (uuid, version, self.model.name(tenant, touched))
                    for uuid, version, _ in self.model.load(tenant, touched, None, None)
                ],
            )

    @rule(
        target=streams,
        category=st.sampled_from([None, "a", "b"]),
        named=st.booleans(),
    )
    def new_stream(self, category: str | None, named: bool) -> StreamId:
        name = f"n-{uuid4().hex}" if named else None
        return StreamId(uuid4(), name=name, category=category)

    @rule(target=streams, stream=streams, category=st.sampled_from([None, "a", "b"]))
    def same_uuid_other_category(self, stream: StreamId, category: str | None) -> StreamId:
        return StreamId(stream.uuid, name=stream.name, category=category)

    @rule(
        stream=streams,
        amounts=st.lists(st.integers(-(2**53), 2**53), min_size=1, max_size=4),
        expected_delta=st.sampled_from([0, 0, 0, -1, 1, "zero", "none"]),
    )
    def append(self, stream: StreamId, amounts: list[int], expected_delta: object) -> None:
        model_events = self.model.load(self.tenant, stream, None, None)
        current = model_events[-1][1] or 0 if model_events else 0
        expected: Any = {"zero": 0, "none": NO_VERSIONING}.get(str(expected_delta))
        if expected is None:
            assert isinstance(expected_delta, int)
            expected = max(0, current + expected_delta)
        events = [
            WrappedEvent.wrap(Deposited(amount=a) if a % 2 else Withdrawn(amount=a))
            for a in amounts
        ]
        self._both(
            lambda: self._store().append(*events, stream_id=stream, expected_version=expected),
            lambda: self.model.append(self.tenant, stream, events, expected),
            stream,
        )

    @rule(stream=streams, start=st.none() | st.integers(-2, 1), stop=st.none() | st.integers(-2, 1))
    def load(self, stream: StreamId, start: int | None, stop: int | None) -> None:
        # start and stop near the stream's version, where an off-by-one in a range would show.
        model_events = self.model.load(self.tenant, stream, None, None)
        current = model_events[-1][1] or 0 if model_events else 0
        start = None if start is None else max(0, current + start)
        stop = None if stop is None else max(0, current + stop)

        def real() -> tuple[Any, list[Item]]:
            loaded = self._store().load_stream(stream, start, stop)
            return loaded.version, _items(loaded)

        def model() -> tuple[Any, list[Item]]:
            items = self.model.load(self.tenant, stream, start, stop)
            version = items[-1][1] if items else 0
            return NO_VERSIONING if version is None else version, items

        self._both(real, model)

    @rule(stream=streams, delta=st.sampled_from([0, 0, -1, 1]), total=st.integers())
    def snapshot(self, stream: StreamId, delta: int, total: int) -> None:
        loaded = self.model.load(self.tenant, stream, None, None)
        version = max(1, (loaded[-1][1] or 1) + delta) if loaded else 1
        snapshot = WrappedEvent.wrap(Balance(total=total), version)
        self._both(
            lambda: self._store().save_snapshot(stream, snapshot),
            lambda: self.model.save_snapshot(self.tenant, stream, snapshot),
            stream,
        )

    @rule(stream=consumes(streams))
    def delete(self, stream: StreamId) -> None:
        self._both(
            lambda: self._store().delete_stream(stream),
            lambda: self.model.delete(self.tenant, stream),
            stream,
        )

    @rule(index=st.integers(0, 2))
    def switch_tenant(self, index: int) -> None:
        self.tenant = self.tenants[index]

    @rule()
    def position_never_goes_back(self) -> None:
        first = self.real.event_store.position
        assert self.real.event_store.position >= first


class StatefulContract:
    """The stateful comparison against the independent `Model`."""

    stateful_examples = 25

    def test_backend_matches_independent_model(self, backend: Backend) -> None:
        run_state_machine_as_test(
            type("BoundMachine", (BackendMatchesModel,), {"backend_under_test": backend}),
            settings=settings(
                max_examples=self.stateful_examples,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            ),
        )
