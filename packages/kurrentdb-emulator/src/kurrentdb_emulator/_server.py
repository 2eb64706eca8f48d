"""Starting and stopping the emulator's gRPC server, in-process."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import grpc
from kurrentdbclient.protos.v1 import gossip_pb2_grpc, persistent_pb2_grpc, streams_pb2_grpc

from kurrentdb_emulator._cluster import GossipService, PersistentSubscriptionsService
from kurrentdb_emulator._log import DEFAULT_MAX_APPEND_SIZE, EventLog
from kurrentdb_emulator._streams import StreamsService

# Every catch-up subscription holds a worker thread for as long as it runs.
DEFAULT_MAX_WORKERS = 64
# Tries to find a free port (port 0) that is free on both loopback addresses.
_BIND_ATTEMPTS = 5


def has_ipv6_loopback() -> bool:
    """Whether this machine can bind ``::1``."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _listen_hosts(host: str) -> list[str]:
    """The addresses to bind for ``host``: both loopback addresses for ``localhost``.

    A client resolves ``localhost`` to ``::1`` and ``127.0.0.1`` and may dial either first, so
    both must answer. gRPC would bind what it can of ``localhost`` and only log the rest.
    """
    if host != "localhost":
        return [host]
    return ["127.0.0.1", "::1"] if has_ipv6_loopback() else ["127.0.0.1"]


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, slots=True)
class TlsCertificate:
    """The server's TLS identity.

    Attributes:
        certificate_chain: The PEM certificate (chain) the server presents. It must name the
            host clients dial (for 127.0.0.1: an IP subject alternative name).
        private_key: The PEM private key of the certificate.
    """

    certificate_chain: bytes
    private_key: bytes

    @classmethod
    def from_files(cls, certificate_path: str | Path, key_path: str | Path) -> TlsCertificate:
        """Read a PEM certificate (chain) and its PEM private key from files."""
        return cls(Path(certificate_path).read_bytes(), Path(key_path).read_bytes())


