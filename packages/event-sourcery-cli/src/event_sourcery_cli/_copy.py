"""Copying a whole store into another, as stored, resumably; and comparing two stores.

The copy walks the source's global log in order (a raw subscription: no event class is
needed, nothing is decoded) and appends each run of consecutive events of one stream to the
target with `EventStore.append_raw`, which keeps stream ids, names, categories, tenants,
versions, event ids, creation times, schema versions, data and context. Appending in the
source's log order keeps the global order. Memory stays flat: one chunk of events at a time.

Where to resume is the target's own state: after each chunk the copy saves, in the target,
a checkpoint named after the source (`checkpoint_name`) holding the source position copied
up to, in the same transaction as the chunk's events on the SQL backends. A killed copy thus
resumes exactly after its last committed chunk, and running it again later copies only what
was appended since (an incremental sync). Recording the position beats deriving it from the
target's log: that would need a read of both whole logs to find the target's last event in
the source, while a checkpoint is one row. KurrentDB has no transactions: there the
checkpoint may lag the events by a chunk, and the events re-sent after it are recognised by
their ids and skipped (`_append`), so a resumed copy never duplicates either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from event_sourcery import (
    NO_VERSIONING,
    Backend,
    ConcurrentStreamWriteError,
    DuplicateEventId,
    EventStore,
    RawEvent,
)
from event_sourcery.interfaces import RecordedRaw, as_utc

from event_sourcery_cli._log import walk

OpenTarget = Callable[[], AbstractContextManager[Backend]]
#: Called after each chunk with the events it held and the source position reached.
OnChunk = Callable[[int, int], None]
#: Streams named in a report of differences, at most.
_SHOWN = 10


def checkpoint_name(source: str) -> str:
    """The name of the checkpoint a copy from `source` keeps in the target.

    A digest, since the URL may hold a password; the same URL resumes the same copy.
    """
    return "event-sourcery-copy-" + hashlib.sha256(source.encode()).hexdigest()[:16]


def _runs(records: Iterable[RecordedRaw]) -> Iterator[list[RecordedRaw]]:
    """`records` cut into runs of consecutive events of one stream of one tenant."""
    run: list[RecordedRaw] = []
    for record in records:
        if run:
            last = run[-1]
            version = last.raw.version
            if (
                record.tenant_id != last.tenant_id
                or record.raw.stream_id != last.raw.stream_id
                or (version is not None and record.raw.version != version + 1)
            ):
                yield run
                run = []
        run.append(record)
    if run:
        yield run


def _expected(raws: Sequence[RawEvent]) -> Any:
    first = raws[0].version
    return NO_VERSIONING if first is None else first - 1


def _append(store: EventStore, raws: list[RawEvent]) -> None:
    """Append `raws`, skipping those the target holds already (a resumed copy's re-send)."""
    try:
        store.append_raw(*raws, expected_version=_expected(raws))
        return
    except (ConcurrentStreamWriteError, DuplicateEventId):
        # Only where a chunk's events and its checkpoint cannot commit together (KurrentDB):
        # the stream holds some of them. A genuine clash stays an error, raised below.
        known = {raw.uuid for raw in store.load_stream_raw(raws[0].stream_id)}
    missing = [raw for raw in raws if raw.uuid not in known]
    if missing:
        store.append_raw(*missing, expected_version=_expected(missing))


def _write(target: Backend, records: Sequence[RecordedRaw]) -> None:
    stores: dict[str | None, EventStore] = {}
    for run in _runs(records):
        tenant = run[0].tenant_id
        store = stores.get(tenant)
        if store is None:
            scoped = target.without_tenant() if tenant is None else target.in_tenant_mode(tenant)
            store = stores[tenant] = scoped.event_store
        _append(store, [record.raw for record in run])


@dataclass
class Copier:
    """Copies the log of `source` into the target `open_target` opens, chunk by chunk.

    Each chunk (`chunk` events) is written in one opening of the target, which commits it
    together with the checkpoint `name`.
    """

    source: Backend
    open_target: OpenTarget
    name: str
    chunk: int = 10_000

    def resume_point(self) -> int:
        """The source position the target holds every event up to (0: a fresh copy)."""
        with self.open_target() as target:
            return target.without_tenant().projection_checkpoints().get(self.name, 0)

    def run(self, start: int, head: int, on_chunk: OnChunk) -> int:
        """Copy the events after `start` up to `head`; how many were copied."""
        copied = 0
        records = walk(self.source, after=start, head=head)
        while chunk := list(islice(records, self.chunk)):
            with self.open_target() as target:
                _write(target, chunk)
                self._save(target.without_tenant(), chunk[-1].position)
            copied += len(chunk)
            on_chunk(len(chunk), chunk[-1].position)
        return copied

    def _save(self, target: Backend, position: int) -> None:
        # The port itself: a checkpoint is what a projection keeps, and `copy` keeps one,
        # but it applies no handler, so `Projector` is not the tool.
        checkpoints = target._checkpoint_strategy()
        checkpoints.load(self.name)
        checkpoints.save(self.name, position)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Fingerprint:
    """What `--verify` compares: counts, a digest per stream, and the log's order."""

    events: int = 0
    streams: dict[tuple[str | None, str | None, str], Any] = field(default_factory=dict)
    order: Any = field(default_factory=hashlib.sha256)

    def add(self, record: RecordedRaw) -> None:
        """Take `record` (the next event of the log) into the fingerprint."""
        raw = record.raw
        stream_id = raw.stream_id
        key = (record.tenant_id, stream_id.category, str(stream_id.uuid))
        digest = self.streams.get(key)
        if digest is None:
            digest = self.streams[key] = hashlib.sha256()
        created_at = as_utc(raw.created_at).isoformat()
        envelope = [stream_id.name, raw.version, str(raw.uuid), raw.type, raw.schema_version]
        digest.update(_canonical([*envelope, created_at, raw.data, raw.context]).encode())
        self.order.update(f"{record.tenant_id}/{raw.uuid};".encode())
        self.events += 1

    def digests(self) -> dict[tuple[str | None, str | None, str], str]:
        """The digest of each stream, by (tenant, category, uuid)."""
        return {key: digest.hexdigest() for key, digest in self.streams.items()}


def fingerprint(backend: Backend) -> Fingerprint:
    """The fingerprint of every event of `backend`'s log (every tenant)."""
    found = Fingerprint()
    for record in walk(backend):
        found.add(record)
    return found


def differences(source: Fingerprint, target: Fingerprint) -> list[str]:
    """What differs between two stores, one line each; [] when they hold the same events."""
    found: list[str] = []
    if source.events != target.events:
        found.append(f"events: {source.events} in the source, {target.events} in the target")
    if len(source.streams) != len(target.streams):
        found.append(
            f"streams: {len(source.streams)} in the source, {len(target.streams)} in the target"
        )
    ours, theirs = source.digests(), target.digests()
    keys = sorted(ours.keys() | theirs.keys(), key=str)
    differing = [key for key in keys if ours.get(key) != theirs.get(key)]
    for tenant, category, uuid in differing[:_SHOWN]:
        found.append(f"stream {uuid} (category {category}, tenant {tenant}) differs")
    if len(differing) > _SHOWN:
        found.append(f"... and {len(differing) - _SHOWN} more streams differ")
    if not found and source.order.digest() != target.order.digest():
        found.append("the global order of the events differs")
    return found
