"""A stateful property test: a backend and the in-memory model, driven alike, never diverge."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import uuid4

from event_sourcery import NO_VERSIONING, Backend, EventStoreException, StreamId, WrappedEvent
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    rule,
    run_state_machine_as_test,
)

from event_sourcery_testing._in_memory import InMemoryBackend
from event_sourcery_testing.conformance._events import Balance, Deposited, Withdrawn


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return ("ok", call())
    except EventStoreException as exc:
        return ("error", type(exc))


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
        self.model: Backend = InMemoryBackend()
        self.tenant: str | None = None

    def _on(self, backend: Backend) -> Backend:
        return (
            backend.without_tenant() if self.tenant is None else backend.in_tenant_mode(self.tenant)
        )

    def _both(self, action: Any, touched: StreamId | None = None) -> None:
        real = _outcome(lambda: action(self._on(self.real).event_store))
        model = _outcome(lambda: action(self._on(self.model).event_store))
        assert real == model, f"backend {real!r} != model {model!r}"
        if touched is not None:
            # After every change, the whole stream (raw, with the stored name) must agree too.
            self._both(
                lambda store: [(raw, raw.stream_id.name) for raw in store.load_stream_raw(touched)]
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
        model_events = self._on(self.model).event_store.load_stream_raw(stream)
        current = 0
        if model_events:
            current = model_events[-1].version or 0
        expected: Any = {"zero": 0, "none": NO_VERSIONING}.get(str(expected_delta))
        if expected is None:
            assert isinstance(expected_delta, int)
            expected = max(0, current + expected_delta)
        events = [
            WrappedEvent.wrap(Deposited(amount=a) if a % 2 else Withdrawn(amount=a))
            for a in amounts
        ]
        self._both(
            lambda store: store.append(*events, stream_id=stream, expected_version=expected), stream
        )

    @rule(stream=streams, start=st.none() | st.integers(0, 6), stop=st.none() | st.integers(0, 8))
    def load(self, stream: StreamId, start: int | None, stop: int | None) -> None:
        self._both(lambda store: store.load_stream(stream, start, stop))

    @rule(stream=streams, delta=st.sampled_from([0, 0, -1, 1]), total=st.integers())
    def snapshot(self, stream: StreamId, delta: int, total: int) -> None:
        loaded = self._on(self.model).event_store.load_stream_raw(stream)
        version = max(1, (loaded[-1].version or 1) + delta) if loaded else 1
        snapshot = WrappedEvent.wrap(Balance(total=total), version)
        self._both(lambda store: store.save_snapshot(stream, snapshot), stream)

    @rule(stream=consumes(streams))
    def delete(self, stream: StreamId) -> None:
        self._both(lambda store: store.delete_stream(stream), stream)

    @rule(index=st.integers(0, 2))
    def switch_tenant(self, index: int) -> None:
        self.tenant = self.tenants[index]

    @rule()
    def position_never_goes_back(self) -> None:
        first = self.real.event_store.position
        assert self.real.event_store.position >= first


class StatefulContract:
    """The stateful comparison against the in-memory model."""

    stateful_examples = 25

    def test_backend_matches_in_memory_model(self, backend: Backend) -> None:
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
