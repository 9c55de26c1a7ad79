"""How each endpoint variant is served, as the routing snapshot carries it: the `Hosting` of a
multi-model, multi-container or serverless variant (None for one model in one container).

The objects behind a Hosting keep state across routing snapshots (the models each replica has
loaded, a serverless variant's requests in flight), so the book keeps one per endpoint,
deployment and variant, and drops them when the endpoint goes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sagestack.control.multi_model import ModelCache
from sagestack.control.replicas import ReplicaProcess, container_hostnames
from sagestack.control.serverless import ServerlessCapacity
from sagestack.serving.hosting import Hosting
from sagestack.serving.routing import Replica, RoutingTable, VariantRoute
from sagestack.storage.base import ObjectStore

_Key = tuple[str, str, str]  # endpoint ARN, EndpointConfigName, VariantName


class HostingBook:
    def __init__(
        self,
        objects: ObjectStore,
        routes: RoutingTable,
        *,
        cache_bytes: int,
        cold_start: Callable[[str, str], None],
    ) -> None:
        self._objects = objects
        self._routes = routes
        self._cache_bytes = cache_bytes
        self._cold_start = cold_start
        self._hostings: dict[_Key, Hosting | None] = {}
        self._lock = threading.Lock()

    def hosting(
        self, arn: str, deployment: Mapping[str, Any], variant: Mapping[str, Any]
    ) -> Hosting | None:
        key = (arn, deployment["EndpointConfigName"], variant["VariantName"])
        with self._lock:
            if key not in self._hostings:
                self._hostings[key] = self._made(arn, variant)
            return self._hostings[key]

    def route(
        self,
        arn: str,
        deployment: Mapping[str, Any],
        variant: Mapping[str, Any],
        replicas: Sequence[ReplicaProcess],
        weight: float,
    ) -> VariantRoute:
        """The variant's route over its live `replicas`; a multi-model variant's cache learns
        which replicas it has."""
        hosting = self.hosting(arn, deployment, variant)
        alive = [r for r in replicas if r.alive()]
        if hosting is not None and isinstance(hosting.models, ModelCache):
            hosting.models.track(alive)
        return VariantRoute(
            variant["VariantName"],
            weight,
            tuple(Replica(r.id, r.address, r.containers()) for r in alive),
            hosting,
        )

    def serverless(self, arn: str) -> Iterator[tuple[str, ServerlessCapacity]]:
        """(variant name, capacity) of the endpoint's serverless variants."""
        with self._lock:
            items = [(k, h) for k, h in self._hostings.items() if k[0] == arn]
        for (_, _, variant), hosting in items:
            if hosting is not None and isinstance(hosting.serverless, ServerlessCapacity):
                yield variant, hosting.serverless

    def forget(self, arn: str) -> None:
        with self._lock:
            for key in [k for k in self._hostings if k[0] == arn]:
                del self._hostings[key]

    def _made(self, arn: str, variant: Mapping[str, Any]) -> Hosting | None:
        model = variant.get("Model", {})
        containers = model.get("Containers") or [model.get("PrimaryContainer", {})]
        primary = containers[0]
        cache: ModelCache | None = None
        if len(containers) == 1 and primary.get("Mode") == "MultiModel":
            caching = (primary.get("MultiModelConfig") or {}).get("ModelCacheSetting", "Enabled")
            cache = ModelCache(
                self._objects,
                primary["ModelDataUrl"],
                budget_bytes=self._cache_bytes,
                caching=caching != "Disabled",
            )
        mode = None
        if len(containers) > 1:
            mode = (model.get("InferenceExecutionConfig") or {}).get("Mode", "Serial")
        capacity = None
        if "ServerlessConfig" in variant:
            name = variant["VariantName"]
            capacity = ServerlessCapacity(
                arn,
                name,
                variant["ServerlessConfig"],
                routes=self._routes,
                wake=lambda: self._cold_start(arn, name),
            )
        if cache is None and mode is None and capacity is None:
            return None
        return Hosting(
            models=cache,
            containers=mode,
            hostnames=tuple(container_hostnames(containers)) if mode else (),
            serverless=capacity,
        )
