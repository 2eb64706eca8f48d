"""Every request carries a deadline, so a server that stops answering is a `StorageError` in time.

Regression (issue 11, defect 6): with the server frozen (SIGSTOP), an append blocked for good,
because the read it makes first carried no deadline (`kurrentdbclient` applies `DefaultDeadline`
to writes only).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import aclosing
from typing import Any

import pytest
from event_sourcery import StreamId, WrappedEvent
from event_sourcery.encryption import AesGcmEncryption
from event_sourcery.exceptions import InvalidInput, StorageError
from event_sourcery_kurrentdb import AsyncKurrentDBBackend, KurrentDBBackend, RetryPolicy
from kurrentdbclient import AsyncKurrentDBClient, KurrentDBClient

from ._events import Noted

#: Longest a call to a frozen server may take with a 1 s deadline and two tries (each try may
#: be repeated once by `kurrentdbclient` itself): about 4.5 s, with slack for a busy machine.
_BOUND = 15.0

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGSTOP")


@pytest.fixture
def frozen() -> Iterator[tuple[str, Callable[[], None]]]:
    """An emulator in its own process: its URI, and a function that freezes it (SIGSTOP)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "kurrentdb_emulator", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        uri = process.stdout.readline().strip()
        assert uri.startswith("kurrentdb://"), uri
        yield uri, lambda: os.kill(process.pid, signal.SIGSTOP)
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=10)


