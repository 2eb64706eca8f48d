"""The sync driver of `_steps`: every request through `KurrentDBClient`, with retries.

Every request carries the connection's deadline. `kurrentdbclient` applies its `DefaultDeadline`
to writes only, so without ours a read (and every append reads the stream's head first) waits
for good on a server that stopped answering, and neither the retry nor `StorageError` follows.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from event_sourcery.exceptions import InvalidInput
from kurrentdbclient import AsyncKurrentDBClient, KurrentDBClient, NewEvent, RecordedEvent
from kurrentdbclient.common import AbstractCatchupSubscription
from kurrentdbclient.exceptions import DeadlineExceededError

from event_sourcery_kurrentdb import _steps as steps
from event_sourcery_kurrentdb._steps import Driver, Request, Run, Steps
from event_sourcery_kurrentdb._steps import Expected as Expected

T = TypeVar("T")

#: Seconds a request may take when neither the backend nor the client's URI names a deadline:
#: KurrentDB's own clients default to 10 s.
DEFAULT_DEADLINE = 10.0


def resolve_deadline(
    client: KurrentDBClient | AsyncKurrentDBClient, deadline: float | None
) -> float:
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


class Connection(Driver[KurrentDBClient]):
    """A `KurrentDBClient` with this backend's retry policy and deadline; shared by every strategy.

    It runs the steps of `_steps` (`run`); its other methods run one request each, for the
    strategies that only the sync API has (outbox, checkpoints).
    """

    __slots__ = ()

    def run(self, steps: Steps[T]) -> T:
        """Run `steps` (see `_steps`) to their end; what they return."""
        with contextlib.closing(steps):
            run = Run(steps, self.retry)
            while run.request is not None:
                try:
                    reply = self._execute(run.request)
                except Exception as exc:
                    time.sleep(run.failed(exc))
                else:
                    run.answered(reply)
        return cast(T, run.result)

    def _execute(self, request: Request) -> Any:
        method = getattr(self.client, request.method)
        try:
            if request.streaming:
                return _confirmed_within(self.deadline, lambda: method(**request.kwargs))
            return request.finish(method(**request.kwargs, timeout=self.deadline))
        except request.answers:
            return request.answer

    def read(
        self,
        stream: str,
        *,
        position: int | None = None,
        backwards: bool = False,
        limit: int = sys.maxsize,
    ) -> tuple[RecordedEvent, ...]:
        """`_steps.read`."""
        return self.run(steps.read(stream, position=position, backwards=backwards, limit=limit))

    def read_all_of_streams(self, include: str) -> tuple[RecordedEvent, ...]:
        """`_steps.read_all_of_streams`."""
        return self.run(steps.read_all_of_streams(include))

    def last(self, stream: str, count: int = 1) -> tuple[RecordedEvent, ...]:
        """`_steps.last`."""
        return self.run(steps.last(stream, count))

    def append(self, stream: str, expected: Expected, events: Sequence[NewEvent]) -> int | None:
        """`_steps.append`."""
        return self.run(steps.append(stream, expected, events))

    def metadata(self, stream: str) -> tuple[dict[str, Any], Expected]:
        """`_steps.metadata`."""
        return self.run(steps.metadata(stream))

    def set_metadata(self, stream: str, metadata: dict[str, Any], expected: Expected) -> bool:
        """`_steps.set_metadata`."""
        return self.run(steps.set_metadata(stream, metadata, expected))

    def subscribe(
        self, after: int, include: str, *, by_stream_name: bool
    ) -> AbstractCatchupSubscription:
        """`_steps.subscribe` (its start bounded as `_confirmed_within` says)."""
        subscription: AbstractCatchupSubscription = self.run(
            steps.subscribe(after, include, by_stream_name=by_stream_name)
        )
        return subscription
