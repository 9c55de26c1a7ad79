"""Algorithms: CreateAlgorithm, DescribeAlgorithm, ListAlgorithms, DeleteAlgorithm.

An algorithm is a training image with the contract CreateTrainingJob is checked against
(`algorithm_rules`), plus an optional inference image. One with a ValidationSpecification
(or marked for Marketplace) is created Pending; the validation controller runs its profile's
training job (and transform job) and moves it to Completed or Failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources.model_packages import (
    ALGORITHM_KIND,
    rendered_state,
    status_items,
)
from sagestack.resources.records import ResourceRecord
from sagestack.services.sagemaker.algorithm_rules import applied, check_training_specification
from sagestack.services.sagemaker.listing import ListRules
from sagestack.services.sagemaker.model_packages import check_inference_specifications
from sagestack.services.sagemaker.model_registry import find
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.services.sagemaker.training_job_rules import check_s3_uri
from sagestack.spec.errors import ConflictException, ValidationException
from sagestack.spec.pagination import TokenCodec
from sagestack.store.base import ResourceStore

LIST_ALGORITHMS = ListRules(kind=ALGORITHM_KIND)


class AlgorithmsApi(ResourceApi):
    kind = ALGORITHM_KIND
    noun = "algorithm"

    def __init__(self, store: ResourceStore, tokens: TokenCodec, wake: Callable[[], None]) -> None:
        super().__init__(store, tokens)
        self.wake = wake

    @operation("CreateAlgorithm")
    def create_algorithm(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        check_training_specification(request["TrainingSpecification"])
        inference = request.get("InferenceSpecification")
        check_inference_specifications([inference] if inference else [])
        validation = request.get("ValidationSpecification")
        for profile in validation["ValidationProfiles"] if validation else []:
            _check_profile(request, profile)
        spec = {key: value for key, value in request.items() if key != "Tags"}
        profiles = (
            [p["ProfileName"] for p in validation["ValidationProfiles"]] if validation else []
        )
        images = [request["AlgorithmName"]] if request.get("CertifyForMarketplace") else []
        state = {
            "ValidationStatuses": status_items(profiles),
            "ImageScanStatuses": status_items(images),
        }
        status = "Pending" if profiles or images else "Completed"
        record = self.create_record(
            ctx, request["AlgorithmName"], spec, request.get("Tags"), status=status, state=state
        )
        if status == "Pending":
            self.wake()
        return {"AlgorithmArn": record.arn}

    @operation("DescribeAlgorithm")
    def describe_algorithm(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return described(self._algorithm(ctx, request["AlgorithmName"]))

    @operation("ListAlgorithms")
    def list_algorithms(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, next_token = self.list_page(ctx, request, LIST_ALGORITHMS)
        return {"AlgorithmSummaryList": [summary(r) for r in records], "NextToken": next_token}

    @operation("DeleteAlgorithm")
    def delete_algorithm(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        record = self._algorithm(ctx, request["AlgorithmName"])
        if record.status in ("Pending", "InProgress"):
            raise ConflictException(
                f"Algorithm {record.arn} cannot be deleted while its validation is {record.status}."
            )
        self.delete_record(ctx, record.name)
        return {}

    def _algorithm(self, ctx: RequestContext, name_or_arn: str) -> ResourceRecord:
        record = find(self.store, ctx, ALGORITHM_KIND, name_or_arn)
        if record is None:
            shown = name_or_arn if name_or_arn.startswith("arn:") else self.arn_of(ctx, name_or_arn)
            raise ValidationException(f'Could not find algorithm "{shown}".')
        return record


def _check_profile(request: Mapping[str, Any], profile: Mapping[str, Any]) -> None:
    """A validation profile's training job must be one the algorithm accepts, and its
    transform job needs the algorithm's inference image."""
    definition = profile["TrainingJobDefinition"]
    try:
        applied(training_request(request["AlgorithmName"], definition), request)
    except ValidationException as error:
        raise ValidationException(
            f"Validation profile {profile['ProfileName']}: {error.message}"
        ) from None
    for channel in definition["InputDataConfig"]:
        source = channel["DataSource"].get("S3DataSource")
        if source:
            check_s3_uri(f"channel {channel['ChannelName']}", source["S3Uri"])
    check_s3_uri("OutputDataConfig.S3OutputPath", definition["OutputDataConfig"]["S3OutputPath"])
    if profile.get("TransformJobDefinition") and not request.get("InferenceSpecification"):
        raise ValidationException(
            f"Validation profile {profile['ProfileName']} has a TransformJobDefinition, which "
            "needs the algorithm's InferenceSpecification."
        )


def training_request(algorithm: str, definition: Mapping[str, Any]) -> dict[str, Any]:
    """The CreateTrainingJob members a TrainingJobDefinition stands for (no name, no role)."""
    request: dict[str, Any] = {
        "AlgorithmSpecification": {
            "AlgorithmName": algorithm,
            "TrainingInputMode": definition["TrainingInputMode"],
        },
        "InputDataConfig": definition["InputDataConfig"],
        "OutputDataConfig": definition["OutputDataConfig"],
        "ResourceConfig": definition["ResourceConfig"],
        "StoppingCondition": definition["StoppingCondition"],
    }
    if definition.get("HyperParameters"):
        request["HyperParameters"] = definition["HyperParameters"]
    return request


def described(record: ResourceRecord) -> dict[str, Any]:
    """DescribeAlgorithm's output (also what Search shows of an algorithm)."""
    output: dict[str, Any] = dict(record.spec)
    output.setdefault("CertifyForMarketplace", False)
    state, details = rendered_state(record)
    output.update(state)
    output.update(
        AlgorithmName=record.name,
        AlgorithmArn=record.arn,
        CreationTime=record.creation_time,
        AlgorithmStatus=record.status,
        AlgorithmStatusDetails=details,
    )
    return output


def summary(record: ResourceRecord) -> dict[str, Any]:
    """One AlgorithmSummaryList entry."""
    output = {
        "AlgorithmName": record.name,
        "AlgorithmArn": record.arn,
        "AlgorithmDescription": record.spec.get("AlgorithmDescription"),
        "CreationTime": record.creation_time,
        "AlgorithmStatus": record.status,
    }
    return {key: value for key, value in output.items() if value is not None}
