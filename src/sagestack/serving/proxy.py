"""Forwarding an invocation to a replica over pooled keep-alive connections (aiohttp)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from sagestack.serving.routing import Replica


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]


class ReplicaUnreachable(Exception):
    """The replica could not be reached (gone, refusing connections): nothing was sent."""


class ReplicaTimeout(Exception):
    """The replica took longer than the model timeout to answer."""


class Proxy:
    """One connection pool for all replicas, created in the server's event loop on first use."""

    def __init__(self, per_replica: int = 64) -> None:
        self._per_replica = per_replica
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=self._per_replica)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    async def invoke(
        self, replica: Replica, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> Reply:
        try:
            async with self._client().post(
                f"{replica.address}/invocations",
                data=body,
                headers=dict(headers),
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                content = await response.read()
                return Reply(response.status, content, dict(response.headers))
        except aiohttp.ClientConnectorError as error:
            raise ReplicaUnreachable(str(error)) from None
        except TimeoutError:
            raise ReplicaTimeout() from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
