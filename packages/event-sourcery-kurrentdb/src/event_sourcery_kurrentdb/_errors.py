"""The one place where `kurrentdbclient` errors become Event Sourcery errors.

```
kurrentdbclient error                         what the user sees
ServiceUnavailableError, DeadlineExceeded...  retried with bounded backoff, then StorageError
SSLError                                      StorageError at once (retrying cannot fix trust)
WrongCurrentVersionError                      what the caller's `conflict` makes of it
                                              (ConcurrentStreamWriteError), else StorageError
StreamIsDeletedError, StreamTombstonedError   StorageError: hard-deleted outside Event Sourcery
AccessDeniedError, UnauthenticatedError       StorageError naming the streams the user needs
MaximumAppendSizeExceededError, record size   InvalidInput: split the append
InvalidCommitPositionError                    InvalidInput: not a position of this store
any other client or gRPC error                StorageError
```

Retrying is safe because every append carries fixed event ids and an expected revision (or is
idempotent by id): KurrentDB recognises a repeated append and stores nothing twice.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
from collections.abc import Callable, Generator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from event_sourcery.exceptions import EventStoreException, InvalidInput, StorageError
from event_sourcery.interfaces import describe_driver_error
from kurrentdbclient.exceptions import (
    AccessDeniedError,
    DeadlineExceededError,
    DiscoveryFailedError,
    InvalidCommitPositionError,
    KurrentDBClientError,
    MaximumAppendSizeExceededError,
    NodeIsNotLeaderError,
    RecordMaxSizeExceededError,
    ServiceUnavailableError,
    SSLError,
    StreamIsDeletedError,
    StreamTombstonedError,
    UnauthenticatedError,
    WrongCurrentVersionError,
)

logger = logging.getLogger("event_sourcery_kurrentdb")
# A library adds no handler but this one: without it, Python's last-resort handler would print
# the retry warnings on stderr of an application that has not configured logging.
logger.addHandler(logging.NullHandler())

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")

#: What the user asked for ("appending to stream StreamId(...)"), named in errors and retry
#: warnings instead of the request that failed, which may be a read of an internal es$ stream.
_OPERATION: ContextVar[str | None] = ContextVar("event_sourcery_kurrentdb_op", default=None)


def user_operation(
    describe: Callable[Concatenate[S, P], str],
) -> Callable[[Callable[Concatenate[S, P], T]], Callable[Concatenate[S, P], T]]:
    """Decorate a strategy method: errors and retry warnings inside it name `describe(...)`.

    `describe` takes the method's arguments. The outermost operation wins: an append that
    writes outbox entries or reads a key is still "appending to stream ...". A generator
    method (steps that a sync or an asyncio driver runs) names its operation while it runs.
    """

    def decorate(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
        if inspect.isgeneratorfunction(method):
            return functools.wraps(method)(_named_steps(describe, method))

        @functools.wraps(method)
        def named(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            if _OPERATION.get() is not None:
                return method(self, *args, **kwargs)
            token = _OPERATION.set(describe(self, *args, **kwargs))
            try:
                return method(self, *args, **kwargs)
            finally:
                _OPERATION.reset(token)

        return named

    return decorate


def _named_steps(describe: Callable[..., str], method: Callable[..., Any]) -> Callable[..., Any]:
    def named(self: object, /, *args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        if _OPERATION.get() is not None:
            return (yield from method(self, *args, **kwargs))
        token = _OPERATION.set(describe(self, *args, **kwargs))
        try:
            return (yield from method(self, *args, **kwargs))
        finally:
            # A driver closes its steps where it runs them, so the context is still this one.
            _OPERATION.reset(token)

    return named


_TRANSIENT = (
    ServiceUnavailableError,
    DeadlineExceededError,
    NodeIsNotLeaderError,
    DiscoveryFailedError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a call that failed for a transient reason (server unavailable, deadline
    exceeded, leader changing) is tried again, on top of `kurrentdbclient`'s own single retry.

    Attributes:
        attempts: tries in all, at least 1.
        backoff: seconds before the second try; doubled before each further one (with jitter).
        max_backoff: the longest wait between two tries.
    """

    attempts: int = 3
    backoff: float = 0.2
    max_backoff: float = 2.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise InvalidInput(f"attempts must be an int, got {self.attempts!r}")
        if self.attempts < 1 or self.backoff < 0 or self.max_backoff < 0:
            raise InvalidInput("attempts must be at least 1, backoff times not negative")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        longest = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return float(longest * random.uniform(0.5, 1.0))


def translate(exc: Exception, what: str) -> EventStoreException:
    """The Event Sourcery error for `exc`, raised while `what`."""
    if isinstance(exc, SSLError):
        return StorageError(
            f"TLS failed while {what}: check the server certificate and the client's "
            f"root_certificates / TlsCaFile ({exc})"
        )
    # Only the class of the client's error, not its text, from here on: a server's message may
    # quote what it refused (the TLS handshake above comes before any event is sent).
    detail = describe_driver_error(exc)
    if isinstance(exc, _TRANSIENT):
        return StorageError(f"KurrentDB is unavailable while {what}: {detail}")
    if isinstance(exc, StreamIsDeletedError | StreamTombstonedError):
        return StorageError(
            f"a stream was tombstoned (hard-deleted) outside Event Sourcery while {what}; "
            "KurrentDB never lets its name be used again"
        )
    if isinstance(exc, AccessDeniedError | UnauthenticatedError):
        return StorageError(
            f"KurrentDB denied access while {what}: the user needs read, write and delete "
            "rights on the application's streams and on the backend's own es$... streams"
        )
    if isinstance(exc, MaximumAppendSizeExceededError | RecordMaxSizeExceededError):
        return InvalidInput(
            f"the events are too large for one KurrentDB append while {what}; append them in "
            "several smaller calls or raise the server's MaxAppendSize"
        )
    if isinstance(exc, InvalidCommitPositionError):
        return InvalidInput(
            f"not a position of this KurrentDB store while {what}: start from 0, "
            "event_store.position or a Recorded.position"
        )
    if isinstance(exc, WrongCurrentVersionError):
        return StorageError(f"unexpected stream version while {what}: {detail}")
    if isinstance(exc, KurrentDBClientError):
        return StorageError(f"KurrentDB failed while {what}: {detail}")
    return StorageError(f"the KurrentDB client failed while {what}: {detail}")


def _is_closed_client(exc: Exception) -> bool:
    return isinstance(exc, ValueError) and "closed channel" in str(exc)


def operation_or(what: str) -> str:
    """The user operation running now (see `user_operation`), else `what`."""
    return _OPERATION.get() or what


def retry_after(exc: Exception, attempt: int, what: str, policy: RetryPolicy) -> float:
    """Seconds to wait before trying again what failed with `exc` on try number `attempt`.

    Raises:
        EventStoreException: `exc` translated (or as it is, if it is one), when it is not
            transient or the tries are used up.
    """
    if isinstance(exc, EventStoreException):
        raise exc
    transient = isinstance(exc, _TRANSIENT) and not isinstance(exc, SSLError)
    if not transient or attempt >= policy.attempts:
        if _is_closed_client(exc):
            raise StorageError(f"the KurrentDB client is closed ({what})") from exc
        raise translate(exc, what) from exc
    delay = policy.delay(attempt)
    logger.warning(
        "KurrentDB %s while %s; try %s of %s in %.2f s",
        type(exc).__name__,
        what,
        attempt + 1,
        policy.attempts,
        delay,
    )
    return delay
