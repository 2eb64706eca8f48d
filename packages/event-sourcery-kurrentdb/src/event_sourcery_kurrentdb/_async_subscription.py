"""Catch-up subscriptions to `$all` for the asyncio API: one task per cursor pumps the
subscription of `AsyncKurrentDBClient` into a bounded queue.

What is read, where the cursor stands and what a deleted stream hides are `Reading`'s
decisions, the sync cursor's own (see `_subscription`); only the waiting differs. Closing the
cursor (`aclose`, which the async subscriber runs when its task is cancelled) cancels the pump
and stops the subscription, which ends its gRPC call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from event_sourcery.interfaces import (
    AsyncLogCursor,
    AsyncSubscriptionStrategy,
    RecordedRaw,
    SubscriptionFilter,
)

from event_sourcery_kurrentdb._async_client import AsyncConnection
from event_sourcery_kurrentdb._subscription import BUFFER, Failed, Reading


class AsyncKurrentDBLogCursor(AsyncLogCursor):
    """A catch-up subscription read by a task into a bounded queue; subscribes at first use."""

    def __init__(
        self, connection: AsyncConnection, after: int, subscription_filter: SubscriptionFilter
    ) -> None:
        self._connection = connection
        self._reading = Reading(after, subscription_filter)
        self._buffer: asyncio.Queue[Any] = asyncio.Queue(maxsize=BUFFER)
        self._stash: deque[Any] = deque()
        self._subscription: Any = None
        self._pump_task: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        if self._pump_task is None:
            self._subscription = await self._connection.run(self._reading.subscribe())
            self._pump_task = asyncio.create_task(self._pump(self._subscription))

    async def _pump(self, subscription: Any) -> None:
        try:
            async for item in subscription:
                await self._buffer.put(item)
        except Exception as exc:
            await self._buffer.put(Failed(exc))

    async def _next(self, timeout: float) -> Any:
        """The next item (None if none came within `timeout`; 0: do not wait)."""
        if self._stash:
            return self._stash.popleft()
        if timeout == 0:
            with contextlib.suppress(asyncio.QueueEmpty):
                return self._buffer.get_nowait()
            return None
        try:
            return await asyncio.wait_for(self._buffer.get(), timeout)
        except TimeoutError:
            return None

    async def fetch(self, limit: int) -> list[RecordedRaw]:
        await self._start()
        found: list[tuple[RecordedRaw, int]] = []
        reading = self._reading
        while len(found) < limit and reading.take(await self._next(reading.patience), found):
            pass
        return await self._connection.run(reading.kept(found)) if found else []

    @property
    def position(self) -> int:
        return self._reading.position

    async def wait(self, timeout: float) -> None:
        await self._start()
        if self._stash:
            return
        item = await self._next(timeout)
        if item is not None:
            self._stash.append(item)

    async def aclose(self) -> None:
        task, self._pump_task = self._pump_task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        with contextlib.suppress(Exception):  # it may be broken already
            await self._subscription.stop()


class AsyncKurrentDBSubscriptionStrategy(AsyncSubscriptionStrategy):
    """`AsyncSubscriptionStrategy` over `$all`."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> AsyncLogCursor:
        return AsyncKurrentDBLogCursor(self._connection, after, subscription_filter)
