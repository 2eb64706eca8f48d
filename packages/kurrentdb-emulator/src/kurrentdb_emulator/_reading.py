"""Finite reads (``count_option`` = count) of one stream or of ``$all``."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from kurrentdbclient.protos.v1 import streams_pb2

from kurrentdb_emulator._errors import (
    abort_invalid_argument,
    abort_invalid_position,
    abort_stream_deleted,
)
from kurrentdb_emulator._filters import InvalidFilter, everything, parse_filter
from kurrentdb_emulator._log import EventLog
from kurrentdb_emulator._messages import event_response
from kurrentdb_emulator._records import InvalidPosition, StreamDeleted

Options = streams_pb2.ReadReq.Options


def read(
    log: EventLog, options: Options, context: grpc.ServicerContext
) -> Iterator[streams_pb2.ReadResp]:
    """Stream the events a read request asks for.

    A stream that does not exist yields one ``stream_not_found`` message (the client raises
    NotFoundError); a tombstoned stream fails the call with ``FAILED_PRECONDITION``.
    """
    structured = options.uuid_option.WhichOneof("content") == "structured"
    backwards = options.read_direction == Options.Backwards
    if options.WhichOneof("stream_option") == "stream":
        yield from _read_stream(log, options, context, backwards=backwards, structured=structured)
    else:
        yield from _read_all(log, options, context, backwards=backwards, structured=structured)


def _read_stream(
    log: EventLog,
    options: Options,
    context: grpc.ServicerContext,
    *,
    backwards: bool,
    structured: bool,
) -> Iterator[streams_pb2.ReadResp]:
    stream_options = options.stream
    stream = stream_options.stream_identifier.stream_name.decode()
    which = stream_options.WhichOneof("revision_option")
    revision = stream_options.revision if which == "revision" else None
    try:
        if which == "end" and not backwards:
            # Forwards from the end: nothing, but a missing stream is still reported as such.
            found = log.read_stream(stream, revision=None, backwards=True, limit=0)
        else:
            found = log.read_stream(
                stream, revision=revision, backwards=backwards, limit=options.count
            )
    except StreamDeleted:
        abort_stream_deleted(context, stream)
    if found is None:
        yield streams_pb2.ReadResp(
            stream_not_found=streams_pb2.ReadResp.StreamNotFound(
                stream_identifier=stream_options.stream_identifier
            )
        )
        return
    for record in found:
        yield event_response(record, structured_ids=structured)


def _read_all(
    log: EventLog,
    options: Options,
    context: grpc.ServicerContext,
    *,
    backwards: bool,
    structured: bool,
) -> Iterator[streams_pb2.ReadResp]:
    try:
        read_filter = parse_filter(options)
    except InvalidFilter as exc:
        abort_invalid_argument(context, str(exc))
    which = options.all.WhichOneof("all_option")
    if which == "end" and not backwards:
        return
    position = options.all.position.commit_position if which == "position" else None
    try:
        records = log.read_all(
            position=position,
            backwards=backwards,
            limit=options.count,
            matches=everything if read_filter is None else read_filter.matches,
        )
    except InvalidPosition:
        abort_invalid_position(context, filtered=read_filter is not None)
    for record in records:
        yield event_response(record, structured_ids=structured)
