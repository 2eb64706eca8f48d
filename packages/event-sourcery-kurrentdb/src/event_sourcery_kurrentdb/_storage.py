"""`KurrentDBStorageStrategy`: `StreamSteps` run on a `KurrentDBClient` (see `_stream_steps`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from event_sourcery import StreamId
from event_sourcery.interfaces import ExpectedVersion, RawEvent, StorageStrategy

from event_sourcery_kurrentdb._client import Connection
from event_sourcery_kurrentdb._stream_steps import StreamSteps


class KurrentDBStorageStrategy(StorageStrategy):
    """`StorageStrategy` on KurrentDB: one KurrentDB stream per (tenant, category, uuid)."""

    def __init__(self, connection: Connection, tenant_id: str | None = None) -> None:
        self._connection = connection
        self._steps = StreamSteps(tenant_id)
        self.tenant_id = tenant_id

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self._connection, tenant_id)

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        return self._connection.run(self._steps.fetch_events(stream_id, start, stop))

    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        return self._connection.run(self._steps.insert_events(stream_id, expected, events))

    def save_snapshot(self, snapshot: RawEvent) -> None:
        self._connection.run(self._steps.save_snapshot(snapshot))

    def delete_stream(self, stream_id: StreamId) -> None:
        self._connection.run(self._steps.delete_stream(stream_id))

    def current_position(self) -> int:
        return self._connection.run(self._steps.current_position())
