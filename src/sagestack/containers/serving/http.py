"""HTTP/1.1 for the model server: an asyncio protocol over httptools' parser (the parser
uvicorn uses), answering each request in the event loop's thread as soon as it is complete.

A replica is called through the platform's pooled keep-alive proxy at high rates and serves one
request at a time per worker (the model is CPU-bound and not assumed to be thread-safe), so the
request path here is one parse, one handler call, one write: no ASGI scope, no tasks, no thread
hop. The handler's time limit is an interval timer whose SIGALRM raises in the handler.
"""

from __future__ import annotations

import json
import logging
import signal
import traceback
from asyncio import BaseTransport, Protocol, Transport
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import cast

import httptools

from sagestack.containers.serving.errors import ErrorStyle, TextErrors
from sagestack.containers.serving.handlers import Answer, LoadedModel, failure_status

log = logging.getLogger("sagestack.serving")

_REASONS = {
    100: "Continue",
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    504: "Gateway Timeout",
}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_PING = Answer(200, b"", "text/plain")


class RequestTimeout(BaseException):
    """Raised into a handler that ran past SAGEMAKER_MODEL_SERVER_TIMEOUT. A BaseException, so
    the user's `except Exception` cannot swallow it."""


def _head(status: int, content_type: str, length: int, close: bool) -> bytes:
    reason = _REASONS.get(status, "Error")
    lines = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
    if status != 204:  # a 204 has no body, and says nothing of its length
        lines += f"Content-Length: {length}\r\n"
    if close:
        lines += "Connection: close\r\n"
    return (lines + "\r\n").encode("latin-1")


def _chunked_head(content_type: str) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode("latin-1")


class Application:
    """The routes: `/ping`, `/invocations`, `/execution-parameters`; 404 for any other. Errors
    are answered in the shape of the framework's own model server (`errors`)."""

    def __init__(
        self,
        model: LoadedModel,
        timeout: float,
        workers: int,
        payload_mb: int,
        errors: ErrorStyle | None = None,
    ) -> None:
        self.model = model
        self.errors = errors or TextErrors()
        self.timeout = timeout
        self.max_body = max(payload_mb, 100) * 1024 * 1024  # batch transform sends up to 100 MB
        parameters = {
            "MaxConcurrentTransforms": workers,
            "BatchStrategy": "MULTI_RECORD",
            "MaxPayloadInMB": payload_mb,
        }
        self._parameters = Answer(200, json.dumps(parameters).encode(), "application/json")
        self._armed = False

    def install_timer(self) -> None:
        """Take SIGALRM for the handler time limit (main thread only, before serving)."""
        signal.signal(signal.SIGALRM, self._alarm)

    def _alarm(self, signum: int, frame: FrameType | None) -> None:
        if self._armed:
            self._armed = False
            raise RequestTimeout

    def respond(
        self, method: bytes, path: bytes, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        if path == b"/invocations":
            if method != b"POST":
                return self.errors.refusal(405, "Use POST for /invocations")
            return self.invoke(headers, body)
        if path == b"/ping":
            if method in (b"GET", b"HEAD", b"POST"):
                return _PING
            return self.errors.refusal(405, "Use GET")
        if path == b"/execution-parameters":
            return self._parameters if method == b"GET" else self.errors.refusal(405, "Use GET")
        return self.errors.refusal(404, f"No route for {path.decode('latin-1')}")

    def invoke(self, headers: Mapping[str, str], body: bytes) -> Answer:
        return self.timed(self.model, headers, body)

    def timed(self, model: LoadedModel, headers: Mapping[str, str], body: bytes) -> Answer:
        """`model`'s answer within the time limit, a handler's failure as its HTTP status."""
        content_type = headers.get("content-type", "")
        accept = headers.get("accept", "")
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            answer = model.invoke(body, content_type, accept, headers)
            if answer.chunks is not None:
                # The first part is made here, under the time limit, so a handler that fails
                # before it yields anything still gets an error status, not a broken stream.
                first = next(answer.chunks, None)
                parts = answer.chunks if first is None else _prepend(first, answer.chunks)
                answer = Answer(200, b"", answer.content_type, parts)
            return answer
        except RequestTimeout:
            log.error("Invocation timed out after %gs", self.timeout)
            return self.errors.refusal(
                504, f"The model did not answer within {self.timeout:g} seconds"
            )
        except Exception as error:
            status = failure_status(error)
            if status >= 500:
                log.error("Invocation failed (%d):\n%s", status, traceback.format_exc().rstrip())
            else:
                log.warning("Invocation refused (%d): %s", status, error)
            return self.errors.failure(error)
        finally:
            self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)

    def stream(self, chunks: Iterator[bytes], write: Callable[[bytes], None]) -> bool:
        """Send a streamed answer's parts as chunks as they are made, under the same time
        limit; False when the handler failed or ran out of time midway (the caller then
        closes the connection without the final chunk, so the client sees the stream break)."""
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            for part in chunks:
                if part:
                    write(b"%x\r\n%b\r\n" % (len(part), part))
            write(b"0\r\n\r\n")
            return True
        except RequestTimeout:
            log.error("Streamed invocation timed out after %gs", self.timeout)
        except Exception:
            log.error("Streamed invocation failed:\n%s", traceback.format_exc().rstrip())
        finally:
            self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        return False


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


class HttpConnection(Protocol):
    """One client connection; requests on it (pipelined or not) are answered in order."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.transport: Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.size = 0

    def connection_made(self, transport: BaseTransport) -> None:
        self.transport = cast(Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._send(self.app.errors.refusal(400, "Malformed HTTP request"), close=True)

    # httptools callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = {}
        self.body = []
        self.size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if self.headers.get("expect", "").lower() == "100-continue" and self.transport:
            self.transport.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size <= self.app.max_body:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.size > self.app.max_body:
            self._send(self.app.errors.refusal(413, "The request body is too large"), close=True)
            return
        path = self.url.partition(b"?")[0]
        body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
        method = self.parser.get_method()
        answer = self.app.respond(method, path, self.headers, body)
        self._send(answer, close=not self.parser.should_keep_alive(), head_only=method == b"HEAD")

    def _send(self, answer: Answer, close: bool, head_only: bool = False) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if answer.chunks is not None:
            self.transport.write(_chunked_head(answer.content_type))
            if not self.app.stream(answer.chunks, self.transport.write) or close:
                self.transport.close()
            return
        payload = b"" if head_only else answer.body
        head = _head(answer.status, answer.content_type, len(answer.body), close)
        self.transport.write(head + payload)
        if close:
            self.transport.close()
