"""Every request this backend makes, each through `_errors.call` (retries, error translation).

A version conflict is an answer here, not an error: `append` and `delete` return None / False,
and the caller decides what it means (a `ConcurrentStreamWriteError`, a name already taken, a
delete that someone else finished).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from kurrentdbclient import KurrentDBClient, NewEvent, RecordedEvent, StreamState
from kurrentdbclient.common import AbstractCatchupSubscription
from kurrentdbclient.exceptions import NotFoundError, WrongCurrentVersionError

from event_sourcery_kurrentdb._errors import RetryPolicy, call

Expected = int | StreamState


class Connection:
    """A `KurrentDBClient` with this backend's retry policy; shared by every strategy."""

    __slots__ = ("client", "retry")

    def __init__(self, client: KurrentDBClient, retry: RetryPolicy) -> None:
        self.client = client
        self.retry = retry

    def read(
        self,
        stream: str,
        *,
        position: int | None = None,
        backwards: bool = False,
        limit: int = sys.maxsize,
    ) -> tuple[RecordedEvent, ...]:
        """Records of `stream` from revision `position` (inclusive); () if it does not exist."""

        def read() -> tuple[RecordedEvent, ...]:
            try:
                return self.client.get_stream(
                    stream, stream_position=position, backwards=backwards, limit=limit
                )
            except NotFoundError:
                return ()

        return call(read, f"reading stream {stream!r}", self.retry)

    def last(self, stream: str, count: int = 1) -> tuple[RecordedEvent, ...]:
        """The newest `count` records of `stream`, newest first."""
        return self.read(stream, backwards=True, limit=count)

    def append(self, stream: str, expected: Expected, events: Sequence[NewEvent]) -> int | None:
        """Append atomically; the commit position of the last event, None on a version conflict.

        Always a list, so `kurrentdbclient` uses BatchAppend, which reports every failure
        (a tombstoned stream included) with its proper exception.
        """

        def append() -> int | None:
            try:
                return self.client.append_to_stream(
                    stream, events=list(events), current_version=expected
                )
            except WrongCurrentVersionError:
                return None

        return call(append, f"appending to stream {stream!r}", self.retry)

    def delete(self, stream: str, expected: Expected) -> bool:
        """Soft-delete `stream`; False if it has no events or a version conflict stopped it."""

        def delete() -> bool:
            try:
                self.client.delete_stream(stream, current_version=expected)
            except (WrongCurrentVersionError, NotFoundError):
                return False
            return True

        return call(delete, f"deleting stream {stream!r}", self.retry)

    def metadata(self, stream: str) -> tuple[dict[str, Any], Expected]:
        """The stream's metadata and the metadata's own revision."""
        return call(
            lambda: self.client.get_stream_metadata(stream),
            f"reading the metadata of stream {stream!r}",
            self.retry,
        )

    def set_metadata(self, stream: str, metadata: dict[str, Any], expected: Expected) -> bool:
        """Replace the stream's metadata; False on a version conflict."""

        def write() -> bool:
            try:
                self.client.set_stream_metadata(stream, metadata=metadata, current_version=expected)
            except WrongCurrentVersionError:
                return False
            return True

        return call(write, f"writing the metadata of stream {stream!r}", self.retry)

    def commit_position(self) -> int:
        """Commit position of the newest non-system event; 0 if there is none."""
        return call(self.client.get_commit_position, "reading the commit position", self.retry)

    def subscribe(
        self, after: int, include: str, *, by_stream_name: bool
    ) -> AbstractCatchupSubscription:
        """A catch-up subscription to `$all` after `after`, filtered server-side by `include`."""
        return call(
            lambda: self.client.subscribe_to_all(
                commit_position=after or None,
                filter_include=(include,),
                filter_by_stream_name=by_stream_name,
                include_checkpoints=True,
                include_caught_up=True,
            ),
            "subscribing to $all",
            self.retry,
        )
