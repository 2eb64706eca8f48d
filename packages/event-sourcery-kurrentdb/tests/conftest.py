"""Fixtures: a KurrentDB for the session, and clients and backends on it.

Without `KURRENTDB_URI` every test session (each xdist worker) starts the in-process emulator on
a free loopback port; with it (e.g. ``kurrentdb://127.0.0.1:2113?Tls=false``) the same tests run
against that real server. Either way the server is shared and never emptied: tests make fresh
stream ids and read positions relative to their start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest
from event_sourcery_kurrentdb import KurrentDBBackend
from kurrentdb_emulator import Emulator
from kurrentdbclient import KurrentDBClient


@pytest.fixture(scope="session")
def kurrentdb_uri() -> Iterator[str]:
    """The URI of the session's server: `KURRENTDB_URI`, else a fresh emulator's."""
    given = os.environ.get("KURRENTDB_URI")
    if given:
        yield given
        return
    # Each open subscription holds one server thread: allow many (iterators left to the GC).
    with Emulator(host="127.0.0.1", port=0, max_workers=512) as emulator:
        yield emulator.uri


@pytest.fixture(scope="session")
def kurrentdb_client(kurrentdb_uri: str) -> Iterator[KurrentDBClient]:
    """One client for the session, as an application would hold one."""
    client = KurrentDBClient(kurrentdb_uri)
    yield client
    client.close()


@pytest.fixture(scope="session")
def outbox_name() -> str:
    """This session's own outbox: parallel sessions on one server do not drain each other's."""
    return f"tests-{uuid4().hex}"


@pytest.fixture
def kurrentdb_backend(kurrentdb_client: KurrentDBClient, outbox_name: str) -> KurrentDBBackend:
    """A backend on the session's server."""
    return KurrentDBBackend(kurrentdb_client, outbox_name=outbox_name)