class Emulator:
    """A KurrentDB test double serving the gRPC client protocol from memory.

    Example:
        >>> with Emulator(port=0) as emulator:  # doctest: +SKIP
        ...     client = KurrentDBClient(emulator.uri)
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TlsCertificate | None = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
        max_append_size: int = DEFAULT_MAX_APPEND_SIZE,
        advertise_host: str | None = None,
    ) -> None:
        """Configure an emulator; :meth:`start` binds and serves.

        Args:
            host: The address to listen on; ``localhost`` listens on ``127.0.0.1`` and ``::1``.
            port: The port to listen on; 0 picks a free one (see :attr:`port` once started).
            tls: Serve TLS with this certificate; None serves plaintext (``Tls=false``).
            max_workers: gRPC worker threads: the most concurrent calls, subscriptions included.
            max_append_size: The most bytes one append may carry (KurrentDB's default: 1 MiB).
            advertise_host: The host name in :attr:`uri` and in gossip, which clients dial
                (default: ``host``); e.g. ``localhost`` for a TLS certificate naming it.
        """
        self.host = host
        self.advertise_host = host if advertise_host is None else advertise_host
        self.tls = tls
        self.log = EventLog(max_append_size=max_append_size)
        self._requested_port = port
        self._port: int | None = None
        self._max_workers = max_workers
        self._server: grpc.Server | None = None

    @property
    def port(self) -> int:
        """The port the server listens on.

        Raises:
            RuntimeError: The emulator has not been started.
        """
        if self._port is None:
            raise RuntimeError(
                "the emulator is not started: call start() or use it in a with block"
            )
        return self._port

    @property
    def uri(self) -> str:
        """The connection string for ``kurrentdbclient``, e.g. ``kurrentdb://127.0.0.1:2113?Tls=false``.

        With TLS, ``kurrentdbclient`` insists on a username and password, so the URI carries
        KurrentDB's default ``admin:changeit`` (the emulator checks no credentials), and the
        client must trust the certificate: pass ``root_certificates=`` to the client, or add
        ``&TlsCaFile=<path>`` to this URI.
        """
        host = f"[{self.advertise_host}]" if ":" in self.advertise_host else self.advertise_host
        if self.tls is None:
            return f"kurrentdb://{host}:{self.port}?Tls=false"
        return f"kurrentdb://admin:changeit@{host}:{self.port}?Tls=true"

    def start(self) -> Emulator:
        """Bind the port and start serving; returns when connections are accepted.

        Raises:
            OSError: The address could not be bound.
            RuntimeError: The emulator was already started (an emulator runs once).
        """
        if self._port is not None:
            raise RuntimeError("the emulator was already started; an emulator runs once")
        hosts = _listen_hosts(self.host)
        for attempt in range(1, _BIND_ATTEMPTS + 1):
            server = grpc.server(
                futures.ThreadPoolExecutor(
                    max_workers=self._max_workers, thread_name_prefix="kurrentdb-emulator"
                ),
                # gRPC sets SO_REUSEPORT by default, which would let two emulators share a port.
                options=[("grpc.so_reuseport", 0)],
            )
            try:
                port = self._bind(server, hosts)
            except OSError:
                server.stop(None)
                # Port 0: the port found free on one address may be taken on the other.
                if self._requested_port != 0 or attempt == _BIND_ATTEMPTS:
                    raise
                continue
            break
        streams_pb2_grpc.add_StreamsServicer_to_server(StreamsService(self.log), server)  # type: ignore[no-untyped-call]
        gossip = GossipService(node_id=self.log.node_id, host=self.advertise_host, port=port)
        gossip_pb2_grpc.add_GossipServicer_to_server(gossip, server)  # type: ignore[no-untyped-call]
        persistent_pb2_grpc.add_PersistentSubscriptionsServicer_to_server(  # type: ignore[no-untyped-call]
            PersistentSubscriptionsService(), server
        )
        server.start()
        self._server, self._port = server, port
        return self

    def _bind(self, server: grpc.Server, hosts: list[str]) -> int:
        """Bind every one of ``hosts`` on one port (the requested one, or the first found)."""
        port = self._requested_port
        for host in hosts:
            address = _address(host, port)
            try:
                if self.tls is None:
                    bound = server.add_insecure_port(address)
                else:
                    credentials = grpc.ssl_server_credentials(
                        [(self.tls.private_key, self.tls.certificate_chain)]
                    )
                    bound = server.add_secure_port(address, credentials)
            except RuntimeError as exc:
                raise OSError(f"cannot listen on {address}: {exc}") from exc
            if bound == 0:
                raise OSError(f"cannot listen on {address}")
            port = bound
        return port

    def stop(self, grace: float | None = 1.0) -> None:
        """Stop serving: open calls get ``grace`` seconds, then are cancelled. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        # Subscriptions wait on the log; closing it lets their threads end with the calls.
        self.log.close()
        server.stop(grace).wait()

    def __enter__(self) -> Emulator:
        """Start the emulator (see :meth:`start`)."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the emulator (see :meth:`stop`)."""
        self.stop()


@contextmanager
def run_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: TlsCertificate | None = None,
    advertise_host: str | None = None,
) -> Iterator[Emulator]:
    """Run an emulator for the duration of a ``with`` block.

    Args:
        host: The address to listen on; ``localhost`` listens on ``127.0.0.1`` and ``::1``.
        port: The port; 0 picks a free one.
        tls: Serve TLS with this certificate; None serves plaintext.
        advertise_host: The host name in the URI and in gossip (default: ``host``).

    Yields:
        The started emulator; ``emulator.uri`` is the client's connection string.
    """
    with Emulator(host=host, port=port, tls=tls, advertise_host=advertise_host) as emulator:
        yield emulator
