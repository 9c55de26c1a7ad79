"""What an endpoint record holds, shared by its API (services) and its controller (control).

`spec` (desired state, written by the API):
- `EndpointConfigName`: the config the endpoint should run;
- `Deployment`: that config resolved at the time of the request, so later changes to the config
  or its models do not touch a running endpoint (as on SageMaker):
  {"EndpointConfigName", "ProductionVariants": [variant as in the config (VariantName,
  ModelName, InitialInstanceCount, InitialVariantWeight, InstanceType, ...) + "Model": {the
  model's spec: PrimaryContainer / Containers, ExecutionRoleArn, ...}]};
- `DeploymentConfig` (UpdateEndpoint), `DesiredWeightsAndCapacities` (the last
  UpdateEndpointWeightsAndCapacities, by variant).

`state` (observed, written by the controller), in DescribeEndpoint's member names:
- `ProductionVariants`: [ProductionVariantSummary], `FailureReason`;
- `ActiveDeployment`: the Deployment the replicas now serve (internal, never rendered): an
  update that fails leaves the endpoint InService on it, with FailureReason;
- `Workloads`: the executor's identities of the replicas (internal), so the next start can end
  replicas a crash left running.

Statuses follow `lifecycles.ENDPOINT_EDGES`: Creating → InService | Failed; InService →
Updating → InService (new or, on failure, old config) | RollingBack; any → Deleting, after which
the controller removes the record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

KIND = "endpoint"


#: Where the logs of an endpoint's replicas go (one stream per replica:
#: "<variant>/<instance id>").
def log_group(endpoint: str) -> str:
    return f"/aws/sagemaker/Endpoints/{endpoint}"


def variant_summaries(
    variants: Sequence[Mapping[str, Any]],
    *,
    current: Mapping[str, tuple[float, int]],
    status: str,
    now: float,
    message: str | None = None,
) -> list[dict[str, Any]]:
    """ProductionVariantSummary for each variant of a deployment: desired weight and count from
    the deployment, current ones from `current` (variant → (weight, instance count)), images as
    the models name them, and one VariantStatus entry ("Creating", "Updating", ... or none
    when "InService")."""
    summaries = []
    for variant in variants:
        name = variant["VariantName"]
        weight, count = current.get(name, (0.0, 0))
        containers = variant.get("Model", {}).get("Containers") or [
            variant.get("Model", {}).get("PrimaryContainer", {})
        ]
        summary: dict[str, Any] = {
            "VariantName": name,
            "DeployedImages": [
                {"SpecifiedImage": c["Image"], "ResolvedImage": c["Image"], "ResolutionTime": now}
                for c in containers
                if c.get("Image")
            ],
            "CurrentWeight": weight,
            "DesiredWeight": float(variant.get("InitialVariantWeight", 1.0)),
        }
        if "ServerlessConfig" in variant:
            # Serverless variants have no instance counts, only their serverless settings.
            if name in current:
                summary["CurrentServerlessConfig"] = variant["ServerlessConfig"]
            summary["DesiredServerlessConfig"] = variant["ServerlessConfig"]
        else:
            summary["CurrentInstanceCount"] = count
            summary["DesiredInstanceCount"] = int(variant.get("InitialInstanceCount", 1))
        if status != "InService":
            entry: dict[str, Any] = {"Status": status, "StartTime": now}
            if message:
                entry["StatusMessage"] = message
            summary["VariantStatus"] = [entry]
        summaries.append(summary)
    return summaries


def traffic_steps(deployment_config: Mapping[str, Any] | None, new_instances: int) -> list[float]:
    """The shares of traffic a blue/green update sends to the new fleet, step by step, as its
    TrafficRoutingConfiguration asks: ALL_AT_ONCE [1.0]; CANARY [canary, 1.0]; LINEAR
    [step, 2*step, ..., 1.0]. A size in INSTANCE_COUNT is a share of the new fleet."""
    routing = ((deployment_config or {}).get("BlueGreenUpdatePolicy") or {}).get(
        "TrafficRoutingConfiguration"
    ) or {"Type": "ALL_AT_ONCE"}

    def share(size: Mapping[str, Any]) -> float:
        if size["Type"] == "INSTANCE_COUNT":
            return min(1.0, float(size["Value"]) / max(1, new_instances))
        return min(1.0, float(size["Value"]) / 100)

    if routing["Type"] == "CANARY":
        canary = share(routing["CanarySize"])
        return [canary, 1.0] if canary < 1.0 else [1.0]
    if routing["Type"] == "LINEAR":
        step = share(routing["LinearStepSize"])
        shares = []
        current = step
        while current < 1.0 - 1e-9:
            shares.append(round(current, 6))
            current += step
        return [*shares, 1.0]
    return [1.0]
