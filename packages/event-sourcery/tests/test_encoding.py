"""What an append stores: pydantic's JSON text, fresh envelopes, and the same errors as ever."""

import json
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from event_sourcery import Context, Event, EventRegistry, StreamId, WrappedEvent
from event_sourcery._codec import serialize_all
from event_sourcery.exceptions import EventSerializationError, InvalidEvent
from event_sourcery.interfaces import RawEvent, deserialize, serialize


class Measured(Event):
    __event_name__ = "encoding_test.Measured"
    value: float
    label: str = ""


REGISTRY = EventRegistry()
REGISTRY.add(Measured)
STREAM = StreamId(name="encoding")


def _round_trip(event: Measured) -> Measured:
    raw = serialize(event, STREAM, 1, REGISTRY)
    stored = RawEvent(
        raw.uuid, STREAM, raw.type, 1, raw.created_at, raw.data_json(), raw.context_json()
    )
    loaded = deserialize(stored, REGISTRY).event
    assert isinstance(loaded, Measured)
    return loaded


def test_payloads_are_pydantic_json_text_and_match_the_dict_form() -> None:
    event = Measured(value=1.5, label="é \x00 \U0001f600")

    raw = serialize(event, STREAM, 1, REGISTRY)

    assert raw.data_text == event.model_dump_json()
    assert json.loads(raw.data_json()) == event.model_dump(mode="json") == raw.data
    assert raw.context_json() == "{}"
    assert _round_trip(event) == event


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_infinities_and_nan_are_refused(value: float) -> None:
    with pytest.raises(EventSerializationError, match="NaN or infinite"):
        serialize(Measured(value=value), STREAM, 1, REGISTRY)
    with pytest.raises(EventSerializationError, match="NaN or infinite"):  # the dict form
        serialize(Measured(value=value, label="lone \ud800"), STREAM, 1, REGISTRY)


def test_nan_and_infinity_as_words_are_stored() -> None:
    event = Measured(value=1.5, label='NaN, -Infinity and "Infinity"')
    assert _round_trip(event) == event


def test_infinities_and_nan_stored_by_earlier_versions_still_load() -> None:
    for text, check in [
        ('{"value": Infinity}', lambda v: v == math.inf),
        ('{"value": -Infinity}', lambda v: v == -math.inf),
        ('{"value": NaN}', math.isnan),
    ]:
        stored = RawEvent(
            uuid.uuid4(), STREAM, "encoding_test.Measured", 1, datetime.now(UTC), text
        )
        loaded = deserialize(stored, REGISTRY).event
        assert isinstance(loaded, Measured)
        assert check(loaded.value)


def test_a_lone_surrogate_is_stored_escaped_as_json_dumps_writes_it() -> None:
    event = Measured(value=0, label="lone \ud800")

    raw = serialize(event, STREAM, 1, REGISTRY)

    assert raw.data_text is None  # pydantic's JSON refuses it: the dict form is stored
    assert "\\ud800" in raw.data_json()
    assert _round_trip(event) == event


def test_one_append_shares_a_creation_time_and_gets_distinct_time_ordered_uuids() -> None:
    before = datetime.now(UTC)
    events = [Measured(value=n) for n in range(50)]

    raws = serialize_all(events, STREAM, list(range(1, 51)), REGISTRY)

    assert len({raw.created_at for raw in raws}) == 1
    assert before <= raws[0].created_at <= datetime.now(UTC)
    assert raws[0].created_at.tzinfo is UTC
    assert len({raw.uuid for raw in raws}) == 50
    assert {(raw.uuid.version, raw.uuid.variant) for raw in raws} == {(7, uuid.RFC_4122)}
    assert [raw.version for raw in raws] == list(range(1, 51))


def test_wrapped_events_keep_their_envelope_in_utc() -> None:
    at = datetime(2026, 11, 27, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    context = Context(correlation_id=uuid.uuid4())
    wrapped = WrappedEvent(Measured(value=1), uuid=uuid.uuid4(), created_at=at, context=context)

    (raw,) = serialize_all([wrapped], STREAM, [None], REGISTRY)

    assert (raw.uuid, raw.created_at, raw.created_at.tzinfo) == (wrapped.uuid, at, UTC)
    assert raw.context == {"correlation_id": str(context.correlation_id)}


@pytest.mark.parametrize(
    ("item", "error", "message"),
    [
        ("text", InvalidEvent, "only Event or WrappedEvent"),
        (
            WrappedEvent(Measured(value=1), created_at=datetime(2026, 1, 1)),
            InvalidEvent,
            "naive datetime",
        ),
        (
            WrappedEvent(Measured(value=1), context=Context(blob=object())),
            EventSerializationError,
            "cannot be stored as JSON",
        ),
    ],
)
def test_bad_items_raise_the_library_s_errors(
    item: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        serialize_all([item], STREAM, [1], REGISTRY)


def test_each_item_needs_a_version() -> None:
    with pytest.raises(ValueError, match="one version per item"):
        serialize_all([Measured(value=1)], STREAM, [], REGISTRY)
