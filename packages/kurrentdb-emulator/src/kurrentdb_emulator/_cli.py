"""The ``kurrentdb-emulator`` command: serve until SIGINT or SIGTERM, then exit 0."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import quote

from kurrentdb_emulator._server import Emulator, TlsCertificate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kurrentdb-emulator",
        description=(
            "Serve KurrentDB's gRPC client protocol from memory (a test double, not a database). "
            "Prints the client URI once connections are accepted; stops on SIGINT or SIGTERM."
        ),
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; localhost: 127.0.0.1 and ::1 (default: %(default)s)",
    )
    parser.add_argument(
        "--advertise-host",
        metavar="HOST",
        help="host name in the printed URI and in gossip, which clients dial (default: --host)",
    )
    parser.add_argument(
        "--port", type=int, default=2113, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--tls-cert", type=Path, metavar="PATH", help="PEM certificate (chain): serve TLS"
    )
    parser.add_argument(
        "--tls-key", type=Path, metavar="PATH", help="PEM private key of --tls-cert"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        0 after a signal; 1 if the port cannot be bound (bad arguments exit with 2).
    """
    args = _parser().parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        _parser().error("--tls-cert and --tls-key go together")
    tls = None if args.tls_cert is None else TlsCertificate.from_files(args.tls_cert, args.tls_key)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    emulator = Emulator(host=args.host, port=args.port, tls=tls, advertise_host=args.advertise_host)
    try:
        emulator.start()
    except OSError as exc:
        print(f"kurrentdb-emulator: {exc}", file=sys.stderr)
        return 1
    uri = emulator.uri
    if args.tls_cert is not None:
        # Right for a self-signed certificate, which is its own CA; for a CA-signed one the
        # client needs the CA's file instead.
        uri += "&TlsCaFile=" + quote(str(args.tls_cert.resolve()))
    print(uri, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0
