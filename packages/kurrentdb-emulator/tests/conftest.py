"""Fixtures: one emulator per transport (plaintext and TLS) per test session, and clients for it.

Tests share an emulator as they would share a real server: each makes its own stream names and
reads ``$all`` relative to a position it takes first, so the suite can run in parallel.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
from kurrentdb_emulator import Emulator, TlsCertificate, self_signed_certificate
from kurrentdbclient import KurrentDBClient


def root_certificates(emulator: Emulator) -> bytes | None:
    """What a client must trust to reach ``emulator``: its self-signed certificate, if any."""
    return None if emulator.tls is None else emulator.tls.certificate_chain


@pytest.fixture(scope="session")
def certificate() -> TlsCertificate:
    """The session's self-signed server certificate."""
    return self_signed_certificate()


@pytest.fixture(scope="session")
def plaintext_emulator() -> Iterator[Emulator]:
    """An emulator without TLS."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def tls_emulator(certificate: TlsCertificate) -> Iterator[Emulator]:
    """An emulator serving TLS with the session's certificate."""
    with Emulator(tls=certificate) as emulator:
        yield emulator


@pytest.fixture(params=["plaintext", "tls"])
def emulator(request: pytest.FixtureRequest) -> Emulator:
    """Each emulator in turn: a test that uses it runs over plaintext and over TLS."""
    found: Emulator = request.getfixturevalue(f"{request.param}_emulator")
    return found


@pytest.fixture
def client(emulator: Emulator) -> Iterator[KurrentDBClient]:
    """A synchronous ``KurrentDBClient`` connected to :func:`emulator`."""
    connected = KurrentDBClient(emulator.uri, root_certificates=root_certificates(emulator))
    yield connected
    connected.close()


@pytest.fixture
def plaintext_client(plaintext_emulator: Emulator) -> Iterator[KurrentDBClient]:
    """A client for tests whose subject does not depend on the transport."""
    connected = KurrentDBClient(plaintext_emulator.uri)
    yield connected
    connected.close()


@pytest.fixture
def channel(emulator: Emulator) -> Iterator[grpc.Channel]:
    """A raw gRPC channel to :func:`emulator`, for checking what goes over the wire."""
    target = f"{emulator.host}:{emulator.port}"
    certificates = root_certificates(emulator)
    if certificates is None:
        opened = grpc.insecure_channel(target)
    else:
        credentials = grpc.ssl_channel_credentials(root_certificates=certificates)
        opened = grpc.secure_channel(target, credentials)
    yield opened
    opened.close()


@pytest.fixture
def stream_name() -> str:
    """A stream name no other test uses."""
    return f"test-{uuid.uuid4()}"
