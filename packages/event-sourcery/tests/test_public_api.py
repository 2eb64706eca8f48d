"""The public surface: re-export-only packages with sorted, pinned `__all__`."""

from typing import Any

import event_sourcery
import event_sourcery.interfaces
import event_sourcery.sql
import pytest
from event_sourcery import exceptions


def isort_style(names: list[str]) -> list[str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    return sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))


def test_top_level_names_are_pinned() -> None:
    assert event_sourcery.__all__ == isort_style(event_sourcery.__all__)
    assert set(event_sourcery.__all__) == {
        "NO_VERSIONING",
        "AnotherStreamWithThisNameButOtherIdExists",
        "AsyncBackend",
        "AsyncEventStore",
        "AsyncOutbox",
        "AsyncProjector",
        "AsyncSubscriber",
        "Backend",
        "BackendConfig",
        "ConcurrentStreamWriteError",
        "Context",
        "DuplicateEventId",
        "Event",
        "EventRegistry",
        "EventStore",
        "EventStoreException",
        "ExpectedVersionUsedOnVersionlessStream",
        "IncompatibleUuidAndName",
        "LoadedStream",
        "NoExpectedVersionGivenOnVersionedStream",
        "Outbox",
        "OutboxEntry",
        "Projector",
        "RawEvent",
        "Recorded",
        "StreamId",
        "StreamUUID",
        "Subscriber",
        "UnexpectedEventType",
        "UnknownEventType",
        "VersioningMismatch",
        "Worker",
        "WrappedEvent",
        "caused_by",
        "context_caused_by",
        "default_registry",
    }


@pytest.mark.parametrize("module", [event_sourcery.interfaces, event_sourcery.sql])
def test_backend_author_names_are_sorted(module: Any) -> None:
    assert module.__all__ == isort_style(module.__all__)
    for name in module.__all__:
        assert hasattr(module, name)


def test_every_exception_descends_from_the_root_and_is_drawn_in_the_tree() -> None:
    classes = [
        value
        for value in vars(exceptions).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert len(classes) > 10
    for cls in classes:
        assert issubclass(cls, exceptions.EventStoreException)
        assert cls.__name__ in (exceptions.__doc__ or ""), f"{cls.__name__} missing from the tree"


def test_input_errors_are_also_builtin_value_errors() -> None:
    assert issubclass(exceptions.InvalidStreamId, ValueError)
    assert issubclass(exceptions.InvalidEvent, TypeError)
