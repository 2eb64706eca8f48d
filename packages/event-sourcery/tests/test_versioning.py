"""The version rules, shared by every backend."""

import re
from uuid import uuid4

import pytest
from event_sourcery import (
    NO_VERSIONING,
    ConcurrentStreamWriteError,
    ExpectedVersionUsedOnVersionlessStream,
    NoExpectedVersionGivenOnVersionedStream,
    StreamId,
)

# Not public: the store validates its arguments with them before any I/O.
from event_sourcery._versioning import check_expected, check_version_arg
from event_sourcery.exceptions import (
    AnotherStreamWithThisNameButOtherIdExists,
    IncompatibleUuidAndName,
    InvalidExpectedVersion,
    InvalidSnapshot,
)
from event_sourcery.interfaces import (
    MISSING,
    VERSIONLESS,
    check_append,
    check_name,
    check_snapshot,
    is_repeat,
    new_versions,
    snapshot_applies,
)

STREAM = StreamId()


@pytest.mark.parametrize(
    ("state", "expected"),
    [(MISSING, 0), (3, 3), (VERSIONLESS, NO_VERSIONING), (MISSING, NO_VERSIONING)],
)
def test_allowed_appends(state: object, expected: object) -> None:
    check_append(STREAM, state, expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "expected", "error"),
    [
        (MISSING, 1, ConcurrentStreamWriteError),
        (0, 0, ConcurrentStreamWriteError),  # a stream that exists at version 0 is not missing
        (2, 0, ConcurrentStreamWriteError),
        (2, 1, ConcurrentStreamWriteError),
        (2, 3, ConcurrentStreamWriteError),
        (VERSIONLESS, 0, ExpectedVersionUsedOnVersionlessStream),
        (VERSIONLESS, 2, ExpectedVersionUsedOnVersionlessStream),
        (2, NO_VERSIONING, NoExpectedVersionGivenOnVersionedStream),
    ],
)
def test_rejected_appends(state: object, expected: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_append(STREAM, state, expected)  # type: ignore[arg-type]


def test_conflict_message_says_what_to_do() -> None:
    with pytest.raises(ConcurrentStreamWriteError, match="must not exist yet"):
        check_append(STREAM, 4, 0)


def test_new_versions_are_contiguous() -> None:
    assert new_versions(0, 3) == [1, 2, 3]
    assert new_versions(7, 2) == [8, 9]
    assert new_versions(NO_VERSIONING, 2) == [None, None]


@pytest.mark.parametrize(
    ("start", "stop", "applies"),
    [(None, None, True), (1, None, False), (None, 5, False), (None, 6, True)],
)
def test_snapshot_applies_only_to_loads_from_the_beginning(
    start: int | None, stop: int | None, applies: bool
) -> None:
    assert snapshot_applies(5, start, stop) is applies


def test_conflict_reports_both_versions() -> None:
    with pytest.raises(ConcurrentStreamWriteError) as missing:
        check_append(STREAM, MISSING, 2)
    assert (missing.value.expected_version, missing.value.actual_version) == (2, None)
    with pytest.raises(ConcurrentStreamWriteError) as behind:
        check_append(STREAM, 5, 4)
    assert (behind.value.expected_version, behind.value.actual_version) == (4, 5)


@pytest.mark.parametrize("value", [0, 1, 2**63])
def test_version_arg_accepts_non_negative_ints(value: int) -> None:
    assert check_version_arg(value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "must not be negative, got -1"),
        (True, "must be an int or NO_VERSIONING, got bool True"),
        (False, "got bool False"),
        (1.0, "got float 1.0"),
        ("1", "got str '1'"),
        (None, "got NoneType None"),
    ],
)
def test_version_arg_rejects_everything_else(value: object, message: str) -> None:
    with pytest.raises(InvalidExpectedVersion, match=re.escape(message)) as refused:
        check_version_arg(value)
    assert str(refused.value).startswith("expected_version ")


def test_version_arg_names_what_it_checks() -> None:
    with pytest.raises(InvalidExpectedVersion, match="^snapshot version must not be negative"):
        check_version_arg(-3, "snapshot version")


def test_check_expected_passes_no_versioning_and_validates_ints() -> None:
    assert check_expected(NO_VERSIONING) is NO_VERSIONING
    assert check_expected(0) == 0
    assert check_expected(7) == 7
    with pytest.raises(InvalidExpectedVersion):
        check_expected(-1)
    with pytest.raises(InvalidExpectedVersion):
        check_expected("NO_VERSIONING")


def test_snapshot_at_the_current_version_is_accepted() -> None:
    assert check_snapshot(STREAM, 3, 3) == 3
    assert check_snapshot(STREAM, 1, 1) == 1


@pytest.mark.parametrize(
    ("state", "version", "message"),
    [
        (MISSING, 1, "does not exist"),
        (VERSIONLESS, 1, "is versionless"),
        (3, 2, "must equal the stream's current version 3"),
        (3, 4, "Snapshot version 4 .* current version 3"),
    ],
)
def test_snapshot_off_the_current_version_is_refused(
    state: object, version: int, message: str
) -> None:
    with pytest.raises(InvalidSnapshot, match=message):
        check_snapshot(STREAM, state, version)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", [-1, True, "3", None])
def test_snapshot_version_must_be_a_version(version: object) -> None:
    with pytest.raises(InvalidExpectedVersion, match="snapshot version"):
        check_snapshot(STREAM, 3, version)


def test_unnamed_streams_bind_no_name() -> None:
    check_name(StreamId(), "stored-name", uuid4())  # no name asked for: nothing to check


def test_name_can_be_bound_again_by_its_own_stream() -> None:
    stream = StreamId(name=f"n-{uuid4().hex}")
    check_name(stream, None, None)  # a new name
    check_name(stream, stream.name, None)  # the stream's own name
    check_name(stream, stream.name, stream.uuid)  # the holder is this stream


def test_stream_stored_under_another_name_refuses_a_new_one() -> None:
    uuid = uuid4()
    with pytest.raises(IncompatibleUuidAndName) as refused:
        check_name(StreamId(uuid, name="new"), "old", None)
    assert "'old'" in str(refused.value)
    assert "'new'" in str(refused.value)


def test_name_held_by_another_stream_is_refused() -> None:
    holder = uuid4()
    with pytest.raises(AnotherStreamWithThisNameButOtherIdExists):
        check_name(StreamId(name="taken", category="c"), None, holder)


def test_repeat_is_the_same_uuids_at_the_same_versions() -> None:
    first, second = uuid4(), uuid4()
    assert is_repeat([first, second], [first, second]) is True
    assert is_repeat([first], [first, second]) is False  # only part of it was stored
    assert is_repeat([second, first], [first, second]) is False
    assert is_repeat([], []) is False  # nothing re-sent is no repeat


def test_no_versioning_reads_as_its_name() -> None:
    assert repr(NO_VERSIONING) == "NO_VERSIONING"
