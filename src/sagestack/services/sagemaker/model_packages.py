"""Model packages: CreateModelPackage, DescribeModelPackage, ListModelPackages,
UpdateModelPackage (see `model_package_updates`), DeleteModelPackage and
BatchDescribeModelPackage.

A package is versioned (inside a group: versions 1, 2, 3, ... handed out by the group and
never reused) or unversioned (named by ModelPackageName, the Marketplace kind). Packages with
validation profiles or marked for Marketplace are created Pending and the validation controller
runs their transform jobs and image scan; the others are Completed at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources.model_packages import (
    ALGORITHM_KIND,
    GROUP_KIND,
    PACKAGE_KIND,
    rendered_state,
    status_items,
    user_context,
    version_name,
)
from sagestack.resources.records import Event, ResourceRecord
from sagestack.services.sagemaker.model_package_listing import filtered_page
from sagestack.services.sagemaker.model_package_updates import updated
from sagestack.services.sagemaker.model_registry import (
    find,
    find_group,
    find_package,
    group_versions,
    name_of,
)
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.services.sagemaker.training_job_rules import check_s3_uri
from sagestack.spec.errors import ConflictException, ResourceInUse, ValidationException
from sagestack.spec.pagination import TokenCodec
from sagestack.store.base import RecordBusy, ResourceStore, change_record

#: Request members never kept in the record's spec.
_NOT_STORED = frozenset({"Tags", "ModelPackageName", "ModelPackageGroupName"})


def not_found(name_or_arn: str) -> ValidationException:
    return ValidationException(f"ModelPackage {name_or_arn} does not exist.")


class ModelPackagesApi(ResourceApi):
    kind = PACKAGE_KIND
    noun = "model package"

    def __init__(self, store: ResourceStore, tokens: TokenCodec, wake: Callable[[], None]) -> None:
        super().__init__(store, tokens)
        self.wake = wake

    @operation("CreateModelPackage")
    def create_model_package(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name, group_ref = request.get("ModelPackageName"), request.get("ModelPackageGroupName")
        if name and group_ref:
            raise ValidationException(
                "Both ModelPackageName and ModelPackageGroupName are provided in the input. "
                "Cannot determine which one to use."
            )
        if not name and not group_ref:
            raise ValidationException("Missing ARN.")
        self._check_contents(ctx, request, versioned=bool(group_ref))
        spec = {k: v for k, v in request.items() if k not in _NOT_STORED}
        spec["CreatedBy"] = user_context(ctx.principal_arn, ctx.user_id)
        status, state = _initial(request)
        if name:
            record = self.create_record(
                ctx, name, spec, request.get("Tags"), status=status, state=state
            )
        else:
            record = self._create_version(
                ctx, str(group_ref), spec, request, status=status, state=state
            )
        if status == "Pending":
            self.wake()
        return {"ModelPackageArn": record.arn}

    def already_exists(self, arn: str) -> ValidationException:
        return ValidationException(f"ModelPackage already exists: {arn}")

    def _create_version(
        self,
        ctx: RequestContext,
        group_ref: str,
        spec: dict[str, Any],
        request: Mapping[str, Any],
        *,
        status: str,
        state: Mapping[str, Any],
    ) -> ResourceRecord:
        group = find_group(self.store, ctx, group_ref)
        if group is None:
            name = name_of(group_ref, GROUP_KIND) or group_ref
            raise ValidationException(f"ModelPackageGroup {name} does not exist.")
        token = request.get("ClientToken")
        if token:
            for existing in group_versions(self.store, ctx.account, ctx.region, group.name):
                if existing.spec.get("ClientToken") == token:
                    return existing  # a retry of a create that already happened
        version = self._next_version(ctx, group)
        spec.update(
            ModelPackageGroupName=group.name,
            ModelPackageVersion=version,
            ModelApprovalStatus=request.get("ModelApprovalStatus", "PendingManualApproval"),
        )
        return self.create_record(
            ctx,
            version_name(group.name, version),
            spec,
            request.get("Tags"),
            status=status,
            state=state,
        )

    def _next_version(self, ctx: RequestContext, group: ResourceRecord) -> int:
        def bump(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            latest = int(record.state.get("LatestVersion", 0)) + 1
            state = {**record.state, "LatestVersion": latest}
            return dataclasses.replace(record, state=state), None

        try:
            changed = change_record(self.store, group.arn, bump)
        except RecordBusy:
            raise ResourceInUse(f"Model Package Group {group.name} is busy; try again.") from None
        if changed is None:
            raise ValidationException(f"ModelPackageGroup {group.name} does not exist.")
        return int(changed.state["LatestVersion"])

    def _check_contents(
        self, ctx: RequestContext, request: Mapping[str, Any], *, versioned: bool
    ) -> None:
        inference = request.get("InferenceSpecification")
        source = request.get("SourceAlgorithmSpecification")
        if not versioned:
            if request.get("ModelApprovalStatus"):
                raise ValidationException(
                    "ModelApprovalStatus is only supported for versioned model packages "
                    "(with a ModelPackageGroupName)."
                )
            if inference is None and source is None:
                raise ValidationException(
                    "Either InferenceSpecification or SourceAlgorithmSpecification is required "
                    "for an unversioned model package."
                )
        specifications = [inference] if inference else []
        specifications += request.get("AdditionalInferenceSpecifications", [])
        check_inference_specifications(specifications)
        names = [spec["Name"] for spec in request.get("AdditionalInferenceSpecifications", [])]
        if len(names) != len(set(names)):
            raise ValidationException("AdditionalInferenceSpecifications names must be unique.")
        for algorithm in (source or {}).get("SourceAlgorithms", []):
            if find(self.store, ctx, ALGORITHM_KIND, algorithm["AlgorithmName"]) is None:
                raise ValidationException(
                    f'Could not find algorithm "{algorithm["AlgorithmName"]}".'
                )
            if algorithm.get("ModelDataUrl"):
                check_s3_uri("SourceAlgorithms.ModelDataUrl", algorithm["ModelDataUrl"])
        if request.get("SamplePayloadUrl", "").startswith("s3://"):
            check_s3_uri("SamplePayloadUrl", request["SamplePayloadUrl"])
        validation = request.get("ValidationSpecification")
        if validation and not validation["ValidationProfiles"]:
            raise ValidationException("ValidationSpecification needs one validation profile.")
        if validation and inference is None and source is None:
            raise ValidationException(
                "A model package with a ValidationSpecification needs an InferenceSpecification "
                "or a SourceAlgorithmSpecification to validate."
            )

    @operation("DescribeModelPackage")
    def describe_model_package(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return described(self._package(ctx, request["ModelPackageName"]))

    @operation("ListModelPackages")
    def list_model_packages(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, next_token = filtered_page(self.store, self.tokens, ctx, request)
        return {
            "ModelPackageSummaryList": [summary(record) for record in records],
            "NextToken": next_token,
        }

    @operation("UpdateModelPackage")
    def update_model_package(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        arn = self._package(ctx, request["ModelPackageArn"]).arn
        check_inference_specifications(
            ([request["InferenceSpecification"]] if "InferenceSpecification" in request else [])
            + request.get("AdditionalInferenceSpecificationsToAdd", [])
        )
        who = user_context(ctx.principal_arn, ctx.user_id)
        try:
            record = change_record(self.store, arn, lambda r: updated(r, request, who, ctx.now))
        except RecordBusy:
            raise ResourceInUse(f"ModelPackage {arn} is busy; try again.") from None
        if record is None:
            raise not_found(request["ModelPackageArn"])
        return {"ModelPackageArn": record.arn}

    @operation("DeleteModelPackage")
    def delete_model_package(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        record = self._package(ctx, request["ModelPackageName"])
        if record.status in ("Pending", "InProgress"):
            raise ConflictException(
                f"ModelPackage {record.arn} cannot be deleted while it is {record.status}."
            )
        self.delete_record(ctx, record.name)
        return {}

    @operation("BatchDescribeModelPackage")
    def batch_describe(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for arn in request["ModelPackageArnList"]:
            record = find_package(self.store, ctx, arn)
            if record is None or "ModelPackageVersion" not in record.spec:
                errors[arn] = {
                    "ErrorCode": "ValidationException",
                    "ErrorResponse": f"ModelPackage {arn} does not exist.",
                }
                continue
            found[arn] = batch_summary(record)
        return {"ModelPackageSummaries": found, "BatchDescribeModelPackageErrorMap": errors}

    # -- records ----------------------------------------------------------------------------

    def _package(self, ctx: RequestContext, name_or_arn: str) -> ResourceRecord:
        record = find_package(self.store, ctx, name_or_arn)
        if record is None:
            raise not_found(name_or_arn)
        return record


def check_inference_specifications(specifications: list[Mapping[str, Any]]) -> None:
    for specification in specifications:
        for index, container in enumerate(specification["Containers"], start=1):
            if not container.get("Image"):
                raise ValidationException(
                    f"InferenceSpecification.Containers[{index}] must specify an Image."
                )
            if container.get("ModelDataUrl", "").startswith("s3://"):
                check_s3_uri(f"Containers[{index}].ModelDataUrl", container["ModelDataUrl"])


def _initial(request: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The status a new package starts in, and its status details."""
    validation = request.get("ValidationSpecification")
    profiles = []
    if validation is not None and request.get("SkipModelValidation") != "All":
        profiles = [p["ProfileName"] for p in validation["ValidationProfiles"]]
    images = []
    if request.get("CertifyForMarketplace"):
        containers = request.get("InferenceSpecification", {}).get("Containers", [])
        images = [package_name(request) for _ in containers[:1]]
    state: dict[str, Any] = {
        "ValidationStatuses": status_items(profiles),
        "ImageScanStatuses": status_items(images),
    }
    return ("Pending" if profiles or images else "Completed"), state


