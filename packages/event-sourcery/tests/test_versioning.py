"""The version rules, shared by every backend."""

import pytest
from event_sourcery import (
    NO_VERSIONING,
    ConcurrentStreamWriteError,
    ExpectedVersionUsedOnVersionlessStream,
    NoExpectedVersionGivenOnVersionedStream,
    StreamId,
)
from event_sourcery.interfaces import (
    MISSING,
    VERSIONLESS,
    check_append,
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
