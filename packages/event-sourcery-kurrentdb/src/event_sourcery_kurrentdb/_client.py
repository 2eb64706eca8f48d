"""Every request this backend makes, each through `_errors.call` (retries, error translation).

Every request carries the connection's deadline. `kurrentdbclient` applies its `DefaultDeadline`
to writes only, so without ours a read (and every append reads the stream's head first) waits
for good on a server that stopped answering, and neither the retry nor `StorageError` follows.

A version conflict is an answer here, not an error: `append` and `delete` return None / False,
and the caller decides what it means (a `ConcurrentStreamWriteError`, a name already taken, a
delete that someone else finished).
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from event_sourcery.exceptions import InvalidInput
from kurrentdbclient import KurrentDBClient, NewEvent, RecordedEvent, StreamState
from kurrentdbclient.common import AbstractCatchupSubscription
from kurrentdbclient.exceptions import (
    DeadlineExceededError,
    NotFoundError,
    WrongCurrentVersionError,
)

from event_sourcery_kurrentdb._errors import RetryPolicy, call

Expected = int | StreamState

#: Seconds a request may take when neither the backend nor the client's URI names a deadline:
#: KurrentDB's own clients default to 10 s.
DEFAULT_DEADLINE = 10.0


def resolve_deadline(client: KurrentDBClient, deadline: float | None) -> float:
    """`deadline` if given, else the client's `DefaultDeadline`, else `DEFAULT_DEADLINE`.

    Raises:
        InvalidInput: `deadline` is not a positive, finite number of seconds.
    """
    if deadline is None:
        return float(client.connection_spec.options.default_deadline or DEFAULT_DEADLINE)
    if (
        isinstance(deadline, bool)
        or not isinstance(deadline, int | float)
        or not math.isfinite(deadline)
        or deadline <= 0
    ):
        raise InvalidInput(
            f"deadline must be a positive, finite number of seconds, got {deadline!r}"
        )
    return float(deadline)


def _confirmed_within(
    seconds: float, start: Callable[[], AbstractCatchupSubscription]
) -> AbstractCatchupSubscription:
    """`start()`, or `DeadlineExceededError` if the server has not confirmed it in `seconds`.

    A subscription cannot carry a gRPC deadline: the deadline would end it, however healthy,
    after that time. `kurrentdbclient` blocks until the server confirms the subscription, so
    that wait is bounded here instead, on a helper thread; a subscription confirmed after we
    gave up is stopped at once.
    """
    lock = threading.Lock()
    arrived = threading.Event()
    outcome: list[AbstractCatchupSubscription | Exception] = []

    def run() -> None:
        result: AbstractCatchupSubscription | Exception
        try:
            result = start()
        except Exception as exc:
            result = exc
        with lock:
            if not arrived.is_set():
                outcome.append(result)
                arrived.set()
                return
        if not isinstance(result, Exception):
            with contextlib.suppress(Exception):
                result.stop()

    threading.Thread(target=run, name="event-sourcery-kurrentdb-subscribe", daemon=True).start()
    arrived.wait(seconds)
    with lock:
        if not outcome:
            arrived.set()  # tells the helper thread that nobody waits for its subscription
            raise DeadlineExceededError(f"no subscription confirmation within {seconds} s")
    result = outcome[0]
    if isinstance(result, Exception):
        raise result
    return result


class Connection:
    """A `KurrentDBClient` with this backend's retry policy and deadline; shared by every strategy.

    Attributes:
        client: the client every request goes through.
        retry: how transient failures are retried.
        deadline: seconds each request may take (for a subscription: its confirmation).
    """

    __slots__ = ("client", "deadline", "retry")

    def __init__(self, client: KurrentDBClient, retry: RetryPolicy, deadline: float) -> None:
        self.client = client
        self.retry = retry
        self.deadline = deadline

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
                    stream,
                    stream_position=position,
                    backwards=backwards,
                    limit=limit,
                    timeout=self.deadline,
                )
            except NotFoundError:
                return ()

        return call(read, f"reading stream {stream!r}", self.retry)

    def read_all_of_streams(self, include: str) -> tuple[RecordedEvent, ...]:
        """Every record of `$all` whose whole stream name matches the regex `include`."""

        def read() -> tuple[RecordedEvent, ...]:
            return tuple(
                self.client.read_all(
                    filter_include=(include,), filter_by_stream_name=True, timeout=self.deadline
                )
            )

        return call(read, f"reading $all for streams {include!r}", self.retry)

    def read_log_back(self, stream: str, before: int, limit: int) -> tuple[RecordedEvent, ...]:
        """The newest `limit` records of `stream` in `$all` below commit position `before`
        (excluded: KurrentDB's rule backwards), newest first; a soft delete hides none of them.
        """

        def read() -> tuple[RecordedEvent, ...]:
            return tuple(
                self.client.read_all(
                    commit_position=before,
                    backwards=True,
                    filter_include=(re.escape(stream),),
                    filter_by_stream_name=True,
                    limit=limit,
                    timeout=self.deadline,
                )
            )

        return call(read, f"reading $all for stream {stream!r}", self.retry)

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
                    stream, events=list(events), current_version=expected, timeout=self.deadline
                )
            except WrongCurrentVersionError:
                return None

        return call(append, f"appending to stream {stream!r}", self.retry)

    def delete(self, stream: str, expected: Expected) -> bool:
        """Soft-delete `stream`; False if it has no events or a version conflict stopped it."""

        def delete() -> bool:
            try:
                self.client.delete_stream(stream, current_version=expected, timeout=self.deadline)
            except (WrongCurrentVersionError, NotFoundError):
                return False
            return True

        return call(delete, f"deleting stream {stream!r}", self.retry)

    def metadata(self, stream: str) -> tuple[dict[str, Any], Expected]:
        """The stream's metadata and the metadata's own revision."""
        return call(
            lambda: self.client.get_stream_metadata(stream, timeout=self.deadline),
            f"reading the metadata of stream {stream!r}",
            self.retry,
        )

    def set_metadata(self, stream: str, metadata: dict[str, Any], expected: Expected) -> bool:
        """Replace the stream's metadata; False on a version conflict."""

        def write() -> bool:
            try:
                self.client.set_stream_metadata(
                    stream, metadata=metadata, current_version=expected, timeout=self.deadline
                )
            except WrongCurrentVersionError:
                return False
            return True

        return call(write, f"writing the metadata of stream {stream!r}", self.retry)

    def commit_position(self) -> int:
        """Commit position of the newest non-system event; 0 if there is none."""
        return call(
            lambda: self.client.get_commit_position(timeout=self.deadline),
            "reading the commit position",
            self.retry,
        )

    def subscribe(
        self, after: int, include: str, *, by_stream_name: bool
    ) -> AbstractCatchupSubscription:
        """A catch-up subscription to `$all` after `after`, filtered server-side by `include`.

        Only its start is bounded by the deadline (see `_confirmed_within`). A server that stops
        answering later is noticed by the cursor's stall limit while it catches up, and after
        that by gRPC keep-alive (`KeepAliveInterval` / `KeepAliveTimeout` in the client's URI).
        """
        return call(
            lambda: _confirmed_within(
                self.deadline,
                lambda: self.client.subscribe_to_all(
                    commit_position=after or None,
                    filter_include=(include,),
                    filter_by_stream_name=by_stream_name,
                    include_checkpoints=True,
                    include_caught_up=True,
                ),
            ),
            "subscribing to $all",
            self.retry,
        )
