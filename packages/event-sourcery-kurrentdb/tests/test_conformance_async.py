"""The conformance kit, in asyncio mode, against `AsyncKurrentDBBackend` (emulator, or
`KURRENTDB_URI`).

Each test gets an `AsyncKurrentDBClient` of its own: its gRPC channel belongs to the test's
event loop, which the client connects on at its first request. The outbox relay and projectors
are the asyncio backend's own (`AsyncOutbox`, `AsyncProjector`): no sync twin.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from event_sourcery import AsyncBackend
from event_sourcery_kurrentdb import AsyncKurrentDBBackend
from event_sourcery_testing.conformance import AsyncBackendConformance
from kurrentdbclient import AsyncKurrentDBClient
from kurrentdbclient.exceptions import ProgrammingError

from . import test_conformance


class _ClientPerLoop:
    """The test's client on the test's loop, and a client of its own on any other loop.

    The kit runs a sync listener's call to the store, made inside an append, to its end on a
    loop of its own (see `EventLoopThread`); a gRPC channel serves the loop it was made on
    only, so that call talks through another client to the same server.

    The kit's harness cannot spare us this: while the sync listener runs, the test's loop is
    blocked inside the outer append (its thread is the listener's), and an asyncio loop cannot
    be re-entered, so the nested coroutine can only run on another loop. The SQL drivers
    bind nothing to a loop between awaits; a `grpc.aio` channel does, at its creation.
    """

    def __init__(self, client: AsyncKurrentDBClient, uri: str) -> None:
        self._uri = uri
        self._clients: dict[asyncio.AbstractEventLoop, AsyncKurrentDBClient] = {}
        self._main = client

    def __getattr__(self, name: str) -> Any:
        loop = asyncio.get_running_loop()
        if not self._clients:
            self._clients[loop] = self._main
        if loop not in self._clients:
            self._clients[loop] = AsyncKurrentDBClient(self._uri)
        return getattr(self._clients[loop], name)


class TestAsyncKurrentDBBackend(AsyncBackendConformance):
    # KurrentDB's own capabilities, whichever API: see the sync kit's test.
    capabilities = test_conformance.TestKurrentDBBackend.capabilities

    @pytest.fixture
    def async_backend(self, kurrentdb_uri: str, outbox_name: str) -> AsyncBackend:
        client = AsyncKurrentDBClient(kurrentdb_uri)
        backend = AsyncKurrentDBBackend(client, outbox_name=outbox_name)
        backend._connection.client = _ClientPerLoop(client, kurrentdb_uri)  # type: ignore[assignment]
        return backend

    async def finish(self, backend: AsyncBackend) -> None:
        assert isinstance(backend, AsyncKurrentDBBackend)
        with contextlib.suppress(ProgrammingError):  # a test that never connected it
            await backend.client.close()
