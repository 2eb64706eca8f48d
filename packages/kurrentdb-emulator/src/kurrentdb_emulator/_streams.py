"""The Streams service: Append, BatchAppend, Delete, Tombstone, Read (reads and subscriptions)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from kurrentdbclient.protos.v1 import shared_pb2, streams_pb2, streams_pb2_grpc

from kurrentdb_emulator import _reading, _subscribing
from kurrentdb_emulator._errors import (
    abort_invalid_argument,
    abort_stream_deleted,
    abort_wrong_expected_version,
    bad_request_status,
    stream_deleted_status,
    too_large_status,
    wrong_expected_version_status,
)
from kurrentdb_emulator._log import EventLog
from kurrentdb_emulator._messages import BadRequest, expected_version, proposed_event
from kurrentdb_emulator._records import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    AppendTooLarge,
    ProposedEvent,
    StreamDeleted,
    WrongExpectedVersion,
)


class StreamsService(streams_pb2_grpc.StreamsServicer):
    """Serves the Streams RPCs from one :class:`EventLog`."""

    def __init__(self, log: EventLog) -> None:
        """Serve ``log``."""
        self._log = log

    def Read(  # noqa: N802 (the RPC's name)
        self, request: streams_pb2.ReadReq, context: grpc.ServicerContext
    ) -> Iterator[streams_pb2.ReadResp]:
        """A read of a stream or ``$all``, or a catch-up subscription to either."""
        if request.options.WhichOneof("count_option") == "subscription":
            return _subscribing.subscribe(self._log, request.options, context)
        return _reading.read(self._log, request.options, context)

    def Append(  # noqa: N802
        self, request_iterator: Iterator[streams_pb2.AppendReq], context: grpc.ServicerContext
    ) -> streams_pb2.AppendResp:
        """Options first, then the proposed events; a version conflict is answered in-band."""
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("content") != "options":
            abort_invalid_argument(context, "the first append request must carry the options")
        options = first.options
        stream = options.stream_identifier.stream_name.decode()
        try:
            expected = expected_version(
                options.WhichOneof("expected_stream_revision"), options.revision
            )
            events = [_proposed(request) for request in request_iterator]
            result = self._log.append(stream, expected, events)
        except BadRequest as exc:
            abort_invalid_argument(context, str(exc))
        except AppendTooLarge as exc:
            abort_invalid_argument(context, str(exc))
        except StreamDeleted:
            abort_stream_deleted(context, stream)
        except WrongExpectedVersion as exc:
            return streams_pb2.AppendResp(wrong_expected_version=_in_band_conflict(exc))
        return streams_pb2.AppendResp(success=_append_success(result))

    def BatchAppend(  # noqa: N802
        self, request_iterator: Iterator[streams_pb2.BatchAppendReq], context: grpc.ServicerContext
    ) -> Iterator[streams_pb2.BatchAppendResp]:
        """Batches keyed by correlation id; each is appended when its ``is_final`` part arrives."""
        pending: dict[bytes, tuple[streams_pb2.BatchAppendReq.Options, list[ProposedEvent]]] = {}
        for request in request_iterator:
            key = request.correlation_id.SerializeToString()
            if request.HasField("options"):
                pending.setdefault(key, (request.options, []))
            batch = pending.get(key)
            if batch is None:
                continue  # parts of a batch whose options never came are dropped, as by KurrentDB
            response = streams_pb2.BatchAppendResp(
                correlation_id=request.correlation_id,
                stream_identifier=batch[0].stream_identifier,
            )
            try:
                batch[1].extend(proposed_event(message) for message in request.proposed_messages)
                if not request.is_final:
                    continue
                del pending[key]
                response.success.CopyFrom(self._batch_append(batch[0], batch[1]))
            except BadRequest as exc:
                pending.pop(key, None)
                response.error.CopyFrom(bad_request_status(str(exc)))
            except AppendTooLarge as exc:
                response.error.CopyFrom(too_large_status(exc.max_size))
            except StreamDeleted as exc:
                response.error.CopyFrom(stream_deleted_status(exc.stream))
            except WrongExpectedVersion as exc:
                response.error.CopyFrom(wrong_expected_version_status(exc))
            yield response

    def Delete(  # noqa: N802
        self, request: streams_pb2.DeleteReq, context: grpc.ServicerContext
    ) -> streams_pb2.DeleteResp:
        """Soft delete: the stream reads as not found until it is appended to again."""
        options = request.options
        stream = options.stream_identifier.stream_name.decode()
        try:
            expected = expected_version(
                options.WhichOneof("expected_stream_revision"), options.revision
            )
            position = self._log.delete(stream, expected)
        except BadRequest as exc:
            abort_invalid_argument(context, str(exc))
        except StreamDeleted:
            abort_stream_deleted(context, stream)
        except WrongExpectedVersion as exc:
            abort_wrong_expected_version(context, "Delete", exc)
        return streams_pb2.DeleteResp(
            position=streams_pb2.DeleteResp.Position(
                commit_position=position, prepare_position=position
            )
        )

    def Tombstone(  # noqa: N802
        self, request: streams_pb2.TombstoneReq, context: grpc.ServicerContext
    ) -> streams_pb2.TombstoneResp:
        """Hard delete: the stream can never be read or appended to again."""
        options = request.options
        stream = options.stream_identifier.stream_name.decode()
        try:
            expected = expected_version(
                options.WhichOneof("expected_stream_revision"), options.revision
            )
            position = self._log.tombstone(stream, expected)
        except BadRequest as exc:
            abort_invalid_argument(context, str(exc))
        except StreamDeleted:
            abort_stream_deleted(context, stream)
        except WrongExpectedVersion as exc:
            abort_wrong_expected_version(context, "Delete", exc)
        return streams_pb2.TombstoneResp(
            position=streams_pb2.TombstoneResp.Position(
                commit_position=position, prepare_position=position
            )
        )

    def _batch_append(
        self, options: streams_pb2.BatchAppendReq.Options, events: list[ProposedEvent]
    ) -> streams_pb2.BatchAppendResp.Success:
        expected = expected_version(
            options.WhichOneof("expected_stream_position"), options.stream_position
        )
        result = self._log.append(options.stream_identifier.stream_name.decode(), expected, events)
        success = streams_pb2.BatchAppendResp.Success()
        if result.last_revision == NO_STREAM:
            success.no_stream.SetInParent()
        else:
            success.current_revision = result.last_revision
        if result.position is None:
            success.no_position.SetInParent()
        else:
            success.position.CopyFrom(
                shared_pb2.AllStreamPosition(
                    commit_position=result.position, prepare_position=result.position
                )
            )
        return success


def _proposed(request: streams_pb2.AppendReq) -> ProposedEvent:
    if request.WhichOneof("content") != "proposed_message":
        raise BadRequest("append requests after the first must carry proposed messages")
    return proposed_event(request.proposed_message)


def _append_success(result: AppendResult) -> streams_pb2.AppendResp.Success:
    success = streams_pb2.AppendResp.Success()
    if result.last_revision == NO_STREAM:
        success.no_stream.SetInParent()
    else:
        success.current_revision = result.last_revision
    if result.position is None:
        success.no_position.SetInParent()
    else:
        success.position.CopyFrom(
            streams_pb2.AppendResp.Position(
                commit_position=result.position, prepare_position=result.position
            )
        )
    return success


def _in_band_conflict(error: WrongExpectedVersion) -> streams_pb2.AppendResp.WrongExpectedVersion:
    # KurrentDB fills both the current fields and their 20.6.0 twins for older clients.
    conflict = streams_pb2.AppendResp.WrongExpectedVersion()
    if error.current == NO_STREAM:
        conflict.current_no_stream.SetInParent()
        conflict.no_stream_20_6_0.SetInParent()
    else:
        conflict.current_revision = error.current
        conflict.current_revision_20_6_0 = error.current
    if error.expected == ANY:
        conflict.expected_any.SetInParent()
        conflict.any_20_6_0.SetInParent()
    elif error.expected == STREAM_EXISTS:
        conflict.expected_stream_exists.SetInParent()
        conflict.stream_exists_20_6_0.SetInParent()
    elif error.expected == NO_STREAM:
        conflict.expected_no_stream.SetInParent()
    else:
        conflict.expected_revision = error.expected
        conflict.expected_revision_20_6_0 = error.expected
    return conflict
