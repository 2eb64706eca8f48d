"""Catch-up subscriptions (``count_option`` = subscription) to one stream or to ``$all``.

Message order, as from KurrentDB: a confirmation; the events after the requested position;
one ``caught_up``; then every later event as it is appended. Filtered ``$all`` subscriptions also
get a checkpoint whenever ``window * checkpointIntervalMultiplier`` records have been considered
(matching or not) and one just before ``caught_up``, so a consumer of a sparse filter can save
its progress. Catch-up and live delivery are one loop over the append-only log, with the last
record looked at as the cursor: nothing is skipped or sent twice at the switch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
from kurrentdbclient.protos.v1 import streams_pb2

from kurrentdb_emulator._errors import (
    abort_invalid_argument,
    abort_invalid_position,
    abort_stream_deleted,
)
from kurrentdb_emulator._filters import Filter, InvalidFilter, parse_filter
from kurrentdb_emulator._log import EventLog
from kurrentdb_emulator._messages import event_response, now_timestamp
from kurrentdb_emulator._records import InvalidPosition, StreamDeleted

Options = streams_pb2.ReadReq.Options

# How long a waiting subscription sleeps before checking that its call is still active; a
# cancelled call also wakes it at once through the call's done-callback.
_POLL_SECONDS = 0.5
# Records read per step when no filter sets a search window.
_PAGE = 256


def subscribe(
    log: EventLog, options: Options, context: grpc.ServicerContext
) -> Iterator[streams_pb2.ReadResp]:
    """Run one catch-up subscription until the client cancels it or the server stops."""
    context.add_callback(log.wake)
    structured = options.uuid_option.WhichOneof("content") == "structured"
    if options.WhichOneof("stream_option") == "stream":
        return _subscribe_to_stream(log, options.stream, context, structured=structured)
    return _subscribe_to_all(log, options, context, structured=structured)


def _confirmation() -> streams_pb2.ReadResp:
    return streams_pb2.ReadResp(
        confirmation=streams_pb2.ReadResp.SubscriptionConfirmation(
            subscription_id=str(uuid.uuid4())
        )
    )


def _subscribe_to_stream(
    log: EventLog,
    stream_options: Options.StreamOptions,
    context: grpc.ServicerContext,
    *,
    structured: bool,
) -> Iterator[streams_pb2.ReadResp]:
    stream = stream_options.stream_identifier.stream_name.decode()
    which = stream_options.WhichOneof("revision_option")
    if which == "revision":
        cursor = stream_options.revision
    elif which == "end":
        cursor = log.last_revision(stream)
    else:
        cursor = -1
    yield _confirmation()
    caught_up = False
    while context.is_active():
        # Taken before the read: an append racing with it ends the wait below at once.
        head = log.head
        try:
            events, cursor = log.stream_events_after(stream, cursor)
        except StreamDeleted:
            abort_stream_deleted(context, stream)
        for record in events:
            yield event_response(record, structured_ids=structured)
        if not caught_up:
            caught_up = True
            message = streams_pb2.ReadResp.CaughtUp(timestamp=now_timestamp())
            if cursor >= 0:
                message.stream_revision = cursor
            yield streams_pb2.ReadResp(caught_up=message)
        if not log.wait_beyond(head, _POLL_SECONDS):
            return


def _subscribe_to_all(
    log: EventLog, options: Options, context: grpc.ServicerContext, *, structured: bool
) -> Iterator[streams_pb2.ReadResp]:
    try:
        read_filter = parse_filter(options)
    except InvalidFilter as exc:
        abort_invalid_argument(context, str(exc))
    if read_filter is not None and read_filter.checkpoint_interval == 0:
        abort_invalid_argument(context, "checkpointIntervalMultiplier must be greater than 0")
    which = options.all.WhichOneof("all_option")
    cursor = 0
    if which == "end":
        cursor = log.head
    elif which == "position":
        cursor = options.all.position.commit_position
    yield _confirmation()
    # KurrentDB confirms first and fails the catch-up read afterwards.
    try:
        log.check_position(cursor)
    except InvalidPosition:
        abort_invalid_position(context, filtered=read_filter is not None)
    yield from _all_loop(log, read_filter, cursor, context, structured=structured)


def _all_loop(
    log: EventLog,
    read_filter: Filter | None,
    cursor: int,
    context: grpc.ServicerContext,
    *,
    structured: bool,
) -> Iterator[streams_pb2.ReadResp]:
    page_size = _PAGE if read_filter is None else read_filter.window
    considered = 0
    # Starting at the head there is no history to report progress on: KurrentDB goes live
    # without a checkpoint then, and sends one on catching up otherwise.
    last_checkpoint = cursor if cursor >= log.head else 0
    caught_up = False
    while context.is_active():
        page = log.records_after(cursor, page_size)
        for record in page:
            cursor = record.position
            if read_filter is None or read_filter.matches(record):
                yield event_response(record, structured_ids=structured)
        if read_filter is not None:
            considered += len(page)
            at_end = len(page) < page_size and not caught_up
            if (
                considered >= read_filter.checkpoint_interval or at_end
            ) and cursor > last_checkpoint:
                considered %= read_filter.checkpoint_interval
                last_checkpoint = cursor
                yield _checkpoint(cursor)
        if len(page) == page_size:
            continue
        if not caught_up:
            caught_up = True
            yield _caught_up(cursor)
        if not log.wait_beyond(cursor, _POLL_SECONDS):
            return


def _checkpoint(position: int) -> streams_pb2.ReadResp:
    return streams_pb2.ReadResp(
        checkpoint=streams_pb2.ReadResp.Checkpoint(
            commit_position=position, prepare_position=position, timestamp=now_timestamp()
        )
    )


def _caught_up(position: int) -> streams_pb2.ReadResp:
    message = streams_pb2.ReadResp.CaughtUp(timestamp=now_timestamp())
    if position > 0:
        message.position.CopyFrom(
            streams_pb2.ReadResp.Position(commit_position=position, prepare_position=position)
        )
    return streams_pb2.ReadResp(caught_up=message)
