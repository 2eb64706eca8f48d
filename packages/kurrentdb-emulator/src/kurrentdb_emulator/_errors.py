"""gRPC errors, worded as KurrentDB words them: clients parse these texts into their exceptions.

``kurrentdbclient`` 1.3 reads, for Delete, Tombstone and Read:
``FAILED_PRECONDITION`` + "<op> failed due to WrongExpectedVersion. Stream: s, Expected version: e,
Actual version: a" (a = -1 becomes NotFoundError, else WrongCurrentVersionError), and
``FAILED_PRECONDITION`` + "... is deleted" (StreamIsDeletedError). For Append it maps only the
status code, so a deleted stream there is a FailedPreconditionError.
"""

from __future__ import annotations

from typing import NoReturn

import grpc
from google.protobuf import any_pb2
from kurrentdbclient.protos.google.rpc import code_pb2
from kurrentdbclient.protos.v1 import shared_pb2, status_pb2

from kurrentdb_emulator._records import ANY, NO_STREAM, STREAM_EXISTS, WrongExpectedVersion


def abort_stream_deleted(context: grpc.ServicerContext, stream: str) -> NoReturn:
    """End the call as KurrentDB does for an operation on a deleted stream."""
    context.set_trailing_metadata((("exception", "stream-deleted"), ("stream-name", stream)))
    context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"Event stream '{stream}' is deleted.")


def abort_wrong_expected_version(
    context: grpc.ServicerContext, operation: str, error: WrongExpectedVersion
) -> NoReturn:
    """End a Delete or Tombstone call that conflicts with the stream's version."""
    context.set_trailing_metadata(
        (
            ("exception", "wrong-expected-version"),
            ("stream-name", error.stream),
            ("expected-version", str(error.expected)),
            ("actual-version", str(error.current)),
        )
    )
    context.abort(
        grpc.StatusCode.FAILED_PRECONDITION,
        f"{operation} failed due to WrongExpectedVersion. Stream: {error.stream}, "
        f"Expected version: {error.expected}, Actual version: {error.current}",
    )


def abort_invalid_argument(context: grpc.ServicerContext, message: str) -> NoReturn:
    """End a call whose request cannot be acted on."""
    context.abort(grpc.StatusCode.INVALID_ARGUMENT, message)


def abort_invalid_position(context: grpc.ServicerContext, *, filtered: bool) -> NoReturn:
    """End a ``$all`` read from a position where no event starts (KurrentDB 25.1's text)."""
    result = "FilteredReadAllResult" if filtered else "ReadAllResult"
    context.abort(grpc.StatusCode.UNKNOWN, f"Unexpected {result}: InvalidPosition")


def wrong_expected_version_status(error: WrongExpectedVersion) -> status_pb2.Status:
    """The in-band error of a BatchAppend response for a version conflict."""
    detail = shared_pb2.WrongExpectedVersion()
    if error.current == NO_STREAM:
        detail.current_no_stream.SetInParent()
    else:
        detail.current_stream_revision = error.current
    if error.expected == ANY:
        detail.expected_any.SetInParent()
    elif error.expected == STREAM_EXISTS:
        detail.expected_stream_exists.SetInParent()
    elif error.expected == NO_STREAM:
        detail.expected_no_stream.SetInParent()
    else:
        detail.expected_stream_position = error.expected
    return _status(code_pb2.FAILED_PRECONDITION, "WrongExpectedVersion", detail)


def stream_deleted_status(stream: str) -> status_pb2.Status:
    """The in-band error of a BatchAppend response for a deleted stream."""
    detail = shared_pb2.StreamDeleted(
        stream_identifier=shared_pb2.StreamIdentifier(stream_name=stream.encode())
    )
    return _status(code_pb2.FAILED_PRECONDITION, "Stream Deleted", detail)


def too_large_status(max_size: int) -> status_pb2.Status:
    """The in-band error of a BatchAppend response whose events exceed the size limit."""
    detail = shared_pb2.MaximumAppendSizeExceeded(maxAppendSize=max_size)
    return _status(code_pb2.INVALID_ARGUMENT, "Maximum Append Size Exceeded", detail)


def bad_request_status(message: str) -> status_pb2.Status:
    """The in-band error of a BatchAppend response for a malformed request."""
    return _status(code_pb2.INVALID_ARGUMENT, message, shared_pb2.BadRequest(message=message))


def _status(code: int, message: str, detail: object) -> status_pb2.Status:
    packed = any_pb2.Any()
    packed.Pack(detail)  # type: ignore[arg-type]
    return status_pb2.Status(code=code, message=message, details=packed)  # type: ignore[arg-type]
