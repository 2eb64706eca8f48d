"""The transactional outbox: events to publish, written in the append's transaction."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from event_sourcery._encryption import Encryption
from event_sourcery._recorded import Recorded, RecordedRaw
from event_sourcery._registry import EventRegistry
from event_sourcery._tracing import NO_INSTRUMENTATION, Instrumentation, caused_by
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


def _check_ids(entry_ids: Sequence[Any]) -> list[int]:
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in entry_ids):
        raise InvalidInput(f"outbox entry ids are ints, got {list(entry_ids)!r}")
    return list(entry_ids)


class Outbox:
    """Publishes outbox entries: at least once, never silently dropped.

    `run` works in the backend's current transaction (commit it afterwards, as with any
    write). A worker that dies mid-run leaves its entries for the next run.
    """

    __slots__ = ("_config", "_encryption", "_instrumentation", "_registry", "_strategy")

    def __init__(
        self,
        strategy: OutboxStrategy,
        config: OutboxConfig,
        registry: EventRegistry,
        encryption: Encryption | None = None,
        instrumentation: Instrumentation = NO_INSTRUMENTATION,
    ) -> None:
        self._instrumentation = instrumentation
        self._strategy = strategy
        self._config = config
        self._registry = registry
        self._encryption = encryption

    def run(self, publisher: Publisher, limit: int = 100) -> int:
        """Hand up to `limit` entries to `publisher`; return how many were published.

        A publisher that raises leaves the entry in the outbox with one more failed attempt;
        after `max_attempts` failures the entry is a dead letter (see `dead_letters`).
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"limit must be a positive int, got {limit!r}")
        published = 0
        entries = self._strategy.claim(limit, self._config.max_attempts)
        done = 0
        try:
            for entry in entries:
                if self._publish(publisher, entry):
                    published += 1
                done += 1
        finally:
            if done < len(entries):
                self._strategy.release(entries[done:])
        return published

    def _publish(self, publisher: Publisher, entry: OutboxEntry) -> bool:
        try:
            recorded = Recorded.of(entry.record, self._registry, self._encryption)
            carrier = recorded.wrapped_event.context.model_extra or {}
            with (
                self._instrumentation.handling(
                    carrier.get("trace") or {}, "event_sourcery.publish"
                ),
                caused_by(recorded.wrapped_event),
            ):
                publisher(recorded)
        except Exception as exc:
            # The type only: exception texts may carry event data, which stays out of logs.
            logger.warning(
                "publishing outbox entry %s (position %s) failed: %s",
                entry.id,
                entry.record.position,
                type(exc).__name__,
            )
            self._strategy.failed(entry, describe(self._config.describe_error, exc))
            return False
        self._strategy.published(entry)
        return True

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        """Entries whose publication failed `max_attempts` times, oldest first."""
        return self._strategy.dead_letters(self._config.max_attempts, limit)

    def counts(self) -> dict[str, int]:
        """How many entries wait: ``{"pending": ..., "dead_letters": ...}`` (every tenant)."""
        pending, dead = self._strategy.counts(self._config.max_attempts)
        return {"pending": pending, "dead_letters": dead}

    def retry(self, *entry_ids: int) -> None:
        """Give these dead letters (or any entries) a fresh set of attempts."""
        self._strategy.reset_attempts(_check_ids(entry_ids))

    def purge(self, *entry_ids: int) -> None:
        """Remove these entries for good, without publishing them."""
        self._strategy.remove(_check_ids(entry_ids))
