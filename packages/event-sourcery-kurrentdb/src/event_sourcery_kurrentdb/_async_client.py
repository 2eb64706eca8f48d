"""The asyncio driver of `_steps`: every request awaited on `AsyncKurrentDBClient`.

The same requests, retries, deadlines and error translation as `Connection`: only the call is
awaited, and a streamed answer (a read of `$all`) is read out before `Request.finish`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar, cast

from kurrentdbclient import AsyncKurrentDBClient
from kurrentdbclient.exceptions import DeadlineExceededError

from event_sourcery_kurrentdb._steps import Driver, Request, Run, Steps

T = TypeVar("T")


class AsyncConnection(Driver[AsyncKurrentDBClient]):
    """An `AsyncKurrentDBClient` (connected at the first request) with this backend's retry
    policy and deadline."""

    __slots__ = ()

    async def run(self, steps: Steps[T]) -> T:
        """Run `steps` (see `_steps`) to their end; what they return.

        Cancelled while it awaits a request, the steps are closed where they stopped: an
        append is atomic on the server, so it was stored whole or not at all.
        """
        with contextlib.closing(steps):
            run = Run(steps, self.retry)
            while run.request is not None:
                try:
                    reply = await self._execute(run.request)
                except Exception as exc:
                    await asyncio.sleep(run.failed(exc))
                else:
                    run.answered(reply)
        return cast(T, run.result)

    async def _execute(self, request: Request) -> Any:
        if request.pause:
            await asyncio.sleep(request.pause)
            return None
        await self.client.connect()
        method = getattr(self.client, request.method)
        try:
            if request.streaming:
                return await self._confirmed(method(**request.kwargs))
            result = await method(**request.kwargs, timeout=self.deadline)
            if hasattr(result, "__aiter__"):
                result = [item async for item in result]
            return request.finish(result)
        except request.answers:
            return request.answer

    async def _confirmed(self, subscribing: Any) -> Any:
        """The subscription, or `DeadlineExceededError` if the server has not confirmed it
        within the deadline (see `_client._confirmed_within`)."""
        try:
            return await asyncio.wait_for(subscribing, self.deadline)
        except TimeoutError as exc:
            raise DeadlineExceededError(
                f"no subscription confirmation within {self.deadline} s"
            ) from exc
