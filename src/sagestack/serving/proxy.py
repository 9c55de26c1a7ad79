"""Forwarding an invocation to a replica over pooled keep-alive connections."""

from __future__ import annotations

from collections.abc import Mapping

from sagestack.serving.connections import (
    ConnectionPool,
    ReplicaDisconnected,
    ReplicaTimeout,
    ReplicaUnreachable,
    Reply,
)
from sagestack.serving.routing import Replica
from sagestack.serving.streaming import StreamedReply, open_stream

__all__ = [
    "Proxy",
    "ReplicaDisconnected",
    "ReplicaTimeout",
    "ReplicaUnreachable",
    "Reply",
    "StreamedReply",
]


class Proxy:
    """One connection pool for all replicas, used from the server's event loop."""

    def __init__(self, idle_per_replica: int = 64) -> None:
        self._pool = ConnectionPool(idle_per_replica)

    async def invoke(
        self, replica: Replica, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> Reply:
        """The replica's answer to POST /invocations; response header names are lower-case."""
        return await self._pool.post(replica.address, "/invocations", body, headers, timeout)

    async def stream(
        self, replica: Replica, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> StreamedReply:
        """The replica's answer to POST /invocations, its body read as it arrives."""
        return await open_stream(replica.address, "/invocations", body, headers, timeout)

    async def close(self) -> None:
        self._pool.close()
