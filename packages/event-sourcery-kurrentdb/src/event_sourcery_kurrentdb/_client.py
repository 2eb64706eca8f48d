"""The sync driver of `_steps`: every request through `KurrentDBClient`, with retries.

Every request carries the connection's deadline. `kurrentdbclient` applies its `DefaultDeadline`
to writes only, so without ours a read (and every append reads the stream's head first) waits
for good on a server that stopped answering, and neither the retry nor `StorageError` follows.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from event_sourcery.exceptions import InvalidInput
from kurrentdbclient import AsyncKurrentDBClient, KurrentDBClient
from kurrentdbclient.common import AbstractCatchupSubscription
from kurrentdbclient.exceptions import DeadlineExceededError

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

    It runs the steps of `_steps` (`run`), as `AsyncConnection` awaits them.
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
        if request.pause:
            time.sleep(request.pause)
            return None
        method = getattr(self.client, request.method)
        try:
            if request.streaming:
                return _confirmed_within(self.deadline, lambda: method(**request.kwargs))
            return request.finish(method(**request.kwargs, timeout=self.deadline))
        except request.answers:
            return request.answer
