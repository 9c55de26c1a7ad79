"""The SageMaker *Model* API: CreateModel, DescribeModel, ListModels, DeleteModel.

A container may name a registered model package (ModelPackageName) instead of an image: the
package's inference container (image, model data, environment) is resolved into the model's
spec at create time, after SageMaker's rules (a versioned package must be Approved), so
endpoints and transform jobs run it like any other container.
"""

from __future__ import annotations

from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources.records import ResourceRecord
from sagestack.services.sagemaker.listing import ListRules
from sagestack.services.sagemaker.model_package_models import resolved_containers
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.spec.errors import ValidationException

LIST_MODELS = ListRules(kind="model")

#: Request members kept as the model's spec; DescribeModel renders them back.
_SPEC_MEMBERS = (
    "PrimaryContainer",
    "Containers",
    "InferenceExecutionConfig",
    "ExecutionRoleArn",
    "VpcConfig",
    "EnableNetworkIsolation",
)


def _described_container(container: dict[str, Any]) -> dict[str, Any]:
    """A container as DescribeModel shows it: SageMaker fills in Mode and Environment."""
    shown = dict(container)
    if "ModelPackageName" not in shown:
        shown.setdefault("Mode", "SingleModel")
    shown.setdefault("Environment", {})
    return shown


class ModelsApi(ResourceApi):
    kind = "model"
    noun = "model"

    @operation("CreateModel")
    def create_model(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        primary, containers = request.get("PrimaryContainer"), request.get("Containers")
        if primary is None and not containers:
            raise ValidationException("Either PrimaryContainer or Containers must be specified.")
        if primary is not None and containers:
            raise ValidationException(
                "PrimaryContainer and Containers cannot both be specified; use one of them."
            )
        if request.get("InferenceExecutionConfig") and not containers:
            raise ValidationException(
                "InferenceExecutionConfig can only be specified with Containers."
            )
        for index, container in enumerate(containers or [primary], start=1):
            if not container.get("Image") and not container.get("ModelPackageName"):
                where = "PrimaryContainer" if primary else f"Containers[{index}]"
                raise ValidationException(f"{where} must specify either Image or ModelPackageName.")
        hostnames = [c["ContainerHostname"] for c in containers or [] if "ContainerHostname" in c]
        if len(hostnames) != len(set(hostnames)):
            raise ValidationException("ContainerHostname must be unique across Containers.")
        spec = {key: request[key] for key in _SPEC_MEMBERS if key in request}
        state: dict[str, Any] = {}
        if any(c.get("ModelPackageName") for c in containers or [primary]):
            # The model's containers as sent (DescribeModel shows them so); the spec holds them
            # resolved from the packages, as endpoints and transform jobs run them.
            state["Requested"] = {
                k: spec[k] for k in ("PrimaryContainer", "Containers") if k in spec
            }
            spec = {**spec, **resolved_containers(self.store, ctx, spec)}
        record = self.create_record(
            ctx, request["ModelName"], spec, request.get("Tags"), state=state
        )
        return {"ModelArn": record.arn}

    @operation("DescribeModel")
    def describe_model(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return described(self.require(ctx, request["ModelName"]))

    @operation("ListModels")
    def list_models(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, next_token = self.list_page(ctx, request, LIST_MODELS)
        models = [
            {"ModelName": r.name, "ModelArn": r.arn, "CreationTime": r.creation_time}
            for r in records
        ]
        return {"Models": models, "NextToken": next_token}

    @operation("DeleteModel")
    def delete_model(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        self.delete_record(ctx, request["ModelName"])
        return {}


def described(record: ResourceRecord) -> dict[str, Any]:
    """DescribeModel's output (also the Model of a Search result)."""
    output: dict[str, Any] = {**record.spec, **record.state.get("Requested", {})}
    if "PrimaryContainer" in output and "Containers" in record.state.get("Requested", {}):
        del output["PrimaryContainer"]
    if "Containers" in output and "PrimaryContainer" in record.state.get("Requested", {}):
        del output["Containers"]
    if "PrimaryContainer" in output:
        output["PrimaryContainer"] = _described_container(output["PrimaryContainer"])
    if "Containers" in output:
        output["Containers"] = [_described_container(c) for c in output["Containers"]]
    output.update(ModelName=record.name, ModelArn=record.arn, CreationTime=record.creation_time)
    output.setdefault("EnableNetworkIsolation", False)
    return output
