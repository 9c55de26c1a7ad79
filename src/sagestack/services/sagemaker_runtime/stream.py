"""InvokeEndpointWithResponseStream: the replica's answer passed on part by part as it is made.

The container answers /invocations with a chunked body (sagestack's model server does when a
handler returns an iterator or generator; any server that streams does). Each part read from the
replica becomes a PayloadPart event of the response's event stream. A non-2xx answer before
the stream starts is a ModelError, as for InvokeEndpoint; a failure midway can only be told in
the stream: ModelStreamError (ModelInvocationTimeExceeded, StreamBroken) or
InternalStreamFailure, which boto3 raises while the caller iterates.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.api.streams import StreamingPayload
from sagestack.services.sagemaker_runtime import eventstream
from sagestack.services.sagemaker_runtime.invoke import (
    MODEL_TIMEOUT,
    UNAVAILABLE,
    InvokeApi,
    choose_variant,
    container_headers,
    is_async,
    model_error,
    payload,
    validation_error,
)
from sagestack.services.sagemaker_runtime.observe import NAMESPACE, MetricsSink, record_invocation
from sagestack.serving.proxy import (
    Proxy,
    ReplicaDisconnected,
    ReplicaTimeout,
    ReplicaUnreachable,
    StreamedReply,
)
from sagestack.serving.router import NoCapacity, Router
from sagestack.serving.routing import VariantRoute
from sagestack.spec.errors import ServiceError

LOG = logging.getLogger(__name__)


class StreamApi:
    def __init__(
        self, invoke: InvokeApi, proxy: Proxy, router: Router, metrics: MetricsSink
    ) -> None:
        self._invoke = invoke
        self._proxy = proxy
        self._router = router
        self._metrics = metrics

    @operation("InvokeEndpointWithResponseStream")
    async def invoke_endpoint_with_response_stream(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        started = time.perf_counter()
        name = request["EndpointName"]
        route = self._invoke.route(ctx, name)
        if route.asynchronous is not None:
            raise is_async(name)
        for unsupported in ("TargetContainerHostname", "InferenceComponentName", "SessionId"):
            if request.get(unsupported):
                raise validation_error(
                    f"{unsupported} is not supported by this endpoint for response streaming."
                )
        body = payload(request)
        variant = choose_variant(self._router, route, request.get("TargetVariant"))
        held = contextlib.ExitStack()
        try:
            reply = await self._open(held, variant, body, container_headers(request))
        except ReplicaTimeout:
            held.close()
            self._record(name, variant, 0, started, started)
            raise model_error(
                ctx,
                name,
                0,
                "Your invocation timed out while waiting for a response from container primary.",
            ) from None
        except BaseException:
            held.close()
            raise
        if not 200 <= reply.status < 300:
            try:
                message = (await reply.read()).decode("utf-8", "replace")
            except (ReplicaDisconnected, ReplicaTimeout):
                message = "The container closed the connection before it answered."
            finally:
                held.close()
            self._record(name, variant, reply.status, started, started)
            raise model_error(ctx, name, reply.status, message)
        output: dict[str, Any] = {
            "Body": StreamingPayload(self._events(reply, held, name, variant, started)),
            "ContentType": reply.headers.get("content-type", "application/octet-stream"),
            "InvokedProductionVariant": variant.name,
        }
        attributes = reply.headers.get("x-amzn-sagemaker-custom-attributes")
        if attributes:
            output["CustomAttributes"] = attributes
        return output

    async def _open(
        self,
        held: contextlib.ExitStack,
        variant: VariantRoute,
        body: bytes,
        headers: dict[str, str],
    ) -> StreamedReply:
        """Open the stream on the least busy replica, which stays counted busy (`held`) until
        the stream ends; one that cannot be reached is skipped for the next."""
        unreachable: frozenset[str] = frozenset()
        while True:
            try:
                replica = held.enter_context(self._router.replica(variant, unreachable))
            except NoCapacity:
                raise ServiceError(UNAVAILABLE, code="ServiceUnavailable", status=503) from None
            try:
                return await self._proxy.stream(replica, body, headers, MODEL_TIMEOUT)
            except ReplicaUnreachable:
                held.close()
                unreachable |= {replica.id}

    async def _events(
        self,
        reply: StreamedReply,
        held: contextlib.ExitStack,
        name: str,
        variant: VariantRoute,
        started: float,
    ) -> AsyncIterator[bytes]:
        status, broken = 200, 0.0
        try:
            async for part in reply.parts():
                yield eventstream.payload_part(part)
        except ReplicaTimeout:
            status, broken = 0, 1.0
            yield eventstream.stream_error(
                "ModelStreamError",
                "Your model did not finish streaming its response within the time limit of "
                f"{MODEL_TIMEOUT:g} seconds.",
                "ModelInvocationTimeExceeded",
            )
        except ReplicaDisconnected:
            status, broken = 0, 1.0
            yield eventstream.stream_error(
                "ModelStreamError",
                "The connection to the model container was closed before the response was "
                "complete.",
                "StreamBroken",
            )
        except Exception:
            LOG.exception("streaming %s/%s failed", name, variant.name)
            status, broken = 0, 1.0
            yield eventstream.stream_error(
                "InternalStreamFailure", "The stream failed because of an internal error."
            )
        finally:
            reply.close()
            held.close()
            self._record(name, variant, status, started, started)
            self._metrics.put(
                NAMESPACE,
                (("EndpointName", name), ("VariantName", variant.name)),
                [("MidStreamErrors", broken, "None")],
            )

    def _record(
        self, name: str, variant: VariantRoute, status: int, started: float, model: float
    ) -> None:
        done = time.perf_counter()
        record_invocation(
            self._metrics,
            name,
            variant.name,
            status=status,
            instances=len(variant.replicas),
            model_us=(done - model) * 1e6,
            overhead_us=0.0,
        )
