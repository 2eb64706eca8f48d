"""Subscriptions as async iterators: `async for recorded in subscriber.build_iter(1.0)`.

The builder is `Subscriber`'s (`SubscriberBase`) and the reads are `_log_reading`'s; only the
driver here awaits the cursor. Cancelling the task that iterates closes the cursor (its
`aclose` runs in the generator's `finally`), giving back its connection.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, Iterable

from event_sourcery._async_encryption import keys_for_reading
from event_sourcery._async_ports import AsyncLogCursor, AsyncSubscriptionStrategy
from event_sourcery._encryption import Encryption
from event_sourcery._event import TEvent
from event_sourcery._log_reading import Fetch, Steps, next_batch, next_records
from event_sourcery._recorded import Recorded, RecordedRaw
from event_sourcery._subscription import (
    READ_AHEAD,
    SubscriberBase,
    TOther,
    check_size,
    check_timelimit,
)


async def read_async(cursor: AsyncLogCursor, steps: Steps) -> list[RecordedRaw]:
    """Run a read of `_log_reading` on an async cursor; what it returns."""
    reply: list[RecordedRaw] | None = None
    try:
        while True:
            step = steps.send(reply)
            if isinstance(step, Fetch):
                reply = await cursor.fetch(step.limit)
            else:
                reply = None
                await cursor.wait(step.timeout)
    except StopIteration as done:
        records: list[RecordedRaw] = done.value
        return records


class AsyncSubscriber(SubscriberBase[TEvent]):
    """Builds subscriptions iterated with `async for`; the builder methods of `Subscriber`.

    `build_iter`, `build_batch` and `build_raw_batch` return async generators with the
    contracts of `Subscriber`'s namesakes; `aclose()` one (or cancel the task iterating it,
    or use `contextlib.aclosing`) to give back what its cursor holds.
    """

    __slots__ = ()

    _strategy: AsyncSubscriptionStrategy

    def to_events(self, event_types: Iterable[type[TOther]]) -> AsyncSubscriber[TOther]:
        """Deliver only events of these classes, typed with them (see `Subscriber.to_events`)."""
        return self._with_events(event_types)  # type: ignore[no-any-return]

    def build_iter(self, timelimit: float) -> AsyncGenerator[Recorded[TEvent] | None, None]:
        """The next `Recorded` as soon as it is committed, or None when nothing came within
        `timelimit` seconds (at least 0.1); endless."""
        return self._iterate(check_timelimit(timelimit))

    def build_batch(self, size: int, timelimit: float) -> AsyncGenerator[list[Recorded[TEvent]]]:
        """Lists of up to `size` records (see `Subscriber.build_batch`); endless."""
        limit = check_timelimit(timelimit)
        return self._batches(check_size(size), limit)

    def build_raw_batch(self, size: int, timelimit: float) -> AsyncGenerator[list[RecordedRaw]]:
        """Like `build_batch`, but the stored form (see `Subscriber.build_raw_batch`)."""
        limit = check_timelimit(timelimit)
        return self._raw_batches(check_size(size), limit)

    async def _raw_batches(self, size: int, timelimit: float) -> AsyncGenerator[list[RecordedRaw]]:
        cursor = self._strategy.open(self._position, self._filter)
        try:
            while True:
                yield await read_async(cursor, next_batch(size, timelimit))
        finally:
            await cursor.aclose()

    async def _batches(self, size: int, timelimit: float) -> AsyncGenerator[list[Recorded[TEvent]]]:
        cursor = self._strategy.open(self._position, self._filter)
        try:
            while True:
                records = await read_async(cursor, next_batch(size, timelimit))
                yield self._all(records, await self._keys_for(records))
        finally:
            await cursor.aclose()

    async def _iterate(self, timelimit: float) -> AsyncGenerator[Recorded[TEvent] | None]:
        cursor = self._strategy.open(self._position, self._filter)
        buffer: deque[RecordedRaw] = deque()
        encryption = self._encryption
        try:
            while True:
                if not buffer:
                    buffer.extend(await read_async(cursor, next_records(READ_AHEAD, timelimit)))
                    if not buffer:
                        yield None
                        continue
                    encryption = await self._keys_for(buffer)
                yield self._one(buffer.popleft(), encryption)
        finally:
            await cursor.aclose()

    async def _keys_for(self, records: Iterable[RecordedRaw]) -> Encryption | None:
        """The encryption to decode `records` with, over the keys they need (awaited)."""
        stored = ((record.raw, record.tenant_id) for record in records)
        return await keys_for_reading(self._encryption, stored)
