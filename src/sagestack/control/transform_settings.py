"""What a transform job's replicas and requests are set up with: the model's container as the
job runs it, and MaxConcurrentTransforms / MaxPayloadInMB / BatchStrategy resolved from the
request, the model server's /execution-parameters, and SageMaker's defaults, in that order."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sagestack.resources.images import instance_vcpus

#: SageMaker's defaults when neither the request nor /execution-parameters say.
DEFAULT_CONCURRENCY = 1
DEFAULT_PAYLOAD_MB = 6


def model_for(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The job's model with the job's Environment over its container's, and the settings a
    batch transform container gets: SAGEMAKER_BATCH, and one model-server worker per vCPU of
    the instance type (as the framework images start them; capped by this machine's CPUs)."""
    model = dict(spec["Model"])
    key = "PrimaryContainer" if "PrimaryContainer" in model else "Containers"
    container = dict(model[key] if key == "PrimaryContainer" else model[key][0])
    environment = {**container.get("Environment", {}), **spec.get("Environment", {})}
    environment.setdefault("SAGEMAKER_BATCH", "true")
    vcpus = instance_vcpus(spec["TransformResources"]["InstanceType"]) or 1
    available = len(os.sched_getaffinity(0))
    environment.setdefault("SAGEMAKER_MODEL_SERVER_WORKERS", str(max(1, min(vcpus, available))))
    container["Environment"] = environment
    model[key] = container if key == "PrimaryContainer" else [container]
    return model


def resolve(spec: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """MaxConcurrentTransforms, MaxPayloadInMB and BatchStrategy as the job runs them."""

    def number(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    concurrency = spec.get("MaxConcurrentTransforms") or number(
        parameters.get("MaxConcurrentTransforms")
    )
    payload = spec.get("MaxPayloadInMB")
    if payload is None:
        payload = number(parameters.get("MaxPayloadInMB"))
    strategy = spec.get("BatchStrategy")
    if strategy is None:
        offered = str(parameters.get("BatchStrategy", "")).upper()
        strategy = {"MULTI_RECORD": "MultiRecord", "SINGLE_RECORD": "SingleRecord"}.get(offered)
    return {
        "MaxConcurrentTransforms": max(1, concurrency or DEFAULT_CONCURRENCY),
        "MaxPayloadInMB": DEFAULT_PAYLOAD_MB if payload is None else min(payload, 100),
        "BatchStrategy": strategy or "SingleRecord",
    }
