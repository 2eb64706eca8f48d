"""The transactional outbox: events to publish, written in the append's transaction."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from event_sourcery._recorded import Recorded, RecordedRaw
from event_sourcery.exceptions import InvalidInput

logger = logging.getLogger("event_sourcery.outbox")
logger.addHandler(logging.NullHandler())  # no last-resort output on stderr: docs/logging.md

#: How often an entry may fail before it becomes a dead letter.
DEFAULT_MAX_ATTEMPTS = 3
#: Longest error text kept with an entry.
_MAX_ERROR = 1000

Publisher = Callable[[Recorded], object]
Filterer = Callable[[Recorded], bool]
ErrorDescriber = Callable[[Exception], str]


def error_type(exc: Exception) -> str:
    """The default text kept for a failed publication: the exception's type, not its message.

    A publisher's exception message may quote the event (a broker's "cannot route {...}", a
    serializer's "bad value '4111-...'"). `last_error` is stored with the entry and shown to
    operators (the Django admin), and it is not encrypted, so a message would keep plaintext
    after the event's subject was shredded. The type says what failed; the event is one
    `dead_letters` call away.
    """
    kind = type(exc)
    name = kind.__qualname__
    return name if kind.__module__ == "builtins" else f"{kind.__module__}.{name}"


def describe(describer: ErrorDescriber, exc: Exception) -> str:
    """`describer`'s text for `exc`, at most 1,000 characters; the type if it fails.

    A describer that raises or returns something else must not lose the failure itself.
    """
    try:
        text = describer(exc)
    except Exception:
        logger.warning("the outbox's describe_error failed; keeping the error's type only")
        return error_type(exc)
    if not isinstance(text, str):
        return error_type(exc)
    return text[:_MAX_ERROR]


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An event waiting in the outbox.

    Attributes:
        id: the entry's id, for `retry` and `purge`.
        record: the event at its position.
        attempts: failed publications so far.
        last_error: the last failure, as `OutboxConfig.describe_error` put it (by default the
            exception's type only, never its message: see `error_type`).
    """

    id: int
    record: RecordedRaw
    attempts: int
    last_error: str | None


class OutboxStrategy(ABC):
    """The port a backend implements for the outbox (system-wide: all tenants).

    Store-wide on purpose: an outbox worker is an operator's process that serves the whole
    store, like a subscription, so `claim`, `dead_letters`, `reset_attempts` and `remove` see
    every tenant's entries whatever the tenant of the backend they were reached through.
    """

    @abstractmethod
    def put(self, records: Sequence[RecordedRaw]) -> None:
        """Add entries for `records`, in the same transaction as the append that made them."""

    @abstractmethod
    def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        """Up to `limit` entries with fewer than `max_attempts` failures, oldest first.

        Entries claimed by another worker whose transaction is still open are skipped, never
        returned twice at the same time (`FOR UPDATE SKIP LOCKED` where the database has it).
        """

    @abstractmethod
    def published(self, entry: OutboxEntry) -> None:
        """Remove an entry after its publication succeeded."""

    @abstractmethod
    def failed(self, entry: OutboxEntry, error: str) -> None:
        """Count a failed publication of `entry`, keeping it."""

    def release(self, entries: Sequence[OutboxEntry]) -> None:  # noqa: B027 - optional hook
        """Give up claimed entries that were not processed (a run was interrupted).

        Transactional backends need nothing here: the transaction's end releases them.
        """

    @abstractmethod
    def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        """Entries that failed `max_attempts` times or more, oldest first."""

    @abstractmethod
    def counts(self, max_attempts: int) -> tuple[int, int]:
        """``(pending, dead)``: entries with fewer than `max_attempts` failures, and the others.

        For operators (`event-sourcery outbox status`); entries claimed by a running worker
        count as pending.
        """

    @abstractmethod
    def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        """Give these entries a fresh set of attempts."""

    @abstractmethod
    def remove(self, entry_ids: Sequence[int]) -> None:
        """Delete these entries without publishing them."""


@dataclass(frozen=True, slots=True)
class OutboxConfig:
    """Which events enter the outbox, how often publication is tried, what a failure keeps.

    Attributes:
        filterer: which events enter the outbox (default: all).
        max_attempts: failures before an entry is a dead letter.
        describe_error: the text kept as `last_error` for a publisher's exception, cut to
            1,000 characters (default `error_type`: the type only, never the message).
    """

    filterer: Filterer | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    describe_error: ErrorDescriber = error_type

    def __post_init__(self) -> None:
        if self.filterer is not None and not callable(self.filterer):
            raise InvalidInput("filterer must be a callable taking a Recorded")
        if not callable(self.describe_error):
            raise InvalidInput("describe_error must be a callable taking an Exception")
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise InvalidInput(f"max_attempts must be an int, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise InvalidInput(f"max_attempts must be at least 1, got {self.max_attempts}")
