"""CreateModel from a registered model package: SageMaker's rules for deploying one, and the
package's inference containers resolved into the model's own container definitions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.resources.model_packages import ALGORITHM_KIND
from sagestack.resources.records import ResourceRecord
from sagestack.services.sagemaker.model_registry import find, find_package
from sagestack.spec.errors import ValidationException
from sagestack.store.base import ResourceStore

#: Members of a package's container that a model's container takes over.
_CARRIED = ("Image", "ImageDigest", "ModelDataUrl", "ModelDataSource", "AdditionalModelDataSources")


def resolved_containers(
    store: ResourceStore, ctx: RequestContext, spec: Mapping[str, Any]
) -> dict[str, Any]:
    """{"PrimaryContainer": ...} or {"Containers": [...]} with every container that names a
    ModelPackageName replaced by the package's inference container(s)."""
    if "PrimaryContainer" in spec:
        containers = _resolved(store, ctx, spec["PrimaryContainer"])
        if len(containers) == 1:
            return {"PrimaryContainer": containers[0]}
        return {"Containers": containers}
    return {"Containers": [c for given in spec["Containers"] for c in _resolved(store, ctx, given)]}


def _resolved(
    store: ResourceStore, ctx: RequestContext, container: Mapping[str, Any]
) -> list[dict[str, Any]]:
    reference = container.get("ModelPackageName")
    if not reference:
        return [dict(container)]
    package = deployable(store, ctx, reference)
    sources = _package_containers(store, ctx, package, container.get("InferenceSpecificationName"))
    resolved = []
    for source in sources:
        entry = {key: source[key] for key in _CARRIED if key in source}
        entry["Environment"] = {**source.get("Environment", {}), **container.get("Environment", {})}
        for key in ("ContainerHostname", "Mode", "ImageConfig"):
            if key in container:
                entry[key] = container[key]
        if "ModelDataUrl" in container:
            entry["ModelDataUrl"] = container["ModelDataUrl"]
        entry["ModelPackageName"] = package.arn
        resolved.append(entry)
    return resolved


def deployable(store: ResourceStore, ctx: RequestContext, reference: str) -> ResourceRecord:
    """The package `reference` names, if SageMaker would create a model from it."""
    package = find_package(store, ctx, reference)
    if package is None:
        raise ValidationException(f"ModelPackage {reference} does not exist.")
    if package.status != "Completed":
        raise ValidationException(
            f"ModelPackage {package.arn} is in status {package.status}; a model can be created "
            "only from a model package whose status is Completed."
        )
    approval = package.spec.get("ModelApprovalStatus")
    if "ModelPackageVersion" in package.spec and approval != "Approved":
        raise ValidationException(
            f"ModelPackage {package.arn} has ModelApprovalStatus {approval}. For versioned "
            "models, ModelApprovalStatus must be Approved to deploy the model."
        )
    return package


def _package_containers(
    store: ResourceStore, ctx: RequestContext, package: ResourceRecord, name: str | None
) -> list[Mapping[str, Any]]:
    spec = package.spec
    if name:
        for additional in spec.get("AdditionalInferenceSpecifications", []):
            if additional["Name"] == name:
                return list(additional["Containers"])
        raise ValidationException(
            f"InferenceSpecificationName {name} is not an additional inference specification "
            f"of ModelPackage {package.arn}."
        )
    if spec.get("InferenceSpecification"):
        return list(spec["InferenceSpecification"]["Containers"])
    for source in spec.get("SourceAlgorithmSpecification", {}).get("SourceAlgorithms", []):
        algorithm = find(store, ctx, ALGORITHM_KIND, source["AlgorithmName"])
        inference = algorithm.spec.get("InferenceSpecification") if algorithm else None
        if not inference:
            raise ValidationException(
                f"Algorithm {source['AlgorithmName']} of ModelPackage {package.arn} has no "
                "InferenceSpecification to deploy."
            )
        containers: list[Mapping[str, Any]] = []
        for container in inference["Containers"]:
            entry = dict(container)
            for key in ("ModelDataUrl", "ModelDataSource"):
                if key in source:
                    entry[key] = source[key]
            containers.append(entry)
        return containers
    raise ValidationException(
        f"ModelPackage {package.arn} has no InferenceSpecification, so no model can be created "
        "from it."
    )
