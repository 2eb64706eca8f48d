"""The batch decoders give what the one-event path gives, errors included."""

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import Event, EventRegistry, Recorded, StreamId, WrappedEvent
from event_sourcery._event import build_wrapped
from event_sourcery._fast_decode import deserialize_all
from event_sourcery._frozen import positional_builder
from event_sourcery.exceptions import EventSerializationError, UnknownEventType
from event_sourcery.interfaces import (
    RawEvent,
    RecordedRaw,
    build_recorded_raw,
    deserialize,
)
from event_sourcery.sql import (
    raw_from_text,
)


class Deposited(Event):
    __event_name__ = "decoding_test.Deposited"
    amount: int


class Renamed(Event):
    __event_name__ = "decoding_test.Renamed"
    __schema_version__ = 2
    title: str


REGISTRY = EventRegistry()
REGISTRY.add(Deposited)
REGISTRY.add(Renamed)


@REGISTRY.upcaster(Renamed, from_version=1)
def _name_to_title(data: dict[str, Any]) -> dict[str, Any]:
    return {"title": data["name"]}


STREAM = StreamId(name="decoding")
AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def _raw(data: Any, **changes: Any) -> RawEvent:
    fields: dict[str, Any] = {
        "uuid": uuid4(),
        "stream_id": STREAM,
        "type": "decoding_test.Deposited",
        "version": 1,
        "created_at": AT,
        "data": data,
        "context": "{}",
        "schema_version": 1,
    }
    fields.update(changes)
    return RawEvent(**fields)


def _every_path() -> list[RawEvent]:
    correlation = uuid4()
    return [
        _raw('{"amount": 1}'),
        raw_from_text(uuid4(), STREAM, "decoding_test.Deposited", 2, AT, '{"amount": 2}', "{}", 1),
        raw_from_text(uuid4(), STREAM, "decoding_test.Deposited", 3, AT, '{"amount": 3}', None, 1),
        _raw({"amount": 4}, context={}),
        _raw('{"amount": 5}', context=f'{{"correlation_id": "{correlation}"}}'),
        _raw('{"amount": 6}', context={"correlation_id": str(correlation), "extra": 1}),
        _raw('{"amount": 7}', created_at=datetime(2026, 11, 27, 9, 30)),  # naive: taken as UTC
        _raw('{"amount": 8}', created_at=AT.astimezone(timezone(timedelta(hours=2)))),
        _raw('{"name": "old"}', type="decoding_test.Renamed", schema_version=1),
        _raw('{"title": "new"}', type="decoding_test.Renamed", schema_version=2),
        _raw('{"amount": 9, "note": "\\ud800"}'),  # a lone surrogate: pydantic's parser refuses
        _raw('{"amount": 10}', version=None),
    ]


def test_decoding_all_gives_what_decoding_each_gives() -> None:
    raws = _every_path()

    decoded = deserialize_all(raws, REGISTRY)

    assert decoded == [deserialize(raw, REGISTRY) for raw in raws]
    assert [wrapped.created_at.tzinfo for wrapped in decoded] == [UTC] * len(raws)
    assert decoded[4].context.correlation_id == decoded[5].context.correlation_id is not None
    assert decoded[8].event == Renamed(title="old")


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (_raw('{"amount": 1}', type="decoding_test.Missing"), UnknownEventType),
        (_raw('{"amount": "lots"}'), EventSerializationError),
        (_raw('{"amount": 1}', context='{"correlation_id": "nope"}'), EventSerializationError),
    ],
)
def test_decoding_all_raises_what_decoding_the_bad_one_raises(
    raw: RawEvent, error: type[Exception]
) -> None:
    with pytest.raises(error) as one:
        deserialize(raw, REGISTRY)

    with pytest.raises(error) as all_of:
        deserialize_all([_raw('{"amount": 0}'), raw], REGISTRY)

    assert str(all_of.value) == str(one.value)


def test_recorded_all_of_names_the_position_of_an_unknown_type() -> None:
    records = [
        RecordedRaw(_raw('{"amount": 1}'), 10, None),
        build_recorded_raw(_raw("{}", type="decoding_test.Missing"), 11, "tenant"),
    ]

    with pytest.raises(UnknownEventType) as raised:
        Recorded.all_of(records, REGISTRY)

    assert raised.value.position == 11
    assert Recorded.all_of(records[:1], REGISTRY) == [Recorded.of(records[0], REGISTRY)]


def test_built_envelopes_equal_constructed_ones_and_stay_frozen() -> None:
    event, uuid = Deposited(amount=1), uuid4()

    built = build_wrapped(event, 3, uuid, AT, WrappedEvent(event).context)

    assert built == WrappedEvent(event, 3, uuid, AT)
    assert hash(built) == hash(WrappedEvent(event, 3, uuid, AT))
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.version = 4  # type: ignore[misc]
    assert build_recorded_raw(_raw("{}"), 5, None).position == 5


def test_only_slotted_dataclasses_get_a_builder() -> None:
    @dataclasses.dataclass(frozen=True)
    class Plain:
        value: int

    with pytest.raises(TypeError, match="Plain is not a slotted dataclass"):
        positional_builder(Plain)
