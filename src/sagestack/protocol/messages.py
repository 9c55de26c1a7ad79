"""The HTTP request and response as the protocol layer sees them: plain data, no framework.

Bodies are bytes, except where an operation streams (S3's PutObject, UploadPart, GetObject):
there the request carries a `BodyStream` read chunk by chunk and the response a
`StreamingPayload`, so an object of any size passes through without being held in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field


class ClientDisconnected(Exception):
    """The client closed the connection before its request body was complete."""


class BodyStream:
    """A request body still arriving: `async for chunk in stream` reads it once, in order.

    `read` exists so botocore's validator takes a stream for a blob member (it accepts any
    object with `read`); handlers iterate instead.
    """

    def __init__(
        self,
        receive: Callable[[], Awaitable[bytes | None]],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """`receive` returns the next chunk, or None at the end of the body. `headers` (lower-
        case) are the request's, for handlers that decode the framing themselves (aws-chunked)."""
        self._receive = receive
        self.headers: Mapping[str, str] = headers or {}
        self._done = False
        #: Bytes handed out so far.
        self.consumed = 0

    @classmethod
    def of(cls, data: bytes, headers: Mapping[str, str] | None = None) -> BodyStream:
        """A stream over bytes already in memory (tests, and bodies read before routing)."""
        pending = [data] if data else []

        async def receive() -> bytes | None:
            return pending.pop() if pending else None

        return cls(receive, headers)

    @property
    def complete(self) -> bool:
        """Whether the whole body has been read."""
        return self._done

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while not self._done:
            chunk = await self._receive()
            if chunk is None:
                self._done = True
                return
            if chunk:
                self.consumed += len(chunk)
                yield chunk

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def drain(self) -> None:
        """Read and drop what is left (so the client can be answered on a clean connection)."""
        async for _ in self:
            pass


@dataclass(slots=True)
class StreamingPayload:
    """A response body produced chunk by chunk; `status` overrides the operation's (206)."""

    chunks: AsyncIterator[bytes]
    status: int | None = None

    def read(self) -> bytes:  # pragma: no cover - present for botocore's validator only
        raise TypeError("a streaming payload is sent, never read")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request.

    `path` is the raw (still percent-encoded) path without the query string; `query` is the
    decoded query string as ordered pairs (a key may repeat; a key without `=` has value "");
    `headers` keys are lower-case. `stream` is set, and `body` empty, when the body is read
    by the handler as it arrives.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    host: str = ""
    stream: BodyStream | None = None

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def query_value(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None


@dataclass(slots=True)
class HttpResponse:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
