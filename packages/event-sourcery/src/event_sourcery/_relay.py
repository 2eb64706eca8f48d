"""The outbox relay, sync (`Outbox`) and asyncio (`AsyncOutbox`): one set of rules (`relay`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from event_sourcery._async_ports import AsyncOutboxStrategy
from event_sourcery._encryption import Encryption
from event_sourcery._outbox import OutboxConfig, OutboxEntry, OutboxStrategy, Publisher
from event_sourcery._reacting import (
    Claim,
    Decoding,
    Failed,
    Hand,
    Published,
    RelayStep,
    awaited,
    relay,
    run_steps,
    run_steps_async,
)
from event_sourcery._registry import EventRegistry
from event_sourcery._tracing import NO_INSTRUMENTATION, Instrumentation
from event_sourcery.exceptions import InvalidInput


def _check_ids(entry_ids: Sequence[Any]) -> list[int]:
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in entry_ids):
        raise InvalidInput(f"outbox entry ids are ints, got {list(entry_ids)!r}")
    return list(entry_ids)


TStrategy = TypeVar("TStrategy")


class _OutboxBase(Generic[TStrategy]):
    """What both relays hold: the outbox port, the configuration and how entries become
    `Recorded`s."""

    __slots__ = ("_config", "_decoding", "_strategy")

    def __init__(
        self,
        strategy: TStrategy,
        config: OutboxConfig,
        registry: EventRegistry,
        encryption: Encryption | None = None,
        instrumentation: Instrumentation = NO_INSTRUMENTATION,
    ) -> None:
        self._strategy = strategy
        self._config = config
        self._decoding = Decoding(registry, encryption, instrumentation)


class Outbox(_OutboxBase[OutboxStrategy]):
    """Publishes outbox entries: at least once, never silently dropped.

    `run` works in the backend's current transaction (commit it afterwards, as with any
    write). A worker that dies mid-run leaves its entries for the next run.
    """

    __slots__ = ()

    def run(self, publisher: Publisher, limit: int = 100) -> int:
        """Hand up to `limit` entries to `publisher`; return how many were published.

        A publisher that raises leaves the entry in the outbox with one more failed attempt;
        after `max_attempts` failures the entry is a dead letter (see `dead_letters`).
        """
        steps = relay(limit, self._config, self._decoding)
        return run_steps(steps, lambda step: self._do(step, publisher))

    def _do(self, step: RelayStep, publisher: Publisher) -> object:
        strategy = self._strategy
        if isinstance(step, Claim):
            return strategy.claim(step.limit, step.max_attempts)
        if isinstance(step, Hand):
            publisher(step.recorded)
        elif isinstance(step, Published):
            strategy.published(step.entry)
        elif isinstance(step, Failed):
            strategy.failed(step.entry, step.error)
        else:
            strategy.release(step.entries)
        return None

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


class AsyncOutbox(_OutboxBase[AsyncOutboxStrategy]):
    """`Outbox` for an asyncio backend: the same rules, each call awaited.

    The publisher may be a coroutine function (awaited) or a plain callable; get it from
    `AsyncBackend.outbox`.
    """

    __slots__ = ()

    async def run(self, publisher: Publisher, limit: int = 100) -> int:
        """Hand up to `limit` entries to `publisher`, awaiting it if it returns an awaitable;
        return how many were published (see `Outbox.run`)."""
        steps = relay(limit, self._config, self._decoding)
        return await run_steps_async(steps, lambda step: self._do(step, publisher))

    async def _do(self, step: RelayStep, publisher: Publisher) -> object:
        strategy = self._strategy
        if isinstance(step, Claim):
            return await strategy.claim(step.limit, step.max_attempts)
        if isinstance(step, Hand):
            await awaited(publisher(step.recorded))
        elif isinstance(step, Published):
            await strategy.published(step.entry)
        elif isinstance(step, Failed):
            await strategy.failed(step.entry, step.error)
        else:
            await strategy.release(step.entries)
        return None

    async def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        """Entries whose publication failed `max_attempts` times, oldest first."""
        return await self._strategy.dead_letters(self._config.max_attempts, limit)

    async def counts(self) -> dict[str, int]:
        """How many entries wait: ``{"pending": ..., "dead_letters": ...}`` (every tenant)."""
        pending, dead = await self._strategy.counts(self._config.max_attempts)
        return {"pending": pending, "dead_letters": dead}

    async def retry(self, *entry_ids: int) -> None:
        """Give these dead letters (or any entries) a fresh set of attempts."""
        await self._strategy.reset_attempts(_check_ids(entry_ids))

    async def purge(self, *entry_ids: int) -> None:
        """Remove these entries for good, without publishing them."""
        await self._strategy.remove(_check_ids(entry_ids))
