"""The in-memory backend: the reference implementation every other backend is compared to."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Self
from uuid import UUID

from event_sourcery import Backend, DuplicateEventId, EventRegistry, StreamId
from event_sourcery.encryption import InMemoryKeyStorage, KeyStorage
from event_sourcery.interfaces import (
    MISSING,
    NO_VERSIONING,
    VERSIONLESS,
    CheckpointStrategy,
    Configured,
    ExpectedVersion,
    LogCursor,
    OutboxEntry,
    OutboxStrategy,
    RawEvent,
    RecordedRaw,
    StorageStrategy,
    StreamState,
    SubscriptionFilter,
    SubscriptionStrategy,
    check_append,
    check_name,
    check_snapshot,
    is_repeat,
    snapshot_applies,
)

_Key = tuple[str | None, str | None, UUID]  # tenant, category, uuid


@dataclass
class _Stream:
    name: str | None
    version: int | None  # None: versionless
    events: list[tuple[int, RawEvent]] = field(default_factory=list)  # (position, event)
    snapshot: RawEvent | None = None


@dataclass
class InMemoryData:
    """Everything an in-memory store holds; share one between backends to share a store."""

    streams: dict[_Key, _Stream] = field(default_factory=dict)
    names: dict[tuple[str | None, str | None, str], UUID] = field(default_factory=dict)
    #: Every stored event id, by tenant: the SQL backends' unique (uuid, tenant) index.
    event_ids: set[tuple[str | None, UUID]] = field(default_factory=set)
    #: The global log: index = position - 1; None where an event was deleted.
    log: list[RecordedRaw | None] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    changed: threading.Condition = field(init=False)
    #: Outbox entries by id: [record, attempts, last error, claimed].
    outbox: dict[int, list[Any]] = field(default_factory=dict)
    next_outbox_id: int = 1
    checkpoints: dict[str, int] = field(default_factory=dict)
    keys: InMemoryKeyStorage = field(default_factory=InMemoryKeyStorage)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    @property
    def position(self) -> int:
        """The position of the last event ever stored: new events get higher ones."""
        return len(self.log)


class InMemoryStorageStrategy(StorageStrategy):
    """`StorageStrategy` over an `InMemoryData`; thread-safe, no transactions."""

    def __init__(self, data: InMemoryData, tenant_id: str | None = None) -> None:
        self._data = data
        self.tenant_id = tenant_id

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self._data, tenant_id)

    def _key(self, stream_id: StreamId) -> _Key:
        return (self.tenant_id, stream_id.category, stream_id.uuid)

    def _with_stored_name(self, raw: RawEvent, stream: _Stream) -> RawEvent:
        if raw.stream_id.name == stream.name:
            return raw
        stream_id = StreamId(raw.stream_id.uuid, name=stream.name, category=raw.stream_id.category)
        return raw.replace(stream_id=stream_id)

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        with self._data.lock:
            stream = self._data.streams.get(self._key(stream_id))
            if stream is None:
                return []
            result: list[RawEvent] = []
            lower = start
            snapshot = stream.snapshot
            if (
                snapshot is not None
                and snapshot.version is not None
                and snapshot_applies(snapshot.version, start, stop)
            ):
                result.append(snapshot)
                lower = snapshot.version + 1
            for _, raw in stream.events:
                version = raw.version
                if version is not None and (
                    (lower is not None and version < lower)
                    or (stop is not None and version >= stop)
                ):
                    continue
                result.append(raw)
            return [self._with_stored_name(raw, stream) for raw in result]

    def _state(self, stream: _Stream | None) -> StreamState:
        if stream is None:
            return MISSING
        return VERSIONLESS if stream.version is None else stream.version

    def _check_name(self, stream_id: StreamId, stream: _Stream | None) -> None:
        name = stream_id.name
        if name is None:
            return
        holder = self._data.names.get((self.tenant_id, stream_id.category, name))
        check_name(stream_id, stream.name if stream else None, holder)

    def _repeated(
        self, stream: _Stream | None, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int] | None:
        """Positions of `events` if they are stored right after `expected` already (a re-sent
        append, see the kit's `_idempotency`), else None."""
        if stream is None or stream.version is None or expected is NO_VERSIONING:
            return None
        stored = stream.events[expected : expected + len(events)]
        if expected >= stream.version or len(stored) != len(events):
            return None
        if not is_repeat([raw.uuid for _, raw in stored], [raw.uuid for raw in events]):
            return None
        return [position for position, _ in stored]

    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        data = self._data
        with data.lock:
            key = self._key(stream_id)
            stream = data.streams.get(key)
            repeated = self._repeated(stream, expected, events)
            if repeated is not None:
                return repeated
            check_append(stream_id, self._state(stream), expected)
            self._check_name(stream_id, stream)
            ids = [(self.tenant_id, raw.uuid) for raw in events]
            taken = [event_id for tenant, event_id in ids if (tenant, event_id) in data.event_ids]
            if taken:
                raise DuplicateEventId(stream_id, taken)
            data.event_ids.update(ids)
            if stream is None:
                stream = _Stream(name=stream_id.name, version=None)
                data.streams[key] = stream
            if stream.name is None and stream_id.name is not None:
                stream.name = stream_id.name
            if stream.name is not None:
                data.names[(self.tenant_id, stream_id.category, stream.name)] = stream_id.uuid
            start = data.position + 1
            positions = list(range(start, start + len(events)))
            named = [self._with_stored_name(raw, stream) for raw in events]
            data.log.extend(
                RecordedRaw(raw, pos, self.tenant_id)
                for pos, raw in zip(positions, named, strict=True)
            )
            stream.events.extend(zip(positions, events, strict=True))
            stream.version = None if expected is NO_VERSIONING else events[-1].version
            data.changed.notify_all()
            return positions

    def save_snapshot(self, snapshot: RawEvent) -> None:
        with self._data.lock:
            stream = self._data.streams.get(self._key(snapshot.stream_id))
            check_snapshot(snapshot.stream_id, self._state(stream), snapshot.version)
            assert stream is not None
            stream.snapshot = snapshot

    def delete_stream(self, stream_id: StreamId) -> None:
        with self._data.lock:
            stream = self._data.streams.pop(self._key(stream_id), None)
            if stream is None:
                return
            if stream.name is not None:
                self._data.names.pop((self.tenant_id, stream_id.category, stream.name), None)
            for position, raw in stream.events:
                self._data.log[position - 1] = None
                self._data.event_ids.discard((self.tenant_id, raw.uuid))

    def current_position(self) -> int:
        # Like the SQL backends: the newest event still stored (deleting it lowers this).
        with self._data.lock:
            log = self._data.log
            index = len(log)
            while index and log[index - 1] is None:
                index -= 1
            return index


class InMemoryLogCursor(LogCursor):
    """Reads the in-memory global log; in-memory writes are atomic, so there are no gaps."""

    def __init__(self, data: InMemoryData, after: int, subscription_filter: SubscriptionFilter):
        self._data = data
        self._position = after
        self._filter = subscription_filter

    def fetch(self, limit: int) -> list[RecordedRaw]:
        found: list[RecordedRaw] = []
        with self._data.lock:
            log = self._data.log
            while self._position < len(log) and len(found) < limit:
                record = log[self._position]
                self._position += 1
                if record is not None and self._filter.matches(record):
                    found.append(self._with_current_name(record))
        return found

    def _with_current_name(self, record: RecordedRaw) -> RecordedRaw:
        stream_id = record.raw.stream_id
        stream = self._data.streams.get((record.tenant_id, stream_id.category, stream_id.uuid))
        if stream is None or stream.name == stream_id.name:
            return record
        named = StreamId(stream_id.uuid, name=stream.name, category=stream_id.category)
        return replace(record, raw=record.raw.replace(stream_id=named))

    @property
    def position(self) -> int:
        return self._position

    def wait(self, timeout: float) -> None:
        with self._data.changed:
            if len(self._data.log) <= self._position:
                self._data.changed.wait(timeout)


class InMemorySubscriptionStrategy(SubscriptionStrategy):
    """`SubscriptionStrategy` over an `InMemoryData`."""

    def __init__(self, data: InMemoryData) -> None:
        self._data = data

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> LogCursor:
        return InMemoryLogCursor(self._data, after, subscription_filter)


class InMemoryOutboxStrategy(OutboxStrategy):
    """The outbox in memory; a claim lasts until the entry is published, failed or released."""

    def __init__(self, data: InMemoryData) -> None:
        self._data = data

    def put(self, records: Sequence[RecordedRaw]) -> None:
        with self._data.lock:
            for record in records:
                self._data.outbox[self._data.next_outbox_id] = [record, 0, None, False]
                self._data.next_outbox_id += 1

    def _entry(self, entry_id: int, row: list[Any]) -> OutboxEntry:
        return OutboxEntry(id=entry_id, record=row[0], attempts=row[1], last_error=row[2])

    def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        with self._data.lock:
            claimed: list[OutboxEntry] = []
            for entry_id, row in self._data.outbox.items():
                if len(claimed) == limit:
                    break
                if not row[3] and row[1] < max_attempts:
                    row[3] = True
                    claimed.append(self._entry(entry_id, row))
            return claimed

    def published(self, entry: OutboxEntry) -> None:
        with self._data.lock:
            self._data.outbox.pop(entry.id, None)

    def failed(self, entry: OutboxEntry, error: str) -> None:
        with self._data.lock:
            row = self._data.outbox.get(entry.id)
            if row is not None:
                row[1], row[2], row[3] = row[1] + 1, error, False

    def release(self, entries: Sequence[OutboxEntry]) -> None:
        with self._data.lock:
            for entry in entries:
                row = self._data.outbox.get(entry.id)
                if row is not None:
                    row[3] = False

    def counts(self, max_attempts: int) -> tuple[int, int]:
        with self._data.lock:
            dead = sum(1 for row in self._data.outbox.values() if row[1] >= max_attempts)
            return len(self._data.outbox) - dead, dead

    def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        with self._data.lock:
            dead = [(i, row) for i, row in self._data.outbox.items() if row[1] >= max_attempts]
            return [self._entry(i, row) for i, row in dead[:limit]]

    def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        with self._data.lock:
            for entry_id in entry_ids:
                row = self._data.outbox.get(entry_id)
                if row is not None:
                    row[1], row[2] = 0, None

    def remove(self, entry_ids: Sequence[int]) -> None:
        with self._data.lock:
            for entry_id in entry_ids:
                self._data.outbox.pop(entry_id, None)


class InMemoryCheckpointStrategy(CheckpointStrategy):
    """Projection checkpoints in memory (no transactions: saved at once)."""

    def __init__(self, data: InMemoryData) -> None:
        self._data = data

    def load(self, name: str) -> int:
        with self._data.lock:
            return self._data.checkpoints.get(name, 0)

    def save(self, name: str, position: int) -> None:
        with self._data.lock:
            self._data.checkpoints[name] = position

    def positions(self) -> dict[str, int]:
        with self._data.lock:
            return dict(self._data.checkpoints)


class InMemoryStore(Configured):
    """What the in-memory backends share: their `InMemoryData`, and its keys for encryption.

    Backends made from one another (`in_tenant_mode`) share one store; a new backend starts
    empty unless given the `data` of another (sync or async: both read the same store).
    """

    __slots__ = ("data",)

    def __init__(
        self, *, data: InMemoryData | None = None, registry: EventRegistry | None = None
    ) -> None:
        super().__init__(registry=registry)
        self.data = data if data is not None else InMemoryData()

    def _key_storage(self) -> KeyStorage:
        return self.data.keys


class InMemoryBackend(InMemoryStore, Backend):
    """A complete backend in memory: fast, dependency-free, for unit tests and as a model.

    Backends made from one another (`in_tenant_mode`) share one store; a new `InMemoryBackend()`
    starts empty unless given the `data` of another.
    """

    __slots__ = ()

    def _storage(self) -> StorageStrategy:
        return InMemoryStorageStrategy(self.data, self.tenant_id)

    def _subscription_strategy(self) -> SubscriptionStrategy:
        return InMemorySubscriptionStrategy(self.data)

    def _outbox_strategy(self) -> OutboxStrategy:
        return InMemoryOutboxStrategy(self.data)

    def _checkpoint_strategy(self) -> CheckpointStrategy:
        return InMemoryCheckpointStrategy(self.data)
