"""Gossip (cluster discovery) and the persistent-subscriptions stand-in."""

from __future__ import annotations

import socket

import grpc
import pytest
from kurrentdb_emulator import Emulator
from kurrentdb_emulator._server import has_ipv6_loopback
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import GrpcError


def test_gossip_reports_one_alive_leader_at_the_emulators_address(
    client: KurrentDBClient, emulator: Emulator
) -> None:
    members = client.read_gossip()

    assert [(m.state, m.address, m.port) for m in members] == [
        ("NODE_STATE_LEADER", emulator.host, emulator.port)
    ]


def test_discover_uri_connects_through_gossip(
    plaintext_emulator: Emulator, stream_name: str
) -> None:
    uri = f"kurrentdb+discover://{plaintext_emulator.host}:{plaintext_emulator.port}?Tls=false"

    with KurrentDBClient(uri) as client:
        client.append_to_stream(
            stream_name, current_version=StreamState.NO_STREAM, events=[NewEvent("A", b"{}")]
        )
        assert client.get_current_version(stream_name) == 0


def test_two_seed_addresses_connect_through_gossip(
    plaintext_emulator: Emulator, stream_name: str
) -> None:
    target = f"{plaintext_emulator.host}:{plaintext_emulator.port}"

    with KurrentDBClient(f"kurrentdb://{target},{target}?Tls=false") as client:
        assert client.get_stream_metadata(stream_name) == ({}, StreamState.NO_STREAM)


def test_persistent_subscription_list_is_empty(client: KurrentDBClient) -> None:
    assert client.list_subscriptions() == []
    assert client.list_subscriptions_to_stream("anything") == []


def test_other_persistent_subscription_calls_are_unimplemented(client: KurrentDBClient) -> None:
    with pytest.raises(GrpcError, match="not implemented by kurrentdb-emulator"):
        client.create_subscription_to_all("group")


def test_services_the_client_does_not_need_are_not_served(client: KurrentDBClient) -> None:
    with pytest.raises(GrpcError) as raised:
        client.get_projection_state("anything")

    assert "UNIMPLEMENTED" in str(raised.value)


def test_an_unknown_method_answers_unimplemented(channel: grpc.Channel) -> None:
    method = "/event_store.client.server_features.ServerFeatures/GetSupportedMethods"
    call: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(method)

    with pytest.raises(grpc.RpcError) as raised:
        call(b"", timeout=5)

    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback here")


@needs_ipv6
def test_localhost_listens_on_both_loopback_addresses(stream_name: str) -> None:
    with Emulator(host="localhost") as emulator:
        for host in ("127.0.0.1", "[::1]"):  # a client dialling localhost may get either
            with KurrentDBClient(f"kurrentdb://{host}:{emulator.port}?Tls=false") as client:
                client.append_to_stream(
                    stream_name, current_version=StreamState.ANY, events=[NewEvent("A", b"{}")]
                )
        assert emulator.uri.startswith("kurrentdb://localhost:")


@needs_ipv6
def test_localhost_refuses_to_serve_one_loopback_address_only() -> None:
    # gRPC alone binds what it can of `localhost` and only logs the rest: a client dialling
    # localhost then sometimes got "connection refused" from ::1.
    with socket.socket(socket.AF_INET6) as squatter:
        squatter.bind(("::1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]

        with pytest.raises(OSError, match=r"\[::1\]"):
            Emulator(host="localhost", port=taken).start()


def test_gossip_advertises_the_advertised_host() -> None:
    with Emulator(host="127.0.0.1", advertise_host="localhost") as emulator:
        assert emulator.uri.startswith("kurrentdb://localhost:")
        uri = f"kurrentdb://127.0.0.1:{emulator.port}?Tls=false"
        with KurrentDBClient(uri) as client:
            members = client.read_gossip()

    assert [(m.address, m.port) for m in members] == [("localhost", emulator.port)]
