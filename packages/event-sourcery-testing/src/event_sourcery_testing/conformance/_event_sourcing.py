"""Aggregates through `Repository`: load, save, concurrency, snapshots, context."""

from __future__ import annotations

from uuid import uuid4

import pytest
from event_sourcery import (
    Backend,
    ConcurrentStreamWriteError,
    Context,
    Event,
    StreamId,
    StreamUUID,
)
from event_sourcery.event_sourcing import Aggregate, Repository
from event_sourcery.exceptions import InvalidInput, InvalidStreamId

from event_sourcery_testing.conformance._hooks import Hooks


class TurnedOn(Event):
    __event_name__ = "es_conformance.TurnedOn"


class TurnedOff(Event):
    __event_name__ = "es_conformance.TurnedOff"


class SwitchState(Event):
    __event_name__ = "es_conformance.SwitchState"
    on: bool
    flips: int


class LightSwitch(Aggregate):
    """The example aggregate; counts how many events it replayed."""

    category = "es_conformance_switch"
    snapshot_type = SwitchState

    class AlreadyOn(Exception):
        pass

    def __init__(self) -> None:
        self._on = False
        self.flips = 0
        self.replayed = 0

    def __apply__(self, event: Event) -> None:
        self.replayed += 1
        self.flips += 1
        self._on = isinstance(event, TurnedOn)

    def __snapshot__(self) -> Event:
        return SwitchState(on=self._on, flips=self.flips)

    def __restore__(self, snapshot: Event) -> None:
        assert isinstance(snapshot, SwitchState)
        self._on, self.flips = snapshot.on, snapshot.flips

    def turn_on(self) -> None:
        if self._on:
            raise LightSwitch.AlreadyOn
        self._emit(TurnedOn())

    def turn_off(self) -> None:
        self._emit(TurnedOff())


class EventSourcingContract(Hooks):
    """Aggregates behave alike on every backend."""

    def test_new_aggregate_is_saved_on_clean_exit(self, backend: Backend) -> None:
        repository = Repository[LightSwitch](backend.event_store)
        uuid = StreamUUID()
        with repository.aggregate(uuid, LightSwitch()) as wrapped:
            assert wrapped.is_new
            assert wrapped.version == 0
            wrapped.aggregate.turn_on()
            wrapped.aggregate.turn_off()
            assert wrapped.version == 2
        assert wrapped.stream_id.category == "es_conformance_switch"
        with repository.aggregate(uuid, LightSwitch()) as loaded:
            assert not loaded.is_new
            assert loaded.version == 2
            assert loaded.aggregate.flips == 2
            assert loaded.created_at is not None
            assert loaded.updated_at is not None
            assert loaded.created_at <= loaded.updated_at

    def test_exception_inside_saves_nothing(self, backend: Backend) -> None:
        repository = Repository[LightSwitch](backend.event_store)
        uuid = StreamUUID()
        with (
            pytest.raises(LightSwitch.AlreadyOn),
            repository.aggregate(uuid, LightSwitch()) as wrapped,
        ):
            wrapped.aggregate.turn_on()
            wrapped.aggregate.turn_on()
        with repository.aggregate(uuid, LightSwitch()) as loaded:
            assert loaded.is_new

    def test_concurrent_modification_is_rejected(self, backend: Backend) -> None:
        repository = Repository[LightSwitch](backend.event_store)
        uuid = StreamUUID()
        with repository.aggregate(uuid, LightSwitch()) as wrapped:
            wrapped.aggregate.turn_on()
        with (
            pytest.raises(ConcurrentStreamWriteError),
            repository.aggregate(uuid, LightSwitch()) as first,
        ):
            first.aggregate.turn_off()
            with repository.aggregate(uuid, LightSwitch()) as second:
                second.aggregate.turn_off()
        with repository.aggregate(uuid, LightSwitch()) as loaded:
            assert loaded.version == 2

    def test_snapshots_are_written_every_n_and_used_on_load(self, backend: Backend) -> None:
        repository = Repository[LightSwitch](backend.event_store, snapshot_every=4)
        uuid = StreamUUID()
        for _ in range(5):
            with repository.aggregate(uuid, LightSwitch()) as wrapped:
                wrapped.aggregate.turn_off()
        with repository.aggregate(uuid, LightSwitch()) as loaded:
            assert loaded.version == 5
            assert loaded.aggregate.flips == 5
            assert loaded.aggregate.replayed == 1  # the snapshot at 4, then event 5

    def test_context_is_attached_to_every_saved_event(self, backend: Backend) -> None:
        context = Context(correlation_id=uuid4(), causation_id=uuid4(), actor="tests")
        repository = Repository[LightSwitch](backend.event_store, context=context)
        uuid = StreamUUID()
        with repository.aggregate(uuid, LightSwitch()) as wrapped:
            wrapped.aggregate.turn_on()
            wrapped.aggregate.turn_off()
        events = backend.event_store.load_stream(wrapped.stream_id)
        assert [e.context for e in events] == [context, context]

    def test_a_plain_uuid_addresses_the_same_aggregate(self, backend: Backend) -> None:
        # A plain UUID used to fail with "'UUID' object has no attribute 'uuid'".
        repository = Repository[LightSwitch](backend.event_store)
        plain = uuid4()
        with repository.aggregate(plain, LightSwitch()) as wrapped:
            wrapped.aggregate.turn_on()
        assert wrapped.stream_id == StreamId(plain, category=LightSwitch.category)
        with repository.aggregate(StreamUUID(plain), LightSwitch()) as loaded:
            assert loaded.version == 1

    def test_an_id_that_is_not_a_uuid_is_refused(self, backend: Backend) -> None:
        repository = Repository[LightSwitch](backend.event_store)
        text = str(uuid4())
        with (
            pytest.raises(InvalidStreamId, match=r"UUID\(text\).*StreamUUID\(name=text\)"),
            repository.aggregate(text, LightSwitch()),  # type: ignore[arg-type]
        ):
            pass
        with (
            pytest.raises(InvalidStreamId, match="got int"),
            repository.aggregate(42, LightSwitch()),  # type: ignore[arg-type]
        ):
            pass
        stream_id = StreamId(text, category=LightSwitch.category)
        assert backend.event_store.load_stream(stream_id) == []

    def test_bad_repository_use_is_rejected(self, backend: Backend) -> None:
        with pytest.raises(InvalidInput):
            Repository[LightSwitch](backend.event_store, snapshot_every=0)
        repository = Repository[LightSwitch](backend.event_store)
        with pytest.raises(InvalidInput), repository.aggregate(StreamUUID(), object()):  # type: ignore[arg-type]
            pass

        class Nameless(Aggregate):
            pass

        nameless = Repository[Nameless](backend.event_store)
        with (
            pytest.raises(InvalidInput, match="category"),
            nameless.aggregate(StreamUUID(), Nameless()),
        ):
            pass
