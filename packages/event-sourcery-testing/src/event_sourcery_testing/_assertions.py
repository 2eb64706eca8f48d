"""Assertions for users' tests on what a store holds."""

from __future__ import annotations

from collections.abc import Sequence

from event_sourcery import Event, EventStore, StreamId


def event_difference(title: str, actual: Sequence[Event], expected: Sequence[Event]) -> str:
    """`title`, then both sequences side by side, differing lines marked ``!!``."""
    lines = [f"{title} {len(actual)} event(s), expected {len(expected)}:"]
    for index in range(max(len(actual), len(expected))):
        got = actual[index] if index < len(actual) else "<missing>"
        want = expected[index] if index < len(expected) else "<none>"
        mark = "  " if got == want else "!!"
        lines.append(f"{mark} [{index}] got {got!r}, expected {want!r}")
    return "\n".join(lines)


def assert_stream(store: EventStore, stream_id: StreamId, *expected: Event) -> None:
    """Assert that the stream holds exactly `expected` events (payloads, in order).

    Raises:
        AssertionError: listing both sequences when they differ.
    """
    actual = [wrapped.event for wrapped in store.load_stream(stream_id)]
    if actual != list(expected):
        raise AssertionError(event_difference(f"stream {stream_id!r} holds", actual, expected))
