"""Client errors become Event Sourcery errors at one place; transient ones are retried."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from event_sourcery import StreamId, WrappedEvent
from event_sourcery.exceptions import EventStoreException, InvalidInput, StorageError
from event_sourcery_kurrentdb import KurrentDBBackend, RetryPolicy
from event_sourcery_kurrentdb._errors import translate
from kurrentdb_emulator import Emulator
from kurrentdbclient import KurrentDBClient
from kurrentdbclient.exceptions import (
    AccessDeniedError,
    GrpcDeadlineExceededError,
    InvalidCommitPositionError,
    MaximumAppendSizeExceededError,
    ServiceUnavailableError,
    SSLError,
    StreamIsDeletedError,
    UnknownError,
)

from ._events import Noted


@pytest.fixture
def stopped() -> Iterator[KurrentDBBackend]:
    """A backend whose server was stopped after the client connected."""
    emulator = Emulator().start()
    client = KurrentDBClient(emulator.uri)
    backend = KurrentDBBackend(client, retry=RetryPolicy(attempts=3, backoff=0.05))
    backend.event_store.load_stream(StreamId())
    emulator.stop()
    yield backend
    client.close()


def test_an_unreachable_server_is_a_storage_error_after_bounded_retries(
    stopped: KurrentDBBackend, caplog: pytest.LogCaptureFixture
) -> None:
    started = time.monotonic()
    with pytest.raises(StorageError, match="unavailable") as info:
        stopped.event_store.append(Noted(text="x"), stream_id=StreamId())
    assert isinstance(info.value.__cause__, ServiceUnavailableError)
    assert time.monotonic() - started < 10
    assert [r.message.count("try") for r in caplog.records] == [1, 1]  # 3 tries: 2 retries


def test_every_operation_fails_the_same_way(stopped: KurrentDBBackend) -> None:
    for operation in (
        lambda: stopped.event_store.load_stream(StreamId(), start=1),
        lambda: stopped.event_store.delete_stream(StreamId()),
        lambda: stopped.event_store.position,
        lambda: next(stopped.subscriber.build_iter(0.1)),
        lambda: stopped.outbox.run(print),
    ):
        with pytest.raises(StorageError):
            operation()


def test_errors_and_retry_warnings_name_the_users_operation_and_stream(
    stopped: KurrentDBBackend, caplog: pytest.LogCaptureFixture
) -> None:
    # They named the request that failed: "KurrentDB is unavailable while reading stream
    # 'es$snapshot-...'" for a load, "reading" for an append.
    stream_id = StreamId(category="account")
    operations = {
        f"appending to stream {stream_id!r}": lambda: stopped.event_store.append(
            Noted(text="x"), stream_id=stream_id
        ),
        f"loading stream {stream_id!r}": lambda: stopped.event_store.load_stream(stream_id),
        f"deleting stream {stream_id!r}": lambda: stopped.event_store.delete_stream(stream_id),
        f"saving a snapshot of stream {stream_id!r}": lambda: stopped.event_store.save_snapshot(
            stream_id, WrappedEvent.wrap(Noted(text="s"), 1)
        ),
    }
    for doing, operation in operations.items():
        caplog.clear()
        with pytest.raises(StorageError) as info:
            operation()
        assert f"KurrentDB is unavailable while {doing}: " in str(info.value)
        assert "es$" not in str(info.value)
        warnings = [r for r in caplog.records if r.name == "event_sourcery_kurrentdb"]
        assert warnings
        assert all(doing in r.getMessage() for r in warnings)
        assert all("es$" not in r.getMessage() for r in warnings)


class _LostReplies:
    """A client whose first append reaches the server but whose reply never arrives."""

    def __init__(self, client: KurrentDBClient, losses: int) -> None:
        self._client, self.losses = client, losses

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def append_to_stream(self, *args: Any, **kwargs: Any) -> int:
        position = self._client.append_to_stream(*args, **kwargs)
        if self.losses:
            self.losses -= 1
            raise GrpcDeadlineExceededError("the reply was lost")
        return position


def test_a_retried_append_whose_reply_was_lost_is_stored_once(
    kurrentdb_backend: KurrentDBBackend,
) -> None:
    flaky = _LostReplies(kurrentdb_backend.client, losses=1)
    kurrentdb_backend._connection.client = flaky  # type: ignore[assignment]
    try:
        store, stream = kurrentdb_backend.event_store, StreamId()
        events = [WrappedEvent.wrap(Noted(text="a")), WrappedEvent.wrap(Noted(text="b"))]
        store.append(*events, stream_id=stream)
        assert flaky.losses == 0
        store.append(WrappedEvent.wrap(Noted(text="c")), stream_id=stream, expected_version=2)
    finally:
        kurrentdb_backend._connection.client = flaky._client
    assert [w.event.text for w in store.load_stream(stream)] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("error", "expected", "words"),
    [
        (ServiceUnavailableError("down"), StorageError, "unavailable"),
        (GrpcDeadlineExceededError("slow"), StorageError, "unavailable"),
        (SSLError("bad certificate"), StorageError, "TLS"),
        (StreamIsDeletedError("gone"), StorageError, "tombstoned"),
        (AccessDeniedError("no"), StorageError, "denied"),
        (MaximumAppendSizeExceededError("big"), InvalidInput, "too large"),
        (InvalidCommitPositionError("where"), InvalidInput, "not a position"),
        (UnknownError("?"), StorageError, "UnknownError"),
        (ValueError("odd"), StorageError, "client failed"),
    ],
)
def test_translation(error: Exception, expected: type[EventStoreException], words: str) -> None:
    translated = translate(error, "testing")
    assert type(translated) is expected
    assert words in str(translated)
    assert "testing" in str(translated)


@pytest.mark.parametrize(
    "error",
    [
        ServiceUnavailableError("down: pan-4111-x"),
        UnknownError("refused {'pan': 'pan-4111-x'}"),
        ValueError("odd pan-4111-x"),
    ],
)
def test_translation_does_not_quote_the_clients_message(error: Exception) -> None:
    # A server's message may quote what it refused: the text stays in the chained error.
    translated = translate(error, "testing")
    assert "pan-4111-x" not in str(translated)
    assert type(error).__name__ in str(translated)
    assert "__cause__" in str(translated)


@pytest.mark.parametrize("policy", [{"attempts": 0}, {"attempts": 1.5}, {"backoff": -1}])
def test_bad_retry_policies_are_rejected(policy: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        RetryPolicy(**policy)
