"""`AsyncRepository`: the same aggregates as `Repository`, loaded and saved with `await`.

Aggregates stay pure (no I/O); loading (`fold`), the checks and the snapshot rule are the
functions `Repository` uses, so the two repositories cannot disagree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from event_sourcery._aggregate import (
    RepositoryBase,
    TAggregate,
    WrappedAggregate,
    fold,
    snapshot_due,
)
from event_sourcery._async_event_store import AsyncEventStore
from event_sourcery._event import Context
from event_sourcery._stream_id import StreamUUID


class AsyncRepository(RepositoryBase[TAggregate, AsyncEventStore]):
    """Loads aggregates from an `AsyncEventStore` and saves their new events atomically.

    Takes `Repository`'s arguments, with an `AsyncEventStore` as `event_store`.
    """

    @asynccontextmanager
    async def aggregate(
        self, uuid: StreamUUID | UUID, aggregate: TAggregate, *, context: Context | None = None
    ) -> AsyncIterator[WrappedAggregate[TAggregate]]:
        """`async with`: load, yield, and save new events on a clean exit.

        The contract of `Repository.aggregate`: a concurrent change raises
        `ConcurrentStreamWriteError` and nothing is saved; nor is anything on an exception
        inside the block (or a cancellation).
        """
        stream_id = self._stream_of(uuid, aggregate)
        wrapped = fold(aggregate, stream_id, await self._store.load_stream(stream_id))
        yield wrapped
        await self._save(wrapped, context)

    async def _save(self, wrapped: WrappedAggregate[Any], context: Context | None) -> None:
        pending = self._pending(wrapped, context)
        if not pending:
            return
        await self._store.append(
            *pending, stream_id=wrapped.stream_id, expected_version=wrapped.stored_version
        )
        snapshot = snapshot_due(wrapped, len(pending), self._snapshot_every)
        if snapshot is not None:
            await self._store.save_snapshot(wrapped.stream_id, snapshot)
        wrapped.stored_version += len(pending)
