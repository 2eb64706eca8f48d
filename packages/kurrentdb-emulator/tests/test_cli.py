"""The ``kurrentdb-emulator`` command, run as a separate process."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kurrentdb_emulator import Emulator, TlsCertificate
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState


@contextmanager
def cli(*args: str) -> Iterator[subprocess.Popen[str]]:
    """Run ``python -m kurrentdb_emulator ARGS``; kill it if the test leaves it running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "kurrentdb_emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_cli_prints_one_uri_line_and_exits_zero_on_sigterm() -> None:
    with cli("--host", "127.0.0.1", "--port", "0") as process:
        assert process.stdout is not None
        uri = process.stdout.readline().strip()
        assert uri.startswith("kurrentdb://127.0.0.1:")

        with KurrentDBClient(uri) as client:
            client.append_to_stream(
                "cli", current_version=StreamState.NO_STREAM, events=[NewEvent("A", b"{}")]
            )
            assert client.get_current_version("cli") == 0

        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=10)

    assert process.returncode == 0
    assert rest == ""


def test_cli_serves_tls_and_names_the_certificate_as_the_ca_file(
    certificate: TlsCertificate, tmp_path: Path
) -> None:
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(certificate.certificate_chain)
    key_file.write_bytes(certificate.private_key)

    with cli("--port", "0", "--tls-cert", str(cert_file), "--tls-key", str(key_file)) as process:
        assert process.stdout is not None
        uri = process.stdout.readline().strip()
        assert "Tls=true" in uri
        assert "TlsCaFile=" in uri

        with KurrentDBClient(uri) as client:
            assert client.get_commit_position(filter_exclude=()) > 0

        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)

    assert process.returncode == 0


def test_cli_exits_one_when_the_port_is_taken(plaintext_emulator: Emulator) -> None:
    with cli("--port", str(plaintext_emulator.port)) as process:
        out, err = process.communicate(timeout=10)

    assert process.returncode == 1
    assert out == ""
    assert "cannot listen" in err


def test_cli_requires_the_key_with_the_certificate(tmp_path: Path) -> None:
    with cli("--tls-cert", str(tmp_path / "server.pem")) as process:
        _, err = process.communicate(timeout=10)

    assert process.returncode == 2
    assert "--tls-cert and --tls-key go together" in err
