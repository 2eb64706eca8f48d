"""The conformance kit against the reference in-memory backend."""

import pytest
from event_sourcery import Backend, RawEvent, StreamId
from event_sourcery.interfaces import StorageStrategy
from event_sourcery_testing import InMemoryBackend, InMemoryStorageStrategy
from event_sourcery_testing.conformance import BackendConformance, Capabilities
from event_sourcery_testing.conformance._stateful import StatefulContract
from event_sourcery_testing.conformance._suite import _CONTRACTS

# Names every contract defines on purpose, with one meaning (pytest's own class attributes).
_SHARED = frozenset({"pytestmark"})


class TestInMemoryBackend(BackendConformance):
    capabilities = Capabilities(transactions=False)

    @pytest.fixture
    def backend(self) -> Backend:
        return InMemoryBackend()


def test_a_subclass_cannot_override_a_standard_test() -> None:
    with pytest.raises(TypeError, match="test_first_append_creates_stream_at_version_one"):

        class Sneaky(BackendConformance):
            def test_first_append_creates_stream_at_version_one(self) -> None:
                pass


def test_no_two_contracts_define_the_same_name() -> None:
    # The contracts are mixed into one class, so a helper named alike in two of them is silently
    # replaced by the one earlier in the MRO (an outbox test once drained with a typed-read helper).
    seen: dict[str, str] = {}
    clashes = []
    for contract in _CONTRACTS:
        for name in vars(contract):
            if name.startswith("__") or name in _SHARED:
                continue
            if name in seen:
                clashes.append(f"{name} ({seen[name]}, {contract.__name__})")
            seen[name] = contract.__name__
    assert clashes == []


class _ForgetfulStorage(InMemoryStorageStrategy):
    """Loses the last event of every stream longer than one: a bug the model must catch."""

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        events = super().fetch_events(stream_id, start, stop)
        return events[:-1] if len(events) > 1 else events


class _ForgetfulBackend(InMemoryBackend):
    def _storage(self) -> StorageStrategy:
        return _ForgetfulStorage(self.data, self.tenant_id)


class _ThoroughContract(StatefulContract):
    # The default 25 random programs missed the bug once in CI-like runs (a program must
    # append twice to one stream, then load it): four times as many make that vanishingly rare.
    stateful_examples = 100


def test_stateful_comparison_catches_a_diverging_backend() -> None:
    with pytest.raises(AssertionError, match="backend .* != model"):
        _ThoroughContract().test_backend_matches_independent_model(_ForgetfulBackend())