def package_name(request: Mapping[str, Any]) -> str:
    return str(
        request.get("ModelPackageName") or name_of(request["ModelPackageGroupName"], GROUP_KIND)
    )


def described(record: ResourceRecord) -> dict[str, Any]:
    """DescribeModelPackage's output (also what Search shows of a package)."""
    output: dict[str, Any] = {k: v for k, v in record.spec.items() if k != "ClientToken"}
    output.setdefault("CertifyForMarketplace", False)
    state, details = rendered_state(record)
    output.update(state)
    output.update(
        ModelPackageName=record.spec.get("ModelPackageGroupName", record.name),
        ModelPackageArn=record.arn,
        CreationTime=record.creation_time,
        LastModifiedTime=record.last_modified_time,
        ModelPackageStatus=record.status,
        ModelPackageStatusDetails=details,
    )
    return output


def summary(record: ResourceRecord) -> dict[str, Any]:
    """One ModelPackageSummaryList entry."""
    spec = record.spec
    output = {
        "ModelPackageName": spec.get("ModelPackageGroupName", record.name),
        "ModelPackageGroupName": spec.get("ModelPackageGroupName"),
        "ModelPackageVersion": spec.get("ModelPackageVersion"),
        "ModelPackageArn": record.arn,
        "ModelPackageDescription": spec.get("ModelPackageDescription"),
        "CreationTime": record.creation_time,
        "ModelPackageStatus": record.status,
        "ModelApprovalStatus": spec.get("ModelApprovalStatus"),
        "ModelLifeCycle": spec.get("ModelLifeCycle"),
        "ModelPackageRegistrationType": spec.get("ModelPackageRegistrationType"),
    }
    return {key: value for key, value in output.items() if value is not None}


def batch_summary(record: ResourceRecord) -> dict[str, Any]:
    """One ModelPackageSummaries entry of BatchDescribeModelPackage."""
    output = summary(record)
    output.pop("ModelPackageName", None)
    output.pop("ModelLifeCycle", None)
    output["InferenceSpecification"] = record.spec.get("InferenceSpecification", {"Containers": []})
    return output
