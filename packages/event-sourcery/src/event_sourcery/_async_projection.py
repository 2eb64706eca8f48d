"""`AsyncProjector`: `Projector` for an asyncio backend, with the same rules (`project`)."""

from __future__ import annotations

from event_sourcery._async_backend import AsyncBackend
from event_sourcery._async_ports import AsyncLogCursor
from event_sourcery._projection import ProjectorBase
from event_sourcery._reacting import (
    Fetch,
    Hand,
    Load,
    Open,
    ProjectStep,
    Save,
    awaited,
    run_steps_async,
)


class AsyncProjector(ProjectorBase[AsyncBackend]):
    """Applies new events of the global log to a read model, exactly once, with `await`.

    `Projector`'s contract: each `run_once` works in the backend's current transaction (or
    in the block `AsyncBackend._unit_of_work` opens, on a backend that needs one), the
    handler's read-model writes and the new checkpoint commit together or not at all. The
    handler (and `on_reset`) may be coroutine functions, awaited in that transaction.

    Args:
        backend: the asyncio backend where events and the checkpoint live.
        name: the checkpoint's name; one per projection.
        handler: applies one event to the read model (in the same transaction).
        categories: only events of these categories (default: all).
        events: only events of these classes (default: all).
        on_reset: clears the read model; `reset` awaits it in the same transaction.
    """

    async def run_once(self, limit: int = 500) -> int:
        """Apply up to `limit` new events; return how many were applied.

        0 means nothing is deliverable now: caught up, or waiting behind a transaction still
        open at a gap of the global log (see `LogCursor.fetch`); a worker calls it again
        later, and nothing is skipped.
        """
        async with self._backend._unit_of_work(f"projecting {self.name!r}"):
            return await self._run_once(limit)

    async def _run_once(self, limit: int) -> int:
        checkpoints = self._backend._checkpoint_strategy()
        subscriptions = self._backend._subscription_strategy()
        cursors: list[AsyncLogCursor] = []

        async def do(step: ProjectStep) -> object:
            if isinstance(step, Load):
                return await checkpoints.load(step.name)
            if isinstance(step, Fetch):
                return await cursors[0].fetch(step.limit), cursors[0].position
            if isinstance(step, Open):
                cursors.append(subscriptions.open(step.position, self._filter))
            elif isinstance(step, Hand):
                await awaited(self._handler(step.recorded))
            elif isinstance(step, Save):
                await checkpoints.save(step.name, step.position)
            else:
                await cursors[0].aclose()
            return None

        return await run_steps_async(self._steps(limit), do)

    async def position(self) -> int:
        """The checkpoint: every event up to it was applied (locks it for this transaction)."""
        async with self._backend._unit_of_work(f"loading checkpoint {self.name!r}"):
            return await self._backend._checkpoint_strategy().load(self.name)

    async def reset(self) -> None:
        """Start over from position 0, awaiting `on_reset` to clear the read model; all in
        the backend's current transaction (see `Projector.reset`)."""
        checkpoints = self._backend._checkpoint_strategy()
        async with self._backend._unit_of_work(f"resetting projection {self.name!r}"):
            await checkpoints.load(self.name)
            if self._on_reset is not None:
                await awaited(self._on_reset())
            await checkpoints.save(self.name, 0)