def _outcome_within(seconds: float, operation: Callable[[], object]) -> BaseException | None:
    """What `operation` raised (None if it returned); fails the test if it is still running."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            operation()
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)  # a hung call must not hang the suite
    thread.start()
    thread.join(seconds)
    assert outcome, f"still blocked after {seconds} s: the call carries no deadline"
    return outcome[0]


@pytest.mark.parametrize(
    ("option", "deadline"),
    [("&DefaultDeadline=1", None), ("", 1.0)],
    ids=["client-default-deadline", "backend-deadline"],
)
def test_an_append_to_a_frozen_server_is_a_storage_error_in_bounded_time(
    frozen: tuple[str, Callable[[], None]], option: str, deadline: float | None
) -> None:
    uri, freeze = frozen
    with KurrentDBClient(uri + option) as client:
        backend = KurrentDBBackend(
            client, deadline=deadline, retry=RetryPolicy(attempts=2, backoff=0.05)
        )
        stream = StreamId()
        backend.event_store.append(Noted(text="before"), stream_id=stream)  # connected
        freeze()

        started = time.monotonic()
        error = _outcome_within(
            _BOUND, lambda: backend.event_store.append(Noted(text="x"), stream_id=stream)
        )

        assert isinstance(error, StorageError), error
        assert "unavailable" in str(error)
        assert time.monotonic() - started < _BOUND


def test_subscribing_to_a_frozen_server_is_a_storage_error_in_bounded_time(
    frozen: tuple[str, Callable[[], None]],
) -> None:
    uri, freeze = frozen
    with KurrentDBClient(uri) as client:
        backend = KurrentDBBackend(client, deadline=1, retry=RetryPolicy(attempts=2, backoff=0.05))
        backend.event_store.append(Noted(text="before"), stream_id=StreamId())
        freeze()

        error = _outcome_within(_BOUND, lambda: next(backend.subscriber.build_iter(0.1)))

        assert isinstance(error, StorageError), error
        assert "subscribing" in str(error)


@pytest.mark.parametrize("operation", ["append", "subscribe"])
def test_the_async_backend_on_a_frozen_server_is_a_storage_error_in_bounded_time(
    frozen: tuple[str, Callable[[], None]], operation: str
) -> None:
    uri, freeze = frozen

    async def scenario() -> BaseException | None:
        client = AsyncKurrentDBClient(uri)
        backend = AsyncKurrentDBBackend(
            client, deadline=1, retry=RetryPolicy(attempts=2, backoff=0.05)
        )
        stream = StreamId()
        await backend.event_store.append(Noted(text="before"), stream_id=stream)  # connected
        freeze()
        try:
            if operation == "append":
                appending = backend.event_store.append(Noted(text="x"), stream_id=stream)
                await asyncio.wait_for(appending, _BOUND)
            else:
                async with aclosing(backend.subscriber.build_iter(0.1)) as records:
                    await asyncio.wait_for(anext(records), _BOUND)
        except (StorageError, TimeoutError) as exc:
            return exc
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 5)
        return None

    error = asyncio.run(scenario())
    assert isinstance(error, StorageError), error
    assert ("unavailable" if operation == "append" else "subscribing") in str(error)


class _Recording(KurrentDBClient):
    """A client that records the `timeout` of every call, then makes it on a real client."""

    def __init__(self, real: KurrentDBClient) -> None:  # no super(): no connection of its own
        self._is_closed = True  # closing this wrapper must not close `real`
        self.connection_spec = real.connection_spec
        self.real = real
        self.timeouts: dict[str, set[float | None]] = {}


def _recorded(name: str) -> Callable[..., Any]:
    def method(self: _Recording, *args: Any, **kwargs: Any) -> Any:
        self.timeouts.setdefault(name, set()).add(kwargs.get("timeout"))
        return getattr(self.real, name)(*args, **kwargs)

    return method


for _name, _member in vars(KurrentDBClient).items():
    if callable(_member) and "timeout" in inspect.signature(_member).parameters:
        setattr(_Recording, _name, _recorded(_name))


def test_every_client_call_carries_the_deadline(
    kurrentdb_client: KurrentDBClient, outbox_name: str
) -> None:
    recording = _Recording(kurrentdb_client)
    backend = KurrentDBBackend(recording, deadline=7, outbox_name=outbox_name)
    assert backend._connection.deadline == 7
    # Every strategy, through the public API: the store, snapshots, names, deletes, the
    # position, a subscription (its $tb reads too), the outbox, checkpoints and keys.
    store = backend.with_outbox().event_store
    named = StreamId(name=f"deadline-{StreamId().uuid.hex}")
    store.append(Noted(text="a"), stream_id=named)
    store.save_snapshot(named, WrappedEvent.wrap(Noted(text="snap"), version=1))
    store.load_stream(named)
    start = backend.event_store.position
    store.delete_stream(named)
    delivered = backend.subscriber.start_from(start).build_iter(0.1)
    next(delivered)
    delivered.close()
    backend.outbox.run(lambda *_: None)
    encrypted = backend.with_encryption(strategy=AesGcmEncryption())
    encrypted.encryption.shred(f"subject-{StreamId().uuid.hex}")

    subscribing = recording.timeouts.pop("subscribe_to_all")
    assert subscribing == {None}  # a gRPC deadline would end the subscription; see _client.py
    assert recording.timeouts, "the backend made no call"
    assert {name: {7} for name in recording.timeouts} == recording.timeouts


class _AsyncRecording(AsyncKurrentDBClient):
    """An asyncio client that records the `timeout` of every call it is asked to make."""

    timeouts: dict[str, set[float | None]]


def _async_recorded(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    async def method(self: _AsyncRecording, *args: Any, **kwargs: Any) -> Any:
        self.timeouts.setdefault(name, set()).add(kwargs.get("timeout"))
        return await original(self, *args, **kwargs)

    return method


for _name, _member in vars(AsyncKurrentDBClient).items():
    if inspect.iscoroutinefunction(_member) and "timeout" in inspect.signature(_member).parameters:
        setattr(_AsyncRecording, _name, _async_recorded(_name, _member))


def test_every_async_client_call_carries_the_deadline(kurrentdb_uri: str) -> None:
    async def scenario() -> dict[str, set[float | None]]:
        client = _AsyncRecording(kurrentdb_uri)
        client.timeouts = {}
        backend = AsyncKurrentDBBackend(client, deadline=7)
        store = backend.with_outbox().event_store
        named = StreamId(name=f"deadline-{StreamId().uuid.hex}")
        await store.append(Noted(text="a"), stream_id=named)
        await store.save_snapshot(named, WrappedEvent.wrap(Noted(text="snap"), version=1))
        await store.load_stream(named)
        start = await store.position()
        await store.delete_stream(named)
        async with aclosing(backend.subscriber.start_from(start).build_iter(0.1)) as records:
            await anext(records)
        encrypted = backend.with_encryption(strategy=AesGcmEncryption())
        await encrypted.encryption.ashred(f"subject-{StreamId().uuid.hex}")
        await client.close()
        return client.timeouts

    timeouts = asyncio.run(scenario())
    assert timeouts.pop("subscribe_to_all") == {None}  # a deadline would end it: _client.py
    assert timeouts, "the backend made no call"
    assert {name: {7} for name in timeouts} == timeouts


def test_the_client_default_deadline_is_used_unless_the_backend_has_one(
    kurrentdb_uri: str,
) -> None:
    joiner = "&" if "?" in kurrentdb_uri else "?"
    with KurrentDBClient(f"{kurrentdb_uri}{joiner}DefaultDeadline=4") as client:
        assert KurrentDBBackend(client)._connection.deadline == 4
        assert KurrentDBBackend(client, deadline=0.5)._connection.deadline == 0.5
    with KurrentDBClient(kurrentdb_uri) as client:
        assert KurrentDBBackend(client)._connection.deadline == 10


@pytest.mark.parametrize("deadline", [0, -1, float("inf"), float("nan"), True, "5"])
def test_a_bad_deadline_is_refused(kurrentdb_client: KurrentDBClient, deadline: Any) -> None:
    with pytest.raises(InvalidInput, match="deadline"):
        KurrentDBBackend(kurrentdb_client, deadline=deadline)
