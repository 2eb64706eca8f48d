"""Loading, snapshotting and deleting one stream: what the SQL backends decide, with no I/O.

Each is a protocol (see `_protocol`): a driver runs it with `drive` on its connection, in the
caller's transaction, and translates the errors it lets out. The SQL is the flavour's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from event_sourcery._raw import RawEvent, raw_from_text
from event_sourcery._readers import utc_from_text, uuid_from_hex
from event_sourcery._stream_id import StreamId
from event_sourcery._versioning import MISSING, VERSIONLESS, StreamState, check_snapshot
from event_sourcery.sql._flavour import MAX_VERSION, Flavour
from event_sourcery.sql._protocol import Protocol, Statement


def stream_key(flavour: Flavour, tenant: str, stream_id: StreamId) -> tuple[Any, ...]:
    """The parameters naming a stream's row: tenant ('' for none), category ('' for none),
    uuid (as `flavour` binds it)."""
    return tenant, stream_id.category or "", flavour.bind_uuid(stream_id.uuid)


def load_events(
    flavour: Flavour, tenant: str, stream_id: StreamId, start: int | None, stop: int | None
) -> Protocol[list[RawEvent]]:
    """`fetch_events`: one query, the stream's snapshot (when the load starts at the
    beginning and the snapshot is below `stop`) then the events after it, in version order.

    Bounds beyond `MAX_VERSION` match no stored version: a start is clamped to it, a stop
    left out (drivers cannot bind them). An unknown stream gives no rows: [].
    """
    key = stream_key(flavour, tenant, stream_id)
    stops = [stop] if stop is not None and stop <= MAX_VERSION else []
    if start is not None:
        params = [*key, min(start, MAX_VERSION), *stops]
    else:
        params = [*key, *stops, *stops, *key, *stops]
    outcome = yield Statement(flavour.loads[start is not None, bool(stops)], params)
    return read_events(outcome.rows, stream_id)


def read_events(rows: Sequence[Sequence[Any]], stream_id: StreamId) -> list[RawEvent]:
    """The `RawEvent`s of `load`'s rows: version, uuid, type, schema version, data, context,
    created_at (uuid, JSON and time as the flavour selects them: text), stream name, position.

    One cheap call per value: this loop is most of a load's own work.
    """
    if not rows:
        return []
    stored = StreamId(stream_id.uuid, name=rows[0][7], category=stream_id.category)
    return [
        raw_from_text(uuid_from_hex(uuid), stored, type_, version, utc_from_text(at), data, ctx, v)
        for version, uuid, type_, v, data, ctx, at, _, _ in rows
    ]


def state_of(row: Sequence[Any] | None) -> StreamState:
    """The state `check_snapshot` takes, from a (id, version, name) stream row or None."""
    if row is None:
        return MISSING
    return VERSIONLESS if row[1] is None else int(row[1])


def save_snapshot(flavour: Flavour, tenant: str, snapshot: RawEvent) -> Protocol[None]:
    """Replace the snapshot of `snapshot.stream_id` (`InvalidSnapshot` unless its version is
    the stream's current one, see `check_snapshot`)."""
    found = yield Statement(flavour.find_stream, stream_key(flavour, tenant, snapshot.stream_id))
    row = found.rows[0] if found.rows else None
    version = check_snapshot(snapshot.stream_id, state_of(row), snapshot.version)
    assert row is not None  # check_snapshot refuses a missing stream
    yield Statement(
        flavour.save_snapshot,
        (
            row[0],
            version,
            flavour.bind_uuid(snapshot.uuid),
            snapshot.type,
            snapshot.schema_version,
            snapshot.data_json(),
            snapshot.context_json(),
            flavour.bind_time(snapshot.created_at),
        ),
    )


def delete_stream(flavour: Flavour, tenant: str, stream_id: StreamId) -> Protocol[None]:
    """Delete a stream's events, snapshot and row; nothing for an unknown stream."""
    key = stream_key(flavour, tenant, stream_id)
    for sql in flavour.delete_stream:
        yield Statement(sql, key)
