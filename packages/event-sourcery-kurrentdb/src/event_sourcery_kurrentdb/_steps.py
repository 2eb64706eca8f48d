"""Every request this backend makes, as data: the backend's logic is written once, without I/O.

The strategies' decisions (versions, names, snapshots, deletes, keys, outbox entries) are
generators that yield a `Request` and are sent its answer, as h11 hands bytes in and events
out. A driver runs them, `Run` telling it what comes next: `Connection.run` calls
`KurrentDBClient`, `AsyncConnection.run` awaits `AsyncKurrentDBClient`, with the same retries
and error translation. An error a request raises is thrown into the generator, translated, so
its clean-up (releasing a name it bound) runs on either driver; a cancelled asyncio call
closes the generator where it stopped, with no further request.

A version conflict is an answer here, not an error: `append` and `delete` answer None / False,
and the caller decides what it means (a `ConcurrentStreamWriteError`, a name already taken, a
delete that someone else finished).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from event_sourcery.exceptions import EventStoreException
from kurrentdbclient import NewEvent, RecordedEvent, StreamState
from kurrentdbclient.exceptions import NotFoundError, WrongCurrentVersionError

from event_sourcery_kurrentdb._errors import RetryPolicy, operation_or, retry_after

T = TypeVar("T")

Expected = int | StreamState


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Request:
    """One call of a `kurrentdbclient` client method, sync or async alike.

    Attributes:
        method: the client method's name (the same on both clients).
        what: the request, for errors and retry warnings outside a user operation.
        kwargs: its arguments, but the deadline (the driver adds ``timeout``).
        answers: errors that are an answer, not a failure, and `answer`, what they mean.
        finish: makes the answer of the client's result (after an async result is read out).
        streaming: a subscription: no gRPC deadline (it would end the subscription, however
            healthy); the driver bounds the wait for the server's confirmation instead.
        pause: not a call but a wait of this many seconds (`pause`), slept or awaited.
    """

    method: str
    what: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    answers: tuple[type[Exception], ...] = ()
    answer: Any = None
    finish: Callable[[Any], Any] = _same
    streaming: bool = False
    pause: float = 0.0


C = TypeVar("C")


class Driver(Generic[C]):
    """What a driver of the steps holds: a client, the retry policy and the deadline.

    Attributes:
        client: the client every request goes through.
        retry: how transient failures are retried.
        deadline: seconds each request may take (for a subscription: its confirmation).
    """

    __slots__ = ("client", "deadline", "retry")

    def __init__(self, client: C, retry: RetryPolicy, deadline: float) -> None:
        self.client = client
        self.retry = retry
        self.deadline = deadline


#: A generator of requests that returns `T`: what a driver runs.
Steps = Generator[Request, Any, T]


class Run(Generic[T]):
    """One run of `steps` by a driver: the request to execute next, retries and the result.

    A driver executes `request` while `pending`, and reports each outcome: `answered` with
    the client's answer, or `failed` with its error, which says how long to wait before
    executing the (same, or next) request. Every request is safe to repeat (fixed event ids,
    expected revisions), so a transient failure is retried; any other failure is translated
    (`_errors`) and thrown into the steps, which may clean up and let it out.
    """

    __slots__ = ("_policy", "_steps", "_tries", "request", "result")

    def __init__(self, steps: Steps[T], policy: RetryPolicy) -> None:
        self._steps, self._policy, self._tries = steps, policy, 1
        self.request: Request | None = None
        self.result: T | None = None
        self._advance(steps.send, None)

    @property
    def pending(self) -> bool:
        """Whether `request` waits to be executed."""
        return self.request is not None

    def answered(self, reply: Any) -> None:
        """The client answered `request` with `reply`."""
        self._tries = 1
        self._advance(self._steps.send, reply)

    def failed(self, error: Exception) -> float:
        """`request` failed with `error`; seconds to wait before executing `request`."""
        assert self.request is not None
        what = operation_or(self.request.what)
        try:
            delay = retry_after(error, self._tries, what, self._policy)
        except EventStoreException as translated:
            self._tries = 1
            self._advance(self._steps.throw, translated)
            return 0.0
        self._tries += 1
        return delay

    def _advance(self, step: Callable[[Any], Request], value: Any) -> None:
        try:
            self.request = step(value)
        except StopIteration as done:
            self.request, self.result = None, done.value


def pause(seconds: float) -> Steps[None]:
    """Wait `seconds` (a backoff between lost races), without blocking an event loop."""
    if seconds > 0:
        yield Request("", "waiting", pause=seconds)


def read(
    stream: str, *, position: int | None = None, backwards: bool = False, limit: int = sys.maxsize
) -> Steps[tuple[RecordedEvent, ...]]:
    """Records of `stream` from revision `position` (inclusive); () if it does not exist."""
    answer: tuple[RecordedEvent, ...] = yield Request(
        "get_stream",
        f"reading stream {stream!r}",
        {
            "stream_name": stream,
            "stream_position": position,
            "backwards": backwards,
            "limit": limit,
        },
        answers=(NotFoundError,),
        answer=(),
        finish=tuple,
    )
    return answer


def last(stream: str, count: int = 1) -> Steps[tuple[RecordedEvent, ...]]:
    """The newest `count` records of `stream`, newest first."""
    return (yield from read(stream, backwards=True, limit=count))


def read_all_of_streams(include: str) -> Steps[tuple[RecordedEvent, ...]]:
    """Every record of `$all` whose whole stream name matches the regex `include`."""
    answer: tuple[RecordedEvent, ...] = yield Request(
        "read_all",
        f"reading $all for streams {include!r}",
        {"filter_include": (include,), "filter_by_stream_name": True},
        finish=tuple,
    )
    return answer


def read_log_back(stream: str, before: int, limit: int) -> Steps[tuple[RecordedEvent, ...]]:
    """The newest `limit` records of `stream` in `$all` below commit position `before`
    (excluded: KurrentDB's rule backwards), newest first; a soft delete hides none of them.
    """
    answer: tuple[RecordedEvent, ...] = yield Request(
        "read_all",
        f"reading $all for stream {stream!r}",
        {
            "commit_position": before,
            "backwards": True,
            "filter_include": (re.escape(stream),),
            "filter_by_stream_name": True,
            "limit": limit,
        },
        finish=tuple,
    )
    return answer


def append(stream: str, expected: Expected, events: Sequence[NewEvent]) -> Steps[int | None]:
    """Append atomically; the commit position of the last event, None on a version conflict.

    Always a list, so `kurrentdbclient` uses BatchAppend, which reports every failure
    (a tombstoned stream included) with its proper exception.
    """
    answer: int | None = yield Request(
        "append_to_stream",
        f"appending to stream {stream!r}",
        {"stream_name": stream, "events": list(events), "current_version": expected},
        answers=(WrongCurrentVersionError,),
    )
    return answer


def _done(_: object) -> bool:
    return True


def delete(stream: str, expected: Expected) -> Steps[bool]:
    """Soft-delete `stream`; False if it has no events or a version conflict stopped it."""
    answer: bool = yield Request(
        "delete_stream",
        f"deleting stream {stream!r}",
        {"stream_name": stream, "current_version": expected},
        answers=(WrongCurrentVersionError, NotFoundError),
        answer=False,
        finish=_done,
    )
    return answer


def metadata(stream: str) -> Steps[tuple[dict[str, Any], Expected]]:
    """The stream's metadata and the metadata's own revision."""
    answer: tuple[dict[str, Any], Expected] = yield Request(
        "get_stream_metadata",
        f"reading the metadata of stream {stream!r}",
        {"stream_name": stream},
    )
    return answer


def set_metadata(stream: str, metadata: dict[str, Any], expected: Expected) -> Steps[bool]:
    """Replace the stream's metadata; False on a version conflict."""
    answer: bool = yield Request(
        "set_stream_metadata",
        f"writing the metadata of stream {stream!r}",
        {"stream_name": stream, "metadata": metadata, "current_version": expected},
        answers=(WrongCurrentVersionError,),
        answer=False,
        finish=_done,
    )
    return answer


def commit_position() -> Steps[int]:
    """Commit position of the newest non-system event; 0 if there is none."""
    answer: int = yield Request("get_commit_position", "reading the commit position")
    return answer


def subscribe(after: int, include: str, *, by_stream_name: bool) -> Steps[Any]:
    """A catch-up subscription to `$all` after `after`, filtered server-side by `include`.

    Only its start is bounded by the deadline (`Request.streaming`). A server that stops
    answering later is noticed by the cursor's stall limit while it catches up, and after
    that by gRPC keep-alive (`KeepAliveInterval` / `KeepAliveTimeout` in the client's URI).
    """
    answer: Any = yield Request(
        "subscribe_to_all",
        "subscribing to $all",
        {
            "commit_position": after or None,
            "filter_include": (include,),
            "filter_by_stream_name": by_stream_name,
            "include_checkpoints": True,
            "include_caught_up": True,
        },
        streaming=True,
    )
    return answer
