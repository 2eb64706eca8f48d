"""The asyncio outbox relay and projector behind the sync API the kit's tests call.

`BlockingOutbox` is an `Outbox` whose every call is an `AsyncOutbox`'s, `BlockingProjector` a
`Projector` whose every call is an `AsyncProjector`'s, each run on the kit's event loop
(`EventLoopThread`): a kit test of the outbox or of projections run in asyncio mode has
exercised `AsyncOutbox`, `AsyncProjector` and the backend's asyncio outbox and checkpoint
ports. The publishers and handlers the tests pass are plain callables, called on the loop.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

from event_sourcery import AsyncOutbox, AsyncProjector, Backend, Outbox, Projector
from event_sourcery.interfaces import OutboxEntry

T = TypeVar("T")


class Runner(Protocol):
    """Runs a coroutine to its result (`EventLoopThread`)."""

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """`coroutine`'s result; its exception, raised here."""
        ...


class BlockingOutbox(Outbox):
    """An `Outbox` whose calls are `outbox`'s, run by `loop`."""

    __slots__ = ("_async", "_loop")

    def __init__(self, outbox: AsyncOutbox, loop: Runner) -> None:
        # No Outbox state: every method below delegates.
        self._async = outbox
        self._loop = loop

    def run(self, publisher: Any, limit: int = 100) -> int:
        return self._loop.run(self._async.run(publisher, limit))

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        return self._loop.run(self._async.dead_letters(limit))

    def counts(self) -> dict[str, int]:
        return self._loop.run(self._async.counts())

    def retry(self, *entry_ids: int) -> None:
        self._loop.run(self._async.retry(*entry_ids))

    def purge(self, *entry_ids: int) -> None:
        self._loop.run(self._async.purge(*entry_ids))


class BlockingProjector(Projector):
    """A `Projector` whose calls are `projector`'s, run by `loop`; `backend` is the kit's."""

    def __init__(self, projector: AsyncProjector, backend: Backend, loop: Runner) -> None:
        # No Projector state but the name: every method below delegates.
        self._async = projector
        self._kit_backend = backend
        self._loop = loop
        self.name = projector.name

    def run_once(self, limit: int = 500) -> int:
        return self._loop.run(self._async.run_once(limit))

    @property
    def backend(self) -> Backend:
        return self._kit_backend

    @property
    def position(self) -> int:
        return self._loop.run(self._async.position())

    def reset(self) -> None:
        self._loop.run(self._async.reset())
