"""The request path of variants that are more than one model in one always-on container:
multi-model (TargetModel), multi-container (Serial pipelines, Direct by hostname) and
serverless (cold start, MaxConcurrency) variants.

The endpoint controller puts a `Hosting` in the variant's route; its parts that need the
control plane (downloading a model into a replica, starting a serverless replica) are objects
the controller made, reached through the protocols here, so this package imports nothing of
the control plane. Refusals are `Refused` with SageMaker's error code; the caller turns them
into the service's errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sagestack.serving.connections import Reply
from sagestack.serving.routing import Replica, VariantRoute

TARGET_MODEL = "X-Amzn-SageMaker-Target-Model"


class Refused(Exception):
    """The invocation cannot be served as asked: SageMaker's error code, status, message."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


class ModelCache(Protocol):
    """A multi-model variant's models across its replicas (the platform side of the contract)."""

    def holders(self, target: str) -> frozenset[str]:
        """Ids of the replicas that have `target` loaded."""

    async def load(self, replica: Replica, target: str) -> None:
        """Make `target` loaded on `replica` and count one invocation using it (download,
        LoadModel, unload others to make room); Refused when the model cannot be had."""

    async def release(self, replica: Replica, target: str) -> None:
        """The invocation is done: unload `target` when the variant caches no models."""


class Capacity(Protocol):
    """A serverless variant's concurrency and its replicas that come and go."""

    def admit(self) -> AbstractAsyncContextManager[None]:
        """Count one invocation in flight; Refused (throttling) at MaxConcurrency."""

    async def cold_start(self) -> VariantRoute:
        """Wait until the variant has a replica (starting one): its route then."""


@dataclass(frozen=True, slots=True)
class Hosting:
    models: ModelCache | None = None
    #: InferenceExecutionConfig.Mode of a multi-container model: "Serial" or "Direct".
    containers: str | None = None
    #: The containers' hostnames, in order (Replica.containers holds their addresses).
    hostnames: tuple[str, ...] = ()
    serverless: Capacity | None = None


#: Sends one request to the least busy replica of a route: (route, body, headers) → reply.
Forward = Callable[[VariantRoute, bytes, Mapping[str, str]], Awaitable[Reply]]


async def invoke(
    hosting: Hosting,
    variant: VariantRoute,
    request: Mapping[str, Any],
    *,
    body: bytes,
    headers: Mapping[str, str],
    forward: Forward,
) -> Reply:
    """One invocation of a variant with `hosting`; the reply of the (last) container."""
    _check_targets(hosting, request)
    if hosting.serverless is None:
        return await _invoke(hosting, variant, request, body=body, headers=headers, forward=forward)
    async with hosting.serverless.admit():
        if not variant.replicas:
            variant = await hosting.serverless.cold_start()
        return await _invoke(hosting, variant, request, body=body, headers=headers, forward=forward)


def _check_targets(hosting: Hosting, request: Mapping[str, Any]) -> None:
    if request.get("TargetModel") and hosting.models is None:
        raise Refused(
            "ValidationError",
            400,
            f"Endpoint {request['EndpointName']} is not a multi-model endpoint and does not "
            "support target model header.",
        )
    if hosting.models is not None and not request.get("TargetModel"):
        raise Refused(
            "ValidationError",
            400,
            f"Endpoint {request['EndpointName']} is a multi-model endpoint: specify the "
            "target model (TargetModel header) to invoke it.",
        )
    hostname = request.get("TargetContainerHostname")
    if hostname and hosting.containers != "Direct":
        raise Refused(
            "ValidationError",
            400,
            f"Endpoint {request['EndpointName']} is not configured for direct invocation and "
            "does not support the target container hostname header.",
        )
    if hosting.containers == "Direct":
        if not hostname:
            raise Refused(
                "ValidationError",
                400,
                f"Endpoint {request['EndpointName']} is configured for direct invocation: "
                "specify the target container hostname (TargetContainerHostname header).",
            )
        if hostname not in hosting.hostnames:
            raise Refused(
                "ValidationError",
                400,
                f"Target container hostname {hostname} does not exist in endpoint "
                f"{request['EndpointName']}.",
            )


async def _invoke(
    hosting: Hosting,
    variant: VariantRoute,
    request: Mapping[str, Any],
    *,
    body: bytes,
    headers: Mapping[str, str],
    forward: Forward,
) -> Reply:
    if hosting.models is not None:
        return await _multi_model(
            hosting.models,
            variant,
            request["TargetModel"],
            body=body,
            headers=headers,
            forward=forward,
        )
    if hosting.containers == "Direct":
        index = hosting.hostnames.index(request["TargetContainerHostname"])
        return await forward(_container(variant, index), body, headers)
    if hosting.containers == "Serial":
        return await _pipeline(variant, len(hosting.hostnames), body, headers, forward)
    return await forward(variant, body, headers)


async def _multi_model(
    models: ModelCache,
    variant: VariantRoute,
    target: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    forward: Forward,
) -> Reply:
    """Send to a replica that has `target` loaded; on a miss, load it on the replica the name
    hashes to (so later requests for it find it there), as SageMaker routes for cache hits."""
    if not variant.replicas:
        return await forward(variant, body, headers)  # no capacity: the caller's error
    holders = models.holders(target)
    ordered = sorted(variant.replicas, key=lambda r: r.id)
    digest = int.from_bytes(hashlib.blake2b(target.encode(), digest_size=4).digest(), "big")
    start = digest % len(ordered)
    ordered = ordered[start:] + ordered[:start]
    replica = next((r for r in ordered if r.id in holders), ordered[0])
    await models.load(replica, target)
    try:
        extra = {**headers, TARGET_MODEL: target}
        return await forward(replace(variant, replicas=(replica,)), body, extra)
    finally:
        await models.release(replica, target)


def _container(variant: VariantRoute, index: int) -> VariantRoute:
    """The route to the `index`th container of each instance of a multi-container variant."""
    return replace(
        variant,
        replicas=tuple(Replica(r.id, r.containers[index][1]) for r in variant.replicas),
    )


async def _pipeline(
    variant: VariantRoute, steps: int, body: bytes, headers: Mapping[str, str], forward: Forward
) -> Reply:
    """An inference pipeline: each container's answer is the next one's request (its
    Content-Type with it); the client's Accept goes to the last container only."""
    accept = headers.get("Accept")
    current = {name: value for name, value in headers.items() if name != "Accept"}
    reply: Reply | None = None
    for index in range(steps):
        step_headers = dict(current)
        if index == steps - 1 and accept:
            step_headers["Accept"] = accept
        reply = await forward(_container(variant, index), body, step_headers)
        if not 200 <= reply.status < 300:
            return reply
        body = reply.body
        current["Content-Type"] = reply.headers.get("content-type", "application/octet-stream")
    assert reply is not None
    return reply
