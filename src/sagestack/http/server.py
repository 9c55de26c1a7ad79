"""The ASGI application: one port, every service.

It reads a request (refusing oversized bodies before reading them), answers sagestack's own
`/_sagestack/*` routes, routes everything else to a service and hands it to the pipeline, then
writes one log line per request: service.operation, status, milliseconds, request id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel

from sagestack.api.context import Authenticator, Caller, SignedRequest, accept_any
from sagestack.api.pipeline import Pipeline, ServiceEndpoint
from sagestack.http.identity import CredentialScope, credential_scope, presign_expiry
from sagestack.http.service_routing import ServiceRouter, path_style
from sagestack.protocol.messages import BodyStream, ClientDisconnected, HttpRequest, HttpResponse
from sagestack.spec.errors import (
    RequestEntityTooLarge,
    ServiceError,
    UnknownOperationException,
)

LOG = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Intake:
    """A request routed and ready for the pipeline (its body read, or left to stream)."""

    request: HttpRequest
    creds: CredentialScope | None
    endpoint: ServiceEndpoint | None
    operation: OperationModel | None
    too_large: bool


class SagestackApp:
    def __init__(
        self,
        router: ServiceRouter,
        pipeline: Pipeline,
        *,
        account_id: str,
        default_region: str,
        max_body_bytes: int,
        reset: Callable[[], None] | None = None,
        version: str = "",
        authenticate: Authenticator = accept_any,
        on_shutdown: Callable[[], None] = lambda: None,
    ) -> None:
        self._router = router
        self._pipeline = pipeline
        self._account_id = account_id
        self._default_region = default_region
        self._max_body_bytes = max_body_bytes
        self._reset = reset
        self._version = version
        self._authenticate = authenticate
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self._on_shutdown)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1")
        if path.startswith("/_sagestack/"):
            await _send(send, self._internal(scope["method"], path))
            return
        request = HttpRequest(
            method=scope["method"],
            path=path,
            query=tuple(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)),
            headers=headers,
            host=headers.get("host", ""),
        )
        intake = await self._intake(request, receive)
        if intake.endpoint is None or intake.too_large:
            response, label, code = self._refuse(
                intake.request, intake.endpoint, request_id, intake.too_large
            )
        else:
            response, label, code = await self._answer(
                intake, intake.endpoint, request_id, path, scope["query_string"]
            )
        await _send(send, response)
        LOG.info(
            "%s %d %.1fms %s%s",
            label,
            response.status,
            (time.perf_counter() - started) * 1000,
            request_id,
            f" {code}" if code else "",
        )

    async def _intake(self, request: HttpRequest, receive: Receive) -> _Intake:
        """Route the request, then read its body, or hand the body to a handler that streams
        it (a query-protocol request is read first: it names its service in its body)."""
        too_large = False
        form = _is_form(request)
        if form:
            body = await _read_body(receive, self._max_body_bytes)
            request = replace(request, body=body or b"")
            too_large = body is None
        creds = credential_scope(request)
        endpoint = self._router.route(request, creds)
        if endpoint is not None and endpoint.name == "s3":
            request = path_style(request)
        operation = None
        if endpoint is not None and not form:
            operation = self._pipeline.resolve(endpoint, request)
            if self._pipeline.streams_body(endpoint, operation):
                request = replace(request, stream=BodyStream(_chunks(receive), request.headers))
            else:
                body = await _read_body(receive, self._max_body_bytes)
                request = replace(request, body=body or b"")
                too_large = body is None
        return _Intake(request, creds, endpoint, operation, too_large)

    async def _answer(
        self, intake: _Intake, endpoint: ServiceEndpoint, request_id: str, path: str, query: bytes
    ) -> tuple[HttpResponse, str, str | None]:
        """`path` and `query` are the request's as received: what its signature covers."""
        request, creds = intake.request, intake.creds
        body = request.body if request.stream is None else None
        caller = Caller(
            access_key_id=creds.access_key_id if creds else "",
            account=self._account_id,
            region=creds.region if creds else self._default_region,
            session_token=request.headers.get("x-amz-security-token")
            or request.query_value("X-Amz-Security-Token"),
            request=SignedRequest(request.method, path, query, request.headers, body, request.path),
        )
        try:
            now = time.time()
            expiry = presign_expiry(request)
            if expiry is not None and expiry < now:
                raise ServiceError("Request has expired", code="AccessDenied", status=403)
            caller = self._authenticate(caller, now)
        except ServiceError as error:
            response = endpoint.protocol.serialize_error(
                error, None, request_id, method=request.method
            )
            if request.stream is not None:  # its body stays unread: see below
                response.headers.append(("connection", "close"))
            return response, f"{endpoint.name}.?", error.code
        outcome = await self._pipeline.handle(
            endpoint, request, caller, request_id, intake.operation
        )
        if request.stream is not None and not request.stream.complete:
            # Answered before its body was read (an error, or a final status instead of
            # 100 Continue): the unread body makes the connection unusable.
            outcome.response.headers.append(("connection", "close"))
        return outcome.response, f"{endpoint.name}.{outcome.operation}", outcome.error_code

    def _refuse(
        self,
        request: HttpRequest,
        endpoint: ServiceEndpoint | None,
        request_id: str,
        too_large: bool,
    ) -> tuple[HttpResponse, str, str | None]:
        error: ServiceError
        if too_large:
            error = RequestEntityTooLarge(
                f"Request body exceeds the maximum of {self._max_body_bytes} bytes."
            )
        else:
            target = request.headers.get("x-amz-target", "")
            error = UnknownOperationException(f"Operation {target} is not supported.")
        if endpoint is not None:
            response = endpoint.protocol.serialize_error(
                error, None, request_id, method=request.method
            )
            return response, f"{endpoint.name}.?", error.code
        return _json_error(error, request_id), "?", error.code

    def _internal(self, method: str, path: str) -> HttpResponse:
        if path == "/_sagestack/health" and method in {"GET", "HEAD"}:
            services = sorted(self._router.endpoints)
            return _json(200, {"status": "ok", "version": self._version, "services": services})
        if path == "/_sagestack/reset" and self._reset is not None:
            if method != "POST":
                return _json(405, {"message": "Use POST to reset."})
            self._reset()
            LOG.warning("all state was reset through /_sagestack/reset")
            return _json(200, {"reset": True})
        return _json(404, {"message": f"No sagestack route {method} {path}."})


