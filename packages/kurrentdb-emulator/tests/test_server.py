"""Starting, stopping and sharing the emulator: ports, TLS, threads, the public API."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import kurrentdb_emulator
import pytest
from kurrentdb_emulator import Emulator, TlsCertificate, run_emulator
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import KurrentDBClientError, WrongCurrentVersionError


def test_public_api_is_pinned() -> None:
    assert kurrentdb_emulator.__all__ == [
        "Emulator",
        "EventLog",
        "TlsCertificate",
        "run_emulator",
        "self_signed_certificate",
    ]


def test_port_zero_picks_a_free_port_named_in_the_uri() -> None:
    with run_emulator(port=0) as emulator:
        assert emulator.port > 0
        assert emulator.uri == f"kurrentdb://127.0.0.1:{emulator.port}?Tls=false"


def test_tls_uri_carries_the_credentials_the_client_insists_on(certificate: TlsCertificate) -> None:
    with run_emulator(tls=certificate) as emulator:
        assert emulator.uri == f"kurrentdb://admin:changeit@127.0.0.1:{emulator.port}?Tls=true"


def test_a_port_in_use_is_refused(plaintext_emulator: Emulator) -> None:
    with pytest.raises(OSError, match="cannot listen"):
        Emulator(port=plaintext_emulator.port).start()


def test_an_emulator_runs_only_once() -> None:
    emulator = Emulator().start()
    emulator.stop()
    emulator.stop()

    with pytest.raises(RuntimeError, match="runs once"):
        emulator.start()


def test_port_is_unknown_before_start() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = Emulator().port


def test_tls_client_that_does_not_trust_the_certificate_cannot_connect(
    tls_emulator: Emulator,
) -> None:
    with KurrentDBClient(tls_emulator.uri) as client, pytest.raises(KurrentDBClientError):
        client.get_commit_position(timeout=2)


def test_tls_ca_file_in_the_uri_is_honoured(
    tls_emulator: Emulator, certificate: TlsCertificate, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(certificate.certificate_chain)

    with KurrentDBClient(f"{tls_emulator.uri}&TlsCaFile={ca_file}") as client:
        assert client.get_commit_position(filter_exclude=()) > 0


def test_concurrent_appends_are_serialised(plaintext_emulator: Emulator) -> None:
    stream = f"test-{uuid.uuid4()}"
    positions: list[int] = []

    def writer() -> None:
        with KurrentDBClient(plaintext_emulator.uri) as client:
            for _ in range(10):
                event = NewEvent("Counted", b"{}")
                positions.append(
                    client.append_to_stream(stream, current_version=StreamState.ANY, events=[event])
                )

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with KurrentDBClient(plaintext_emulator.uri) as client:
        recorded = client.get_stream(stream)
    assert [e.stream_position for e in recorded] == list(range(60))
    assert sorted(positions) == [e.commit_position for e in recorded]


def test_concurrent_appends_expecting_the_same_version_let_one_writer_win(
    plaintext_emulator: Emulator,
) -> None:
    stream = f"test-{uuid.uuid4()}"
    outcomes: list[str] = []
    barrier = threading.Barrier(5)

    def writer() -> None:
        with KurrentDBClient(plaintext_emulator.uri) as client:
            barrier.wait()
            try:
                client.append_to_stream(
                    stream, current_version=StreamState.NO_STREAM, events=[NewEvent("A", b"{}")]
                )
            except WrongCurrentVersionError:
                outcomes.append("conflict")
            else:
                outcomes.append("appended")

    threads = [threading.Thread(target=writer) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["appended"] + ["conflict"] * 4


def test_stopping_the_emulator_ends_open_subscriptions() -> None:
    emulator = Emulator().start()
    client = KurrentDBClient(emulator.uri)
    subscription = client.subscribe_to_all(timeout=30)
    ended = threading.Event()

    def consume() -> None:
        try:
            for _ in subscription:
                pass
        except KurrentDBClientError:
            pass
        ended.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    emulator.stop(grace=0.5)

    assert ended.wait(timeout=5)
    consumer.join()
    client.close()
