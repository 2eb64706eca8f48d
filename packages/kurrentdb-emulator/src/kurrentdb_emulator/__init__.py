"""An in-memory KurrentDB test double that speaks the gRPC client protocol.

Start one in-process and point an unmodified ``kurrentdbclient`` at it::

    from kurrentdbclient import KurrentDBClient
    from kurrentdb_emulator import run_emulator

    with run_emulator() as emulator:
        client = KurrentDBClient(emulator.uri)

It is not a database: see the package README for what it does and does not emulate.
"""

from kurrentdb_emulator._certificates import self_signed_certificate
from kurrentdb_emulator._log import EventLog
from kurrentdb_emulator._server import Emulator, TlsCertificate, run_emulator

__all__ = [
    "Emulator",
    "EventLog",
    "TlsCertificate",
    "run_emulator",
    "self_signed_certificate",
]
