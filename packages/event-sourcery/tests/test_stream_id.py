"""StreamUUID / StreamId semantics: identity, names, categories, validation."""

import pickle
from unittest.mock import ANY
from uuid import UUID, uuid4

import pytest
from event_sourcery import StreamId, StreamUUID
from event_sourcery.exceptions import InvalidStreamId


def test_fresh_ids_are_random() -> None:
    assert StreamId() != StreamId()
    assert StreamUUID() != StreamUUID()


def test_name_derives_a_deterministic_uuid() -> None:
    assert StreamId(name="acc-42") == StreamId(name="acc-42")
    assert StreamUUID(name="acc-42").uuid == StreamId(name="acc-42", category="x").uuid
    assert StreamId(name="acc-42") != StreamId(name="acc-43")


def test_category_takes_part_in_identity_name_does_not() -> None:
    uuid = uuid4()
    assert StreamId(uuid, category="a") != StreamId(uuid, category="b")
    assert StreamId(uuid, category="a") == StreamId(uuid, name="label", category="a")
    assert hash(StreamId(uuid, category="a")) == hash(StreamId(uuid, name="n", category="a"))
    assert StreamId(uuid) != uuid


def test_accepts_uuid_or_its_text() -> None:
    uuid = uuid4()
    assert StreamId(str(uuid)).uuid == uuid
    assert isinstance(StreamId(uuid).uuid, UUID)


def test_of_puts_a_stream_uuid_into_a_category() -> None:
    plain = StreamUUID(name="switch-1")
    stream = StreamId.of(plain, category="light")
    assert (stream.uuid, stream.name, stream.category) == (plain.uuid, "switch-1", "light")


def test_survives_pickling_and_repr() -> None:
    stream = StreamId(name="n", category="c")
    copy = pickle.loads(pickle.dumps(stream))
    assert (copy, copy.name, copy.category) == (stream, "n", "c")
    assert repr(stream) == f"StreamId('{stream}', name='n', category='c')"


def test_is_immutable() -> None:
    stream = StreamId()
    with pytest.raises((TypeError, AttributeError)):
        stream.category = "x"  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["", " x", "x ", "a\nb", "\x00", "x" * 256, 5, b"bytes", "\ud800"])
def test_unusable_names_and_categories_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidStreamId):
        StreamId(name=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidStreamId):
        StreamId(category=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["not-a-uuid", 12, 1.5])
def test_unusable_uuids_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidStreamId):
        StreamId(bad)  # type: ignore[arg-type]


def test_longest_allowed_labels_are_accepted() -> None:
    stream = StreamId(name="n" * 255, category="ź" * 255)
    assert len(stream.name or "") == 255


def test_stored_stream_ids_equal_validated_ones_and_are_built_once_per_stream() -> None:
    from event_sourcery.interfaces import StoredStreamIds

    streams = StoredStreamIds(size=2)
    uuid = uuid4()
    first = streams.get(uuid.hex, "acc-1", "accounts", lambda text: UUID(hex=text))
    again = streams.get(uuid.hex, "acc-1", "accounts", lambda text: UUID(hex=text))
    assert again is first
    assert first == StreamId(uuid, name="acc-1", category="accounts")
    assert (first.name, first.category, first.uuid) == ("acc-1", "accounts", uuid)
    assert hash(first) == hash(StreamId(uuid, category="accounts"))
    assert repr(first) == repr(StreamId(uuid, name="acc-1", category="accounts"))
    # Bounded: a third stream starts the cache over.
    streams.get(uuid4(), None, None, lambda value: value)
    streams.get(uuid4(), None, None, lambda value: value)
    assert streams.get(uuid.hex, "acc-1", "accounts", lambda text: UUID(hex=text)) is not first


def test_stream_id_never_equals_a_bare_stream_uuid() -> None:
    # Equal objects must hash alike. A StreamId hashes its uuid with its category, a
    # StreamUUID (like a UUID) its uuid alone, so StreamId(u) == StreamUUID(u) broke sets and
    # dicts. A StreamUUID has no category, so it is not a stream's identity: never equal.
    uuid = uuid4()
    assert StreamId(uuid) != StreamUUID(uuid)
    assert StreamUUID(uuid) != StreamId(uuid)
    assert StreamId(uuid, category="c") != StreamUUID(uuid)
    assert len({StreamId(uuid), StreamUUID(uuid)}) == 2
    assert StreamUUID(uuid) == uuid  # a StreamUUID is still the uuid it carries
    assert hash(StreamUUID(uuid)) == hash(uuid)


@pytest.mark.parametrize(
    "make",
    [
        lambda u: StreamId(u),
        lambda u: StreamId(u, name="n"),
        lambda u: StreamId(u, category="c"),
        lambda u: StreamUUID(u),
        lambda u: StreamUUID(u, name="n"),
        lambda u: u,
    ],
)
def test_equal_ids_hash_alike(make: object) -> None:
    uuid = uuid4()
    kinds = [
        StreamId(uuid),
        StreamId(uuid, name="n"),
        StreamId(uuid, category="c"),
        StreamId(uuid, name="n", category="c"),
        StreamUUID(uuid),
        StreamUUID(uuid, name="n"),
        uuid,
    ]
    one = make(uuid)  # type: ignore[operator]
    for other in kinds:
        if one == other or other == one:
            assert one == other
            assert other == one
            assert hash(one) == hash(other)


def test_stored_stream_ids_start_over_only_when_full() -> None:
    from event_sourcery.interfaces import StoredStreamIds

    streams = StoredStreamIds(size=2)
    uuid = uuid4()
    first = streams.get(uuid, None, None, lambda value: value)
    streams.get(uuid4(), None, None, lambda value: value)  # now full, nothing dropped yet
    assert streams.get(uuid, None, None, lambda value: value) is first


def test_comparisons_with_other_types_are_plain_false() -> None:
    uuid = uuid4()
    assert (StreamId(uuid) == uuid) is False
    assert (StreamId(uuid) == StreamUUID(uuid)) is False
    assert (StreamId(uuid) == str(uuid)) is False  # NotImplemented, then Python's own False
    assert (StreamId(uuid) != str(uuid)) is True


def test_stream_uuid_repr_and_pickling_keep_the_name() -> None:
    uuid = uuid4()
    assert repr(StreamUUID(uuid)) == f"StreamUUID('{uuid}')"
    assert repr(StreamUUID(uuid, name="n")) == f"StreamUUID('{uuid}', name='n')"
    copy = pickle.loads(pickle.dumps(StreamUUID(uuid, name="n")))
    assert (type(copy), copy.uuid, copy.name) == (StreamUUID, uuid, "n")


def test_unknown_types_decide_equality_themselves() -> None:
    # NotImplemented, not False, for what is not a UUID: mock.ANY and the like then answer.
    assert StreamId() == ANY
    assert StreamId(category="c") == ANY
