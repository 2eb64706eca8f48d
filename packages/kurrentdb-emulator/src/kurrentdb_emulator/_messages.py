"""Conversions between the protocol's messages and the log's records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Protocol

from google.protobuf.timestamp_pb2 import Timestamp
from kurrentdbclient.protos.v1 import shared_pb2, streams_pb2

from kurrentdb_emulator._records import ANY, NO_STREAM, STREAM_EXISTS, ProposedEvent, Record

_MASK64 = (1 << 64) - 1


class BadRequest(ValueError):
    """A request the server cannot act on; its message is sent to the client."""


class _Proposed(Protocol):
    """What ``AppendReq.ProposedMessage`` and ``BatchAppendReq.ProposedMessage`` share."""

    @property
    def id(self) -> shared_pb2.UUID: ...
    @property
    def metadata(self) -> Mapping[str, str]: ...
    @property
    def custom_metadata(self) -> bytes: ...
    @property
    def data(self) -> bytes: ...


def uuid_text(message: shared_pb2.UUID) -> str:
    """The canonical lower-case text of a protocol UUID (string or structured form).

    Raises:
        BadRequest: The UUID is missing or malformed.
    """
    try:
        if message.WhichOneof("value") == "structured":
            most = message.structured.most_significant_bits & _MASK64
            least = message.structured.least_significant_bits & _MASK64
            return str(uuid.UUID(int=(most << 64) | least))
        return str(uuid.UUID(message.string))
    except ValueError as exc:
        raise BadRequest(f"invalid event id: {exc}") from exc


def uuid_message(text: str, *, structured: bool) -> shared_pb2.UUID:
    """The protocol form of a UUID, as the request's ``uuid_option`` asks."""
    if not structured:
        return shared_pb2.UUID(string=text)
    value = uuid.UUID(text).int
    return shared_pb2.UUID(
        structured=shared_pb2.UUID.Structured(
            most_significant_bits=_signed(value >> 64),
            least_significant_bits=_signed(value & _MASK64),
        )
    )


def proposed_event(message: _Proposed) -> ProposedEvent:
    """A proposed event from an append request's proposed message.

    Raises:
        BadRequest: The message lacks the required ``type`` or ``content-type`` metadata.
    """
    for key in ("type", "content-type"):
        if key not in message.metadata:
            raise BadRequest(f"Required Metadata Property '{key}' is missing")
    return ProposedEvent(
        event_id=uuid_text(message.id),
        type=message.metadata["type"],
        content_type=message.metadata["content-type"],
        data=message.data,
        metadata=message.custom_metadata,
    )


def expected_version(which: str | None, revision: int) -> int:
    """The expected version from the name of the set ``expected_*`` oneof field.

    Args:
        which: ``any``, ``no_stream``, ``stream_exists``, or the revision field's name.
        revision: The value of the revision field.

    Raises:
        BadRequest: No expected version was set.
    """
    if which is None:
        raise BadRequest("an expected stream revision is required")
    return {"any": ANY, "no_stream": NO_STREAM, "stream_exists": STREAM_EXISTS}.get(which, revision)


def now_timestamp() -> Timestamp:
    """The current time as a protobuf timestamp."""
    timestamp = Timestamp()
    timestamp.GetCurrentTime()
    return timestamp


def event_response(record: Record, *, structured_ids: bool) -> streams_pb2.ReadResp:
    """The read response that carries ``record``."""
    recorded = streams_pb2.ReadResp.ReadEvent.RecordedEvent(
        id=uuid_message(record.event_id, structured=structured_ids),
        stream_identifier=shared_pb2.StreamIdentifier(stream_name=record.stream.encode()),
        stream_revision=record.revision,
        prepare_position=record.position,
        commit_position=record.position,
        metadata={
            "type": record.type,
            "content-type": record.content_type,
            "created": str(record.created),
        },
        custom_metadata=record.metadata,
        data=record.data,
    )
    return streams_pb2.ReadResp(
        event=streams_pb2.ReadResp.ReadEvent(event=recorded, commit_position=record.position)
    )


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value
