"""InvokeEndpoint: a variant by weight, a replica by fewest requests in flight, the body
forwarded over a pooled connection; the replica's answer comes back as SageMaker returns it.

Only the routing snapshot is read here, never the store (design principle 6). A replica's
non-2xx answer becomes ModelError (424) with its status and message and the endpoint's log
stream, as SageMaker reports it.

What else an invocation does happens off its path: its metrics and (when sampled) its data
capture are queued for background writers, and its mirror to the shadow variants is a task of
its own whose answer is dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources.arns import arn
from sagestack.resources.endpoints import log_group
from sagestack.services.sagemaker_runtime.capture import Captured, CaptureWriter
from sagestack.services.sagemaker_runtime.observe import MetricsSink, NoMetrics, record_invocation
from sagestack.serving import hosting
from sagestack.serving.proxy import (
    Proxy,
    ReplicaDisconnected,
    ReplicaTimeout,
    ReplicaUnreachable,
    Reply,
)
from sagestack.serving.router import NoCapacity, Router
from sagestack.serving.routing import EndpointRoute, RoutingTable, VariantRoute
from sagestack.spec.errors import ServiceError

#: SageMaker's limits: 6 MB per request, 60 s for the model to answer.
MAX_PAYLOAD = 6 * 1024 * 1024
MODEL_TIMEOUT = 60.0


def validation_error(message: str) -> ServiceError:
    return ServiceError(message, code="ValidationError", status=400)


def not_async(name: str) -> ServiceError:
    return validation_error(
        f"Endpoint {name} is not configured for asynchronous inference; use InvokeEndpoint or "
        "InvokeEndpointWithResponseStream."
    )


def is_async(name: str) -> ServiceError:
    return validation_error(
        f"Endpoint {name} is configured for asynchronous inference; use InvokeEndpointAsync."
    )


class InvokeApi:
    def __init__(
        self,
        routes: RoutingTable,
        proxy: Proxy,
        router: Router | None = None,
        *,
        metrics: MetricsSink | None = None,
        capture: CaptureWriter | None = None,
    ) -> None:
        self._routes = routes
        self._proxy = proxy
        self._router = router or Router()
        self._metrics = metrics or NoMetrics()
        self._capture = capture
        self._mirrors: set[asyncio.Task[None]] = set()

    def route(self, ctx: RequestContext, name: str) -> EndpointRoute:
        route = self._routes.get(arn("endpoint", ctx.account, ctx.region, name))
        if route is None:
            raise validation_error(f"Endpoint {name} of account {ctx.account} not found.")
        return route

    @operation("InvokeEndpoint")
    async def invoke_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        name = request["EndpointName"]
        route = self.route(ctx, name)
        if route.asynchronous is not None:
            raise is_async(name)
        if route.explainer or request.get("EnableExplanations") is not None:
            raise explanations_refused(route)
        for unsupported in ("InferenceComponentName",):
            if request.get(unsupported):
                raise validation_error(
                    f"{unsupported} is not supported by this endpoint (it is not a multi-model, "
                    "multi-container or inference-component endpoint)."
                )
        body = payload(request)
        variant = choose_variant(self._router, route, request.get("TargetVariant"))
        headers = container_headers(request)
        status = 0
        model_started = time.perf_counter()
        try:
            if variant.hosting is None and not (
                request.get("TargetModel") or request.get("TargetContainerHostname")
            ):
                reply = await self._forward(ctx, name, variant, body, headers)
            else:
                reply = await self._hosted(ctx, name, variant, request, body=body, headers=headers)
            status = reply.status
        finally:
            self._observe(name, variant, status, started, model_started)
        if route.shadows:
            self._mirror(route, variant, body, headers)
        if not 200 <= reply.status < 300:
            message = reply.body.decode("utf-8", "replace")
            raise self._model_error(ctx, name, reply.status, message)
        content_type = reply.headers.get("content-type", "application/octet-stream")
        if (
            route.capture is not None
            and self._capture is not None
            and self._capture.sampled(route.capture)
        ):
            self._capture.submit(
                Captured(
                    route.capture,
                    name,
                    variant.name,
                    time.time(),
                    body,
                    headers["Content-Type"],
                    reply.body,
                    content_type,
                    request.get("InferenceId"),
                    request.get("CustomAttributes"),
                )
            )
        output: dict[str, Any] = {
            "Body": reply.body,
            "ContentType": content_type,
            "InvokedProductionVariant": variant.name,
        }
        attributes = reply.headers.get("x-amzn-sagemaker-custom-attributes")
        if attributes:
            output["CustomAttributes"] = attributes
        return output

    def _observe(
        self, name: str, variant: VariantRoute, status: int, started: float, model_started: float
    ) -> None:
        """Queue the invocation's metrics: ModelLatency is the hop to the replica and back,
        OverheadLatency the rest of the handler's time."""
        done = time.perf_counter()
        model_us = (done - model_started) * 1e6
        record_invocation(
            self._metrics,
            name,
            variant.name,
            status=status,
            instances=len(variant.replicas),
            model_us=model_us,
            overhead_us=(done - started) * 1e6 - model_us,
        )

    def _mirror(
        self, route: EndpointRoute, variant: VariantRoute, body: bytes, headers: dict[str, str]
    ) -> None:
        """Send a copy of the request to each shadow variant (a share of the traffic: the
        shadow's weight relative to the production variant's), in a task of its own."""
        for shadow in route.shadows:
            share = shadow.weight / variant.weight if variant.weight > 0 else 1.0
            if not shadow.replicas or (share < 1.0 and self._router.chance() >= share):
                continue
            task = asyncio.get_running_loop().create_task(
                self._shadow_call(route.name, shadow, body, headers)
            )
            self._mirrors.add(task)
            task.add_done_callback(self._mirrors.discard)

    async def _shadow_call(
        self, name: str, shadow: VariantRoute, body: bytes, headers: dict[str, str]
    ) -> None:
        """One mirrored request: its answer is dropped, its metrics kept."""
        started = time.perf_counter()
        status = 0
        try:
            with self._router.replica(shadow) as replica:
                reply = await self._proxy.invoke(replica, body, headers, MODEL_TIMEOUT)
                status = reply.status
        except (NoCapacity, ReplicaUnreachable, ReplicaDisconnected, ReplicaTimeout):
            pass
        finally:
            self._observe(name, shadow, status, started, started)

    async def _hosted(
        self,
        ctx: RequestContext,
        name: str,
        variant: VariantRoute,
        request: dict[str, Any],
        *,
        body: bytes,
        headers: dict[str, str],
    ) -> Reply:
        """A multi-model, multi-container or serverless variant (or a target header that a
        plain one refuses): see `sagestack.serving.hosting`."""

        async def forward(route: VariantRoute, data: bytes, sent: Mapping[str, str]) -> Reply:
            return await self._forward(ctx, name, route, data, dict(sent))

        try:
            return await hosting.invoke(
                variant.hosting or hosting.Hosting(),
                variant,
                request,
                body=body,
                headers=headers,
                forward=forward,
            )
        except hosting.Refused as error:
            raise ServiceError(error.message, code=error.code, status=error.status) from None

    async def _forward(
        self,
        ctx: RequestContext,
        name: str,
        variant: VariantRoute,
        body: bytes,
        headers: dict[str, str],
    ) -> Reply:
        """Send to the least busy replica; one that cannot be reached (it died, nothing was
        sent) is skipped for the next, so a dying replica loses no request."""
        unreachable: frozenset[str] = frozenset()
        while True:
            try:
                with self._router.replica(variant, unreachable) as replica:
                    try:
                        return await self._proxy.invoke(replica, body, headers, MODEL_TIMEOUT)
                    except ReplicaUnreachable:
                        unreachable |= {replica.id}
            except NoCapacity:
                raise ServiceError(
                    "The endpoint's replicas could not be reached; try again.",
                    code="ServiceUnavailable",
                    status=503,
                ) from None
            except ReplicaDisconnected:
                raise self._model_error(
                    ctx, name, 0, "The container closed the connection before it answered."
                ) from None
            except ReplicaTimeout:
                raise self._model_error(
                    ctx,
                    name,
                    0,
                    "Your invocation timed out while waiting for a response "
                    "from container primary.",
                ) from None

    @staticmethod
    def _model_error(ctx: RequestContext, name: str, status: int, message: str) -> ServiceError:
        return model_error(ctx, name, status, message)


