"""InvokeEndpoint: a variant by weight, a replica by fewest requests in flight, the body
forwarded over a pooled connection; the replica's answer comes back as SageMaker returns it.

Only the routing snapshot is read here, never the store (design principle 6). A replica's
non-2xx answer becomes ModelError (424) with its status and message and the endpoint's log
stream, as SageMaker reports it.
"""

from __future__ import annotations

from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources.arns import arn
from sagestack.resources.endpoints import log_group
from sagestack.serving.proxy import (
    Proxy,
    ReplicaDisconnected,
    ReplicaTimeout,
    ReplicaUnreachable,
    Reply,
)
from sagestack.serving.router import NoCapacity, Router
from sagestack.serving.routing import RoutingTable, VariantRoute
from sagestack.spec.errors import ServiceError

#: SageMaker's limits: 6 MB per request, 60 s for the model to answer.
MAX_PAYLOAD = 6 * 1024 * 1024
MODEL_TIMEOUT = 60.0


def validation_error(message: str) -> ServiceError:
    return ServiceError(message, code="ValidationError", status=400)


class InvokeApi:
    def __init__(self, routes: RoutingTable, proxy: Proxy, router: Router | None = None) -> None:
        self._routes = routes
        self._proxy = proxy
        self._router = router or Router()

    @operation("InvokeEndpoint")
    async def invoke_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["EndpointName"]
        route = self._routes.get(arn("endpoint", ctx.account, ctx.region, name))
        if route is None:
            raise validation_error(f"Endpoint {name} of account {ctx.account} not found.")
        for unsupported in ("TargetModel", "TargetContainerHostname", "InferenceComponentName"):
            if request.get(unsupported):
                raise validation_error(
                    f"{unsupported} is not supported by this endpoint (it is not a multi-model, "
                    "multi-container or inference-component endpoint)."
                )
        body: bytes = request.get("Body") or b""
        if len(body) > MAX_PAYLOAD:
            raise validation_error(
                f"Request payload of {len(body)} bytes exceeds the maximum of {MAX_PAYLOAD} bytes."
            )
        target = request.get("TargetVariant")
        try:
            variant = self._router.variant(route, target)
        except NoCapacity:
            if target is not None and route.variant(target) is None:
                raise validation_error(f"Variant {target} not found for endpoint {name}.") from None
            raise ServiceError(
                "The endpoint has no replica ready to serve the request; try again.",
                code="ServiceUnavailable",
                status=503,
            ) from None
        headers = {"Content-Type": request.get("ContentType") or "application/octet-stream"}
        if request.get("Accept"):
            headers["Accept"] = request["Accept"]
        if request.get("CustomAttributes"):
            headers["X-Amzn-SageMaker-Custom-Attributes"] = request["CustomAttributes"]
        reply = await self._forward(ctx, name, variant, body, headers)
        if not 200 <= reply.status < 300:
            message = reply.body.decode("utf-8", "replace")
            raise self._model_error(ctx, name, reply.status, message)
        output: dict[str, Any] = {
            "Body": reply.body,
            "ContentType": reply.headers.get("content-type", "application/octet-stream"),
            "InvokedProductionVariant": variant.name,
        }
        attributes = reply.headers.get("x-amzn-sagemaker-custom-attributes")
        if attributes:
            output["CustomAttributes"] = attributes
        return output

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
