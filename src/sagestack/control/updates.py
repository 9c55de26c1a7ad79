"""Endpoint updates: what they need of the endpoint controller (`Host`), blue/green traffic
shifting (DeploymentConfig's BlueGreenUpdatePolicy: ALL_AT_ONCE, CANARY, LINEAR) and in-place
scaling when only weights or instance counts change. Rolling updates are in `rolling`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sagestack.control.replicas import DeployError, Fleet, ReplicaProcess, wait_ready
from sagestack.resources.endpoints import traffic_steps
from sagestack.resources.records import ResourceRecord
from sagestack.serving.routing import EndpointRoute


class Host(Protocol):
    """What an update (blue/green, rolling, in-place scaling) needs of the endpoint controller."""

    def start_replica(
        self, record: ResourceRecord, variant: Mapping[str, Any]
    ) -> ReplicaProcess: ...

    def mixed_route(
        self,
        record: ResourceRecord,
        old: tuple[Mapping[str, Any], Fleet],
        new: tuple[Mapping[str, Any], Fleet],
        share: float,
    ) -> EndpointRoute: ...

    def publish_route(self, route: EndpointRoute) -> None: ...

    def serve(
        self, record: ResourceRecord, deployment: Mapping[str, Any], fleet: Fleet
    ) -> None: ...

    def drain_and_stop(self, fleet: Fleet) -> None: ...

    def retire(self, arn: str) -> None: ...

    def still_updating(self, arn: str, seconds: float) -> bool: ...

    def write(
        self,
        arn: str,
        status: str,
        deployment: Mapping[str, Any],
        *,
        reason: str | None = None,
        spec: Mapping[str, Any] | None = None,
        **state: Any,
    ) -> None: ...


def hosted(deployment: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every variant that gets replicas: the production variants, then the shadow ones."""
    return [*deployment["ProductionVariants"], *deployment.get("ShadowProductionVariants", ())]


def shift(
    host: Host,
    record: ResourceRecord,
    current: tuple[Mapping[str, Any], Fleet],
    target: tuple[Mapping[str, Any], Fleet],
) -> bool:
    """Move the traffic from the current (deployment, fleet) to the target one in the steps
    the update's DeploymentConfig asks for (waiting WaitIntervalInSeconds between them), then
    stop the old fleet after TerminationWaitInSeconds and its in-flight requests. False when
    the endpoint was deleted meanwhile."""
    old, (desired, new) = current[1], target
    config = record.spec.get("DeploymentConfig") or {}
    policy = config.get("BlueGreenUpdatePolicy") or {}
    wait = (policy.get("TrafficRoutingConfiguration") or {}).get("WaitIntervalInSeconds", 0)
    new_instances = sum(len(replicas) for replicas in new.values())
    steps = traffic_steps(config, new_instances)
    for index, share in enumerate(steps):
        if share < 1.0:
            host.publish_route(host.mixed_route(record, current, target, share))
        else:
            host.serve(record, desired, new)
        if index < len(steps) - 1 and not host.still_updating(record.arn, wait):
            host.drain_and_stop(new)
            host.retire(record.arn)  # the old fleet, still the registered one
            return False
    if not host.still_updating(record.arn, policy.get("TerminationWaitInSeconds", 0)):
        host.drain_and_stop(old)
        return False
    host.drain_and_stop(old)
    return True


def scale(host: Host, record: ResourceRecord, desired: Mapping[str, Any], fleet: Fleet) -> None:
    """Same models, new weights or counts: add or retire replicas per variant."""
    retired: list[ReplicaProcess] = []
    for variant in hosted(desired):
        replicas = fleet.setdefault(variant["VariantName"], [])
        wanted = int(variant.get("InitialInstanceCount") or 1)
        if "ServerlessConfig" in variant:
            continue  # its replica comes and goes with the traffic
        if len(replicas) < wanted:
            started = [host.start_replica(record, variant) for _ in range(wanted - len(replicas))]
            try:
                wait_ready(started)
            except DeployError:
                for replica in started:
                    replica.stop()
                raise
            replicas.extend(started)
        while len(replicas) > wanted:
            retired.append(replicas.pop())
    host.serve(record, desired, fleet)
    host.drain_and_stop({"retired": retired})