#: What a request gets when no replica of the variant can take it.
UNAVAILABLE = "The endpoint has no replica ready to serve the request; try again."


def explanations_refused(route: EndpointRoute) -> ServiceError:
    """EnableExplanations asks the endpoint's Clarify explainer, which only an endpoint whose
    EndpointConfig has ExplainerConfig runs. Such an endpoint answers every invocation in the
    explainer's own schema (predictions with their SHAP explanations), which sagestack does not
    compute: it refuses them rather than answer in a schema SageMaker would not use."""
    if not route.explainer:
        return validation_error(
            "EnableExplanations is only supported for an endpoint whose endpoint configuration "
            f"has an ExplainerConfig; endpoint {route.name} was created without one."
        )
    return validation_error(
        f"Endpoint {route.name} has an ExplainerConfig, but SageMaker Clarify online "
        "explainability is not available in sagestack yet: deploy the endpoint from an "
        "endpoint configuration without ExplainerConfig to invoke it."
    )


def payload(request: Mapping[str, Any]) -> bytes:
    """The request's body, within SageMaker's payload limit."""
    body: bytes = request.get("Body") or b""
    if len(body) > MAX_PAYLOAD:
        raise validation_error(
            f"Request payload of {len(body)} bytes exceeds the maximum of {MAX_PAYLOAD} bytes."
        )
    return body


def choose_variant(router: Router, route: EndpointRoute, target: str | None) -> VariantRoute:
    """The TargetVariant, or a variant by weight; SageMaker's errors when there is none."""
    try:
        return router.variant(route, target)
    except NoCapacity:
        if target is not None and route.variant(target) is None:
            raise validation_error(
                f"Variant {target} not found for endpoint {route.name}."
            ) from None
        raise ServiceError(UNAVAILABLE, code="ServiceUnavailable", status=503) from None


def container_headers(request: Mapping[str, Any]) -> dict[str, str]:
    """The headers SageMaker passes on to the container's /invocations."""
    headers = {"Content-Type": request.get("ContentType") or "application/octet-stream"}
    if request.get("Accept"):
        headers["Accept"] = request["Accept"]
    if request.get("CustomAttributes"):
        headers["X-Amzn-SageMaker-Custom-Attributes"] = request["CustomAttributes"]
    if request.get("InferenceId"):
        headers["X-Amzn-SageMaker-Inference-Id"] = request["InferenceId"]
    return headers


def model_error(ctx: RequestContext, name: str, status: int, message: str) -> ServiceError:
    kind = "server" if status >= 500 or status == 0 else "client"
    group = log_group(name)
    return ServiceError(
        f'Received {kind} error ({status}) from primary with message "{message}". See '
        f"the log group {group} in account {ctx.account} for more information.",
        code="ModelError",
        status=424,
        fields={
            "OriginalStatusCode": status,
            "OriginalMessage": message,
            "LogStreamArn": f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:{group}",
        },
    )
