"""The outbox on KurrentDB: an entries stream, read by workers that share a checkpointed state.

- `put` appends one entry per record to `es$outbox-<name>`, right after the events' own append
  (KurrentDB has no transaction spanning two streams). Entry ids are the entries' revisions + 1;
  an entry's event id is derived from the event's uuid, so putting the same record twice (a
  retried append) stores it once.
- The workers' state is one JSON document, the newest event of `es$outboxstate-<name>`: how far
  the entries were scanned, and the open entries with their attempts, last error and the time
  their claim expires. Every change appends a new document expecting the revision it was computed
  from, so concurrent workers never both claim an entry: the loser re-reads and recomputes.
- A claim is a lease (`LEASE` seconds): entries of a worker that died are claimed again after it.
- Dead letters (attempts >= max_attempts) stay open in the state, their payload in the entries
  stream, until `retry` or `purge`.
- Every `TRUNCATE_EVERY` finished entries, the entries stream's `$tb` moves up to the oldest entry
  still open, so KurrentDB's scavenge can reclaim the published ones.

At least once, here, means: every entry that `put` stored is handed to a publisher until one
call succeeds and `published` is recorded; a worker dying between the two, or a lease running
out during a slow publication, publishes an entry again. An append whose process dies before its
`put` leaves no entry: that is the one window in which an appended event misses the outbox.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID, uuid5

from event_sourcery import StreamId
from event_sourcery.exceptions import StorageError
from event_sourcery.interfaces import OutboxEntry, OutboxStrategy, RecordedRaw
from kurrentdbclient import NewEvent, RecordedEvent, StreamState

from event_sourcery_kurrentdb import _steps as steps
from event_sourcery_kurrentdb._client import Connection
from event_sourcery_kurrentdb._codec import (
    OUTBOX_ENTRY,
    OUTBOX_STATE,
    dumps,
    internal_event,
    metadata_of,
    to_new_event,
    to_raw,
)
from event_sourcery_kurrentdb._errors import user_operation
from event_sourcery_kurrentdb._steps import Expected, Steps
from event_sourcery_kurrentdb._streams import outbox_streams, parse_stream_name, stream_name

#: Seconds a claim lasts; then another worker may claim the entry.
LEASE = 120.0
#: Entries taken from the entries stream into the state per claim, at least.
_SCAN = 100
#: Done entries that accumulate before the entries stream is truncated (`$tb`) below them.
TRUNCATE_EVERY = 1000
#: Tries of one state change while other workers keep changing the state.
_TRIES = 20
_ENTRY_NAMESPACE = UUID("0d4e7a8c-5b1f-4c3e-9a2d-6e8f1b3c5d7a")

T = TypeVar("T")
#: id -> [attempts, last error, claimed until (epoch seconds)]
Open = dict[int, list[Any]]


class _State:
    def __init__(self, scanned: int, open_entries: Open, truncated: int = 0) -> None:
        self.scanned = scanned
        self.open = open_entries
        #: The entries stream's `$tb`: revisions below it are done and may be scavenged.
        self.truncated = truncated

    @classmethod
    def parse(cls, data: bytes) -> _State:
        document = json.loads(data)
        open_entries = {int(k): v for k, v in document["open"].items()}
        return cls(document["scanned"], open_entries, document.get("truncated", 0))

    def copy(self) -> _State:
        return _State(self.scanned, {k: list(v) for k, v in self.open.items()}, self.truncated)

    def dump(self) -> dict[str, Any]:
        return {
            "scanned": self.scanned,
            "open": {str(k): v for k, v in self.open.items()},
            "truncated": self.truncated,
        }

    def truncate(self) -> int | None:
        """Move `truncated` up to the oldest entry still needed, if that is worth a write."""
        needed = min(self.open) - 1 if self.open else self.scanned + 1
        if needed - self.truncated < TRUNCATE_EVERY:
            return None
        self.truncated = needed
        return needed


def _entry_event(outbox_name: str, record: RecordedRaw) -> NewEvent:
    raw = record.raw
    stored = to_new_event(raw, record.tenant_id, raw.stream_id.name)
    metadata = json.loads(stored.metadata)
    metadata.update(
        type=raw.type,
        uuid=str(raw.uuid),
        position=record.position,
        stream=stream_name(raw.stream_id, record.tenant_id),
    )
    return NewEvent(
        type=OUTBOX_ENTRY,
        data=stored.data,
        metadata=dumps(metadata),
        id=uuid5(_ENTRY_NAMESPACE, f"{outbox_name}:{raw.uuid}:{record.position}"),
    )


class OutboxSteps:
    """What the outbox strategies do in the streams of one named outbox, as steps (`_steps`);
    each method with the contract of its `OutboxStrategy` namesake. The sync and asyncio
    strategies run these, one instance each: it remembers the newest state it wrote."""

    __slots__ = ("_entries", "_known", "_name", "_state_stream")

    def __init__(self, name: str) -> None:
        self._entries, self._state_stream = outbox_streams(name)
        self._name = name
        self._known: tuple[_State, Expected] | None = None

    # --- writers ------------------------------------------------------------------------------

    @user_operation(lambda self, records: "writing the outbox entries of an append")
    def put(self, records: Sequence[RecordedRaw]) -> Steps[None]:
        entries = [_entry_event(self._name, record) for record in records]
        yield from steps.append(self._entries, StreamState.ANY, entries)

    # --- the shared state ---------------------------------------------------------------------

    def _read_state(self) -> Steps[tuple[_State, Expected]]:
        latest = yield from steps.last(self._state_stream)
        if not latest:
            return _State(-1, {}), StreamState.NO_STREAM
        return _State.parse(latest[0].data), latest[0].stream_position

    def _update(self, change: Callable[[_State], T], scan: int = 0) -> Steps[T]:
        """Apply `change` to the newest state and store the result, retrying lost races;
        with `scan`, at least that many new entries are taken into the state first."""
        for attempt in range(_TRIES):
            known, revision = self._known or (yield from self._read_state())
            # A copy: what is remembered is exactly what was stored, however calls interleave.
            state = known.copy()
            if scan:
                yield from self._scan(state, scan)
            result = change(state)
            record = internal_event(OUTBOX_STATE, state.dump())
            if (yield from steps.append(self._state_stream, revision, [record])) is not None:
                self._known = (state, revision + 1 if isinstance(revision, int) else 0)
                if revision is StreamState.NO_STREAM:
                    yield from steps.set_metadata(
                        self._state_stream, {"$maxCount": 10}, StreamState.ANY
                    )
                return result
            self._known = None
            yield from steps.pause(random.uniform(0, 0.01 * (attempt + 1)))
        raise StorageError(f"the state of outbox {self._name!r} keeps changing; try again")

    def _scan(self, state: _State, wanted: int) -> Steps[None]:
        records = yield from steps.read(
            self._entries, position=state.scanned + 1, limit=max(wanted, _SCAN)
        )
        for record in records:
            state.open[record.stream_position + 1] = [0, None, 0.0]
            state.scanned = record.stream_position

    # --- workers ------------------------------------------------------------------------------

    def claim(self, limit: int, max_attempts: int) -> Steps[list[OutboxEntry]]:
        truncate: list[int | None] = [None]

        def take(state: _State) -> list[int]:
            truncate[0] = state.truncate()
            now = time.time()
            chosen = [
                entry_id
                for entry_id, (attempts, _, until) in sorted(state.open.items())
                if attempts < max_attempts and until <= now
            ][:limit]
            for entry_id in chosen:
                state.open[entry_id][2] = now + LEASE
            return chosen

        self._known = None  # a claim always starts from the newest state
        chosen = yield from self._update(take, scan=limit)
        if truncate[0] is not None:
            # Published entries below it are never read again: a scavenge may drop them.
            yield from steps.set_metadata(self._entries, {"$tb": truncate[0]}, StreamState.ANY)
        return (yield from self._load(chosen))

    def published(self, entry: OutboxEntry) -> Steps[None]:
        yield from self._update(lambda state: state.open.pop(entry.id, None))

    def failed(self, entry: OutboxEntry, error: str) -> Steps[None]:
        def fail(state: _State) -> None:
            row = state.open.get(entry.id)
            if row is not None:
                state.open[entry.id] = [row[0] + 1, error, 0.0]

        yield from self._update(fail)

    def release(self, entries: Sequence[OutboxEntry]) -> Steps[None]:
        def release(state: _State) -> None:
            for entry in entries:
                if entry.id in state.open:
                    state.open[entry.id][2] = 0.0

        yield from self._update(release)

    def dead_letters(self, max_attempts: int, limit: int) -> Steps[list[OutboxEntry]]:
        state, _ = yield from self._read_state()
        dead = sorted(i for i, (attempts, _, _) in state.open.items() if attempts >= max_attempts)
        return (yield from self._load(dead[:limit], state))

    def counts(self, max_attempts: int) -> Steps[tuple[int, int]]:
        state, _ = yield from self._read_state()
        dead = sum(1 for attempts, _, _ in state.open.values() if attempts >= max_attempts)
        newest = yield from steps.last(self._entries)
        # Entries past `scanned` are in no state yet: every one of them waits to be claimed.
        unscanned = newest[0].stream_position - state.scanned if newest else 0
        return len(state.open) - dead + max(unscanned, 0), dead

    def reset_attempts(self, entry_ids: Sequence[int]) -> Steps[None]:
        def reset(state: _State) -> None:
            for entry_id in entry_ids:
                if entry_id in state.open:
                    state.open[entry_id] = [0, None, 0.0]

        yield from self._update(reset)

    def remove(self, entry_ids: Sequence[int]) -> Steps[None]:
        def remove(state: _State) -> None:
            for entry_id in entry_ids:
                state.open.pop(entry_id, None)

        yield from self._update(remove)

    # --- payloads -----------------------------------------------------------------------------

    def _load(self, entry_ids: list[int], state: _State | None = None) -> Steps[list[OutboxEntry]]:
        """The entries `entry_ids` with their records, in that order."""
        if state is None:
            state = self._known[0] if self._known else (yield from self._read_state())[0]
        records: dict[int, RecordedEvent] = {}
        for first, count in _runs(entry_ids):
            for record in (yield from steps.read(self._entries, position=first - 1, limit=count)):
                records[record.stream_position + 1] = record
        entries = []
        for entry_id in entry_ids:
            found = records.get(entry_id)
            if found is None:
                continue  # scavenged away: nothing left to publish
            attempts, error, _ = state.open.get(entry_id, [0, None, 0.0])
            entries.append(OutboxEntry(entry_id, _recorded(found), attempts, error))
        return entries


class KurrentDBOutboxStrategy(OutboxStrategy):
    """`OutboxStrategy` in the streams of one named outbox: `OutboxSteps` run on a
    `KurrentDBClient`."""

    def __init__(self, connection: Connection, name: str) -> None:
        self._connection = connection
        self._steps = OutboxSteps(name)

    def put(self, records: Sequence[RecordedRaw]) -> None:
        self._connection.run(self._steps.put(records))

    def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        return self._connection.run(self._steps.claim(limit, max_attempts))

    def published(self, entry: OutboxEntry) -> None:
        self._connection.run(self._steps.published(entry))

    def failed(self, entry: OutboxEntry, error: str) -> None:
        self._connection.run(self._steps.failed(entry, error))

    def release(self, entries: Sequence[OutboxEntry]) -> None:
        self._connection.run(self._steps.release(entries))

    def dead_letters(self, max_attempts: int, limit: int) -> list[OutboxEntry]:
        return self._connection.run(self._steps.dead_letters(max_attempts, limit))

    def counts(self, max_attempts: int) -> tuple[int, int]:
        return self._connection.run(self._steps.counts(max_attempts))

    def reset_attempts(self, entry_ids: Sequence[int]) -> None:
        self._connection.run(self._steps.reset_attempts(entry_ids))

    def remove(self, entry_ids: Sequence[int]) -> None:
        self._connection.run(self._steps.remove(entry_ids))


def _runs(entry_ids: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted ids, as (first id, length)."""
    runs: list[tuple[int, int]] = []
    for entry_id in sorted(entry_ids):
        if runs and runs[-1][0] + runs[-1][1] == entry_id:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((entry_id, 1))
    return runs


def _recorded(record: RecordedEvent) -> RecordedRaw:
    metadata = metadata_of(record)
    parsed = parse_stream_name(metadata["stream"]) if metadata else None
    if metadata is None or parsed is None:
        raise StorageError(f"outbox entry {record.stream_position + 1} is not readable")
    category, uuid, tenant = parsed
    stream_id = StreamId(uuid, name=metadata.get("name"), category=category)
    return RecordedRaw(to_raw(record, stream_id, metadata), metadata["position"], tenant)
