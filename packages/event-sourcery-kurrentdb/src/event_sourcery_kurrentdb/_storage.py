"""`KurrentDBStorageStrategy`: `StreamSteps` run on a `KurrentDBClient` (see `_stream_steps`)."""

from __future__ import annotations

from collections.abc import Sequence

from event_sourcery import StreamId
from event_sourcery.interfaces import ExpectedVersion, RawEvent, StorageStrategy

from event_sourcery_kurrentdb._client import Connection
from event_sourcery_kurrentdb._stream_steps import OnStreams


class KurrentDBStorageStrategy(OnStreams[Connection], StorageStrategy):
    """`StorageStrategy` on KurrentDB: one KurrentDB stream per (tenant, category, uuid)."""

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
