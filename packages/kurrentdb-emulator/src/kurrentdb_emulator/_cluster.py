"""The services around the streams: Gossip (a one-node cluster), empty PersistentSubscriptions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import NoReturn

import grpc
from kurrentdbclient.protos.v1 import (
    gossip_pb2,
    gossip_pb2_grpc,
    persistent_pb2,
    persistent_pb2_grpc,
    shared_pb2,
)


class GossipService(gossip_pb2_grpc.GossipServicer):
    """Reports a cluster of one alive leader at the emulator's own address.

    Clients read gossip to discover nodes (``kurrentdb+discover://`` or several hosts in the URI);
    with a single leader they stay on the address they dialled.
    """

    def __init__(self, *, node_id: str, host: str, port: int) -> None:
        """Describe the node ``node_id`` listening at ``host``:``port``."""
        self._node_id = node_id
        self._host = host
        self._port = port

    def Read(  # noqa: N802 (the RPC's name)
        self, request: shared_pb2.Empty, context: grpc.ServicerContext
    ) -> gossip_pb2.ClusterInfo:
        """The cluster: this node, alive and leader."""
        member = gossip_pb2.MemberInfo(
            instance_id=shared_pb2.UUID(string=self._node_id),
            time_stamp=time.time_ns() // 100,
            state=gossip_pb2.MemberInfo.VNodeState.Leader,
            is_alive=True,
            http_end_point=gossip_pb2.EndPoint(address=self._host, port=self._port),
        )
        return gossip_pb2.ClusterInfo(members=[member])


class PersistentSubscriptionsService(persistent_pb2_grpc.PersistentSubscriptionsServicer):
    """Lists no persistent subscriptions; every other call is refused as unimplemented."""

    def List(  # noqa: N802
        self, request: persistent_pb2.ListReq, context: grpc.ServicerContext
    ) -> persistent_pb2.ListResp:
        """No subscription exists."""
        return persistent_pb2.ListResp()

    def Create(  # noqa: N802
        self, request: persistent_pb2.CreateReq, context: grpc.ServicerContext
    ) -> persistent_pb2.CreateResp:
        """Not implemented."""
        _unimplemented(context)

    def Update(  # noqa: N802
        self, request: persistent_pb2.UpdateReq, context: grpc.ServicerContext
    ) -> persistent_pb2.UpdateResp:
        """Not implemented."""
        _unimplemented(context)

    def Delete(  # noqa: N802
        self, request: persistent_pb2.DeleteReq, context: grpc.ServicerContext
    ) -> persistent_pb2.DeleteResp:
        """Not implemented."""
        _unimplemented(context)

    def Read(  # noqa: N802
        self, request_iterator: Iterator[persistent_pb2.ReadReq], context: grpc.ServicerContext
    ) -> Iterator[persistent_pb2.ReadResp]:
        """Not implemented."""
        _unimplemented(context)

    def GetInfo(  # noqa: N802
        self, request: persistent_pb2.GetInfoReq, context: grpc.ServicerContext
    ) -> persistent_pb2.GetInfoResp:
        """Not implemented."""
        _unimplemented(context)

    def ReplayParked(  # noqa: N802
        self, request: persistent_pb2.ReplayParkedReq, context: grpc.ServicerContext
    ) -> persistent_pb2.ReplayParkedResp:
        """Not implemented."""
        _unimplemented(context)

    def RestartSubsystem(  # noqa: N802
        self, request: shared_pb2.Empty, context: grpc.ServicerContext
    ) -> shared_pb2.Empty:
        """Not implemented."""
        _unimplemented(context)


def _unimplemented(context: grpc.ServicerContext) -> NoReturn:
    # An explicit abort keeps grpc from logging a traceback for an expected refusal.
    context.abort(
        grpc.StatusCode.UNIMPLEMENTED,
        "persistent subscriptions are not implemented by kurrentdb-emulator",
    )