async def _lifespan(receive: Receive, send: Send, on_shutdown: Callable[[], None]) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            # Here, not after the server returns: uvicorn re-raises SIGTERM once it has shut
            # down, which ends the process before any code after it runs.
            await asyncio.to_thread(on_shutdown)
            await send({"type": "lifespan.shutdown.complete"})
            return


def _is_form(request: HttpRequest) -> bool:
    return request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    )


def _chunks(receive: Receive) -> Callable[[], Awaitable[bytes | None]]:
    """The body's chunks as ASGI delivers them, then None; a disconnect raises."""
    finished = False

    async def next_chunk() -> bytes | None:
        nonlocal finished
        if finished:
            return None
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        finished = not message.get("more_body", False)
        chunk: bytes = message.get("body", b"")
        return chunk

    return next_chunk


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when it is larger than `limit`.

    An oversized body is still read to its end (and dropped) so the client gets the error
    response rather than a connection reset.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if chunk and size <= limit:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if size > limit:
        return None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _send(send: Send, response: HttpResponse) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    if response.stream is None and not any(name == b"content-length" for name, _ in headers):
        headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if response.stream is not None:
        async for chunk in response.stream:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": response.body})


def _json(status: int, payload: dict[str, Any]) -> HttpResponse:
    body = json.dumps(payload).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)


def _json_error(error: ServiceError, request_id: str) -> HttpResponse:
    body = json.dumps({"__type": error.code, "message": error.message}).encode()
    headers = [("content-type", "application/x-amz-json-1.1"), ("x-amzn-requestid", request_id)]
    return HttpResponse(error.status or 400, headers, body)
