"""A streamed answer from a replica: the status and headers first, then the body's parts as
they arrive (the model server sends them with chunked transfer encoding), for
InvokeEndpointWithResponseStream.

Each stream has its own connection, closed at the end: streams are long and few, and a
connection left half-read must never go back to the keep-alive pool.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import httptools

from sagestack.serving.connections import ReplicaDisconnected, ReplicaTimeout, ReplicaUnreachable

_END = b""


class _StreamConnection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self.head: asyncio.Future[tuple[int, dict[str, str]]] = (
            asyncio.get_running_loop().create_future()
        )
        self.parts: asyncio.Queue[bytes | Exception] = asyncio.Queue()
        self._headers: dict[str, str] = {}
        self._complete = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ReplicaDisconnected(f"malformed response: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._complete:
            self._fail(ReplicaDisconnected("the replica closed the connection"))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if not self.head.done():
            self.head.set_result((self._parser.get_status_code(), self._headers))

    def on_body(self, body: bytes) -> None:
        if body:
            self.parts.put_nowait(body)

    def on_message_complete(self) -> None:
        self._complete = True
        self.parts.put_nowait(_END)

    def _fail(self, error: Exception) -> None:
        if not self.head.done():
            self.head.set_exception(error)
        self.parts.put_nowait(error)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass(slots=True)
class StreamedReply:
    """A replica's streamed answer. `parts()` yields the body as it arrives; it raises
    ReplicaTimeout when the whole answer takes longer than the time limit and
    ReplicaDisconnected when the replica breaks the stream off."""

    status: int
    #: Response headers with lower-cased names.
    headers: Mapping[str, str]
    _connection: _StreamConnection
    _deadline: float
    _closed: bool = field(default=False)

    async def parts(self) -> AsyncIterator[bytes]:
        try:
            while True:
                remaining = self._deadline - time.monotonic()
                try:
                    async with asyncio.timeout(max(remaining, 0.0)):
                        part = await self._connection.parts.get()
                except TimeoutError:
                    raise ReplicaTimeout() from None
                if isinstance(part, Exception):
                    raise part
                if not part:  # the end (parts are never empty)
                    return
                yield part
        finally:
            self.close()

    async def read(self) -> bytes:
        """The whole body (an error answer's message)."""
        return b"".join([part async for part in self.parts()])

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._connection.close()


async def open_stream(
    address: str, path: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> StreamedReply:
    """POST `body` to `address` + `path` and return once the replica's status and headers are
    in; ReplicaUnreachable when nothing could be sent."""
    url = urlsplit(address)
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + timeout
    try:
        _, connection = await loop.create_connection(
            _StreamConnection, url.hostname or "127.0.0.1", url.port or 80
        )
    except OSError as error:
        raise ReplicaUnreachable(str(error)) from None
    head = [f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: {len(body)}\r\n"]
    head += [f"{name}: {value}\r\n" for name, value in headers.items()]
    head.append("Connection: close\r\n\r\n")
    assert connection.transport is not None
    connection.transport.write("".join(head).encode("latin-1") + body)
    try:
        async with asyncio.timeout(timeout):
            status, response_headers = await connection.head
    except TimeoutError:
        connection.close()
        raise ReplicaTimeout() from None
    except BaseException:
        connection.close()
        raise
    return StreamedReply(status, response_headers, connection, deadline)
