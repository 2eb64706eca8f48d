"""Server-side ``$all`` filters: on stream names or event types, by prefixes or a regex."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kurrentdbclient.protos.v1 import streams_pb2

from kurrentdb_emulator._records import Record

Matcher = Callable[[Record], bool]

# KurrentDB's default search window when a filter asks for "count" instead of a maximum.
_DEFAULT_WINDOW = 32


class InvalidFilter(ValueError):
    """The filter options cannot be used (a bad regular expression)."""


@dataclass(frozen=True, slots=True)
class Filter:
    """A ``$all`` filter and its checkpoint cadence.

    Attributes:
        matches: Whether a record passes the filter.
        checkpoint_interval: How many records a filtered subscription considers between two
            checkpoints: the search window times ``checkpointIntervalMultiplier``.
        window: How many records one catch-up page considers (the search window).
    """

    matches: Matcher
    checkpoint_interval: int
    window: int


def everything(_record: Record) -> bool:
    """The matcher of an unfiltered read."""
    return True


def parse_filter(options: streams_pb2.ReadReq.Options) -> Filter | None:
    """The filter of a read or subscription request, or None if it has ``no_filter``.

    Raises:
        InvalidFilter: The expression is not a valid regular expression.
    """
    if options.WhichOneof("filter_option") != "filter":
        return None
    filter_options = options.filter
    which = filter_options.WhichOneof("filter")
    expression = (
        filter_options.stream_identifier
        if which == "stream_identifier"
        else filter_options.event_type
    )
    by_stream = which == "stream_identifier"

    def subject(record: Record) -> str:
        return record.stream if by_stream else record.type

    matches: Matcher
    if expression.regex:
        try:
            pattern = re.compile(expression.regex)
        except re.error as exc:
            raise InvalidFilter(f"invalid filter regex {expression.regex!r}: {exc}") from exc
        # .NET's Regex.IsMatch finds a match anywhere, like re.search; the client anchors its own.
        matches = lambda record: pattern.search(subject(record)) is not None  # noqa: E731
    else:
        prefixes = tuple(expression.prefix)
        matches = lambda record: subject(record).startswith(prefixes)  # noqa: E731
    window = filter_options.max if filter_options.WhichOneof("window") == "max" else 0
    window = window or _DEFAULT_WINDOW
    # A multiplier of 0 gives an interval of 0, which only a subscription rejects.
    interval = window * filter_options.checkpointIntervalMultiplier
    return Filter(matches=matches, checkpoint_interval=interval, window=window)
