"""Keep-alive HTTP/1.1 connections to the replicas: the InvokeEndpoint hop, kept lean.

An asyncio protocol with httptools' response parser (the parser uvicorn and the model server
use) does only what the hop needs: write a request, read one response, put the connection back
in the pool. It costs about half of what a general-purpose client (aiohttp) costs per request,
and this hop runs once per invocation on the server's own event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    #: Response headers with lower-cased names.
    headers: Mapping[str, str]


class ReplicaUnreachable(Exception):
    """The replica could not be reached (gone, refusing connections): nothing was sent."""


class ReplicaTimeout(Exception):
    """The replica took longer than the model timeout to answer."""


class ReplicaDisconnected(Exception):
    """The replica closed the connection before it answered (it died while working)."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._reply: asyncio.Future[Reply] | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self.reusable = False

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.reusable = True

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ReplicaDisconnected(f"malformed response: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ReplicaDisconnected("the replica closed the connection"))

    # -- httptools callbacks ----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        reply, self._reply = self._reply, None
        self.reusable = self._parser.should_keep_alive()
        if reply is not None and not reply.done():
            status = self._parser.get_status_code()
            reply.set_result(Reply(status, b"".join(self._body), self._headers))

    # -- requests ---------------------------------------------------------------------------

    async def exchange(self, request: bytes, timeout: float) -> Reply:
        assert self.transport is not None
        self._headers, self._body = {}, []
        self._reply = asyncio.get_running_loop().create_future()
        self.reusable = False
        self.transport.write(request)
        try:
            async with asyncio.timeout(timeout):
                return await self._reply
        except TimeoutError:
            self.close()
            raise ReplicaTimeout() from None

    def _fail(self, error: Exception) -> None:
        self.reusable = False
        reply, self._reply = self._reply, None
        if reply is not None and not reply.done():
            reply.set_exception(error)

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


class ConnectionPool:
    """Idle keep-alive connections by replica address, created in the server's event loop."""

    def __init__(self, idle_per_replica: int = 64) -> None:
        self._idle_per_replica = idle_per_replica
        self._idle: dict[str, list[_Connection]] = {}

    async def post(
        self,
        address: str,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
        timeout: float,
    ) -> Reply:
        """POST `body` to `address` + `path`. When a pooled connection turns out closed (the
        replica closed it while it sat idle, or died), the request goes again on a fresh
        connection, so a replica that is gone raises ReplicaUnreachable and the caller can
        send the request elsewhere."""
        url = urlsplit(address)
        head = [f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: {len(body)}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers.items()]
        request = "".join(head).encode("latin-1") + b"\r\n" + body
        connection = self._take_idle(address)
        reply: Reply | None = None
        if connection is not None:
            try:
                reply = await connection.exchange(request, timeout)
            except ReplicaDisconnected:  # it closed the idle connection as we wrote to it
                connection = None
        if connection is None or reply is None:
            connection = await self._connect(url.hostname or "127.0.0.1", url.port or 80)
            reply = await connection.exchange(request, timeout)
        if connection.reusable and len(self._idle.setdefault(address, [])) < self._idle_per_replica:
            self._idle[address].append(connection)
        else:
            connection.close()
        return reply

    def _take_idle(self, address: str) -> _Connection | None:
        idle = self._idle.get(address)
        while idle:
            connection = idle.pop()
            transport = connection.transport
            if connection.reusable and transport is not None and not transport.is_closing():
                return connection
        return None

    @staticmethod
    async def _connect(host: str, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(_Connection, host, port)
        except OSError as error:
            raise ReplicaUnreachable(str(error)) from None
        return connection

    def forget(self, address: str) -> None:
        """Close the idle connections to a replica that is gone."""
        for connection in self._idle.pop(address, []):
            connection.close()

    def close(self) -> None:
        for address in list(self._idle):
            self.forget(address)
