"""Events to and from KurrentDB records: the payload is the event's JSON, the envelope metadata.

| Event Sourcery            | KurrentDB record                                              |
|---------------------------|---------------------------------------------------------------|
| `uuid`                    | event id (so KurrentDB's idempotency works on our uuids)      |
| `type`                    | event type                                                    |
| `data`                    | data (`application/json`)                                     |
| version, created_at,      | metadata JSON: `version` (null: versionless), `created_at`,   |
| schema version, tenant,   | `schema_version`, `tenant_id`, `name` (once the stream has    |
| stream name, context      | one), `context` (extra fields), `$correlationId`,             |
|                           | `$causationId` (KurrentDB's own keys), `es` (format: 1)       |

Records of this backend's own kinds have event types starting with ``$es-``: KurrentDB treats
``$``-types as system events, which its clients' default filters leave out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from event_sourcery import StreamId
from event_sourcery.exceptions import InvalidEvent, StorageError
from event_sourcery.interfaces import RawEvent
from kurrentdbclient import NewEvent, RecordedEvent

#: Version of the metadata layout, stored as `es`.
FORMAT = 1
#: Event types of the backend's own records.
DELETED = "$es-deleted"
SNAPSHOT = "$es-snapshot"
NAME_BOUND = "$es-name"
CHECKPOINT = "$es-checkpoint"
OUTBOX_ENTRY = "$es-outbox-entry"
OUTBOX_STATE = "$es-outbox-state"

_CORRELATION, _CAUSATION = "$correlationId", "$causationId"


def dumps(value: Any) -> bytes:
    """Compact JSON; ASCII-escaped, so lone surrogates in strings survive the trip."""
    return json.dumps(value, separators=(",", ":")).encode()


def check_type(raw: RawEvent) -> None:
    """Refuse event types KurrentDB reserves for system events."""
    if raw.type.startswith("$"):
        raise InvalidEvent(
            f"event type {raw.type!r} starts with '$', which KurrentDB reserves for system "
            "events; give the class another __event_name__"
        )


def _metadata(raw: RawEvent, tenant_id: str | None, name: str | None) -> dict[str, Any]:
    context = dict(raw.context)
    metadata: dict[str, Any] = {
        "es": FORMAT,
        "version": raw.version,
        "created_at": raw.created_at.isoformat(),
        "schema_version": raw.schema_version,
        "tenant_id": tenant_id,
    }
    if name is not None:
        metadata["name"] = name
    correlation, causation = context.pop("correlation_id", None), context.pop("causation_id", None)
    if correlation is not None:
        metadata[_CORRELATION] = correlation
    if causation is not None:
        metadata[_CAUSATION] = causation
    if context:
        metadata["context"] = context
    return metadata


def _data(raw: RawEvent) -> bytes:
    text = raw.data_text
    return text.encode() if text is not None else dumps(raw.data)


def to_new_event(raw: RawEvent, tenant_id: str | None, name: str | None) -> NewEvent:
    """The record of a user event; its id is the event's uuid."""
    return NewEvent(
        type=raw.type,
        data=_data(raw),
        metadata=dumps(_metadata(raw, tenant_id, name)),
        id=raw.uuid,
    )


def to_snapshot_event(raw: RawEvent, tenant_id: str | None, revision: int) -> NewEvent:
    """The record of a snapshot taken at the stream's `revision`."""
    metadata = _metadata(raw, tenant_id, None)
    metadata.update(type=raw.type, uuid=str(raw.uuid), revision=revision)
    return NewEvent(type=SNAPSHOT, data=_data(raw), metadata=dumps(metadata), id=uuid4())


def internal_event(event_type: str, data: dict[str, Any], **metadata: Any) -> NewEvent:
    """A record of the backend's own bookkeeping."""
    return NewEvent(
        type=event_type,
        data=dumps(data),
        metadata=dumps({"es": FORMAT, **metadata}),
        id=uuid4(),
    )


def metadata_of(event: RecordedEvent) -> dict[str, Any] | None:
    """The metadata of a record this backend wrote; None for anything else."""
    if not event.metadata.startswith(b"{"):
        return None
    try:
        metadata = json.loads(event.metadata)
    except ValueError:
        return None
    return metadata if isinstance(metadata, dict) and metadata.get("es") == FORMAT else None


def to_raw(
    event: RecordedEvent, stream_id: StreamId, metadata: dict[str, Any] | None = None
) -> RawEvent:
    """The stored form of a user event (or, with `type`/`uuid` in metadata, a snapshot)."""
    if metadata is None:
        metadata = metadata_of(event)
    if metadata is None:
        raise StorageError(
            f"record {event.id} of KurrentDB stream {event.stream_name!r} was not written by "
            "Event Sourcery (no event metadata); read that stream with kurrentdbclient"
        )
    context: dict[str, Any] = dict(metadata.get("context") or {})
    if _CORRELATION in metadata:
        context["correlation_id"] = metadata[_CORRELATION]
    if _CAUSATION in metadata:
        context["causation_id"] = metadata[_CAUSATION]
    return RawEvent(
        uuid=UUID(metadata["uuid"]) if "uuid" in metadata else event.id,
        stream_id=stream_id,
        type=metadata.get("type", event.type),
        version=metadata["version"],
        created_at=datetime.fromisoformat(metadata["created_at"]),
        data=event.data.decode(),
        context=context,
        schema_version=metadata.get("schema_version", 1),
    )


@dataclass(frozen=True, slots=True)
class Head:
    """The newest record of a user stream: what an append or a ranged load needs to know."""

    revision: int
    #: The stream's version; None for a versionless stream.
    version: int | None
    #: The stream's name, if it has one.
    name: str | None
    #: The newest record is a deletion marker: the stream is deleted (the soft delete may lag).
    deleted: bool

    @property
    def offset(self) -> int:
        """The revision of version 1 (KurrentDB keeps counting revisions after a delete)."""
        return self.revision - (self.version or 0) + 1

    def revision_of(self, version: int) -> int:
        """The revision of `version` in this generation of the stream."""
        return self.offset + version - 1

    @classmethod
    def of(cls, event: RecordedEvent) -> Head:
        """The head of the stream whose newest record is `event`."""
        metadata = metadata_of(event) or {}
        return cls(
            revision=event.stream_position,
            version=metadata.get("version"),
            name=metadata.get("name"),
            deleted=event.type == DELETED,
        )
