"""Batch transform jobs: CreateTransformJob, DescribeTransformJob, ListTransformJobs,
StopTransformJob (botocore's model has no DeleteTransformJob).

The handlers write desired state and wake the reconciler; the transform controller
(`sagestack.control.transform`) starts the model's replicas, sends the records and fills the
record's `state` (see `sagestack.resources.transform_jobs`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources import transform_jobs as jobs
from sagestack.resources.arns import arn
from sagestack.resources.records import ResourceRecord
from sagestack.services.sagemaker.listing import ListRules
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.services.sagemaker.transform_job_rules import check_create
from sagestack.spec.errors import ResourceInUse, ServiceError, ValidationException
from sagestack.spec.pagination import TokenCodec
from sagestack.store.base import ResourceStore

LIST_TRANSFORM_JOBS = ListRules(
    kind=jobs.KIND,
    sort_columns={"Name": "Name", "CreationTime": "CreationTime", "Status": "Status"},
)

#: What DescribeTransformJob shows for members the request left out.
_DATA_PROCESSING_DEFAULTS = {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None"}


def not_found(name: str) -> ValidationException:
    return ValidationException(f"Could not find requested job with name {name}")


class TransformJobsApi(ResourceApi):
    kind = jobs.KIND
    noun = "transform job"

    def __init__(self, store: ResourceStore, tokens: TokenCodec, wake: Callable[[], None]) -> None:
        super().__init__(store, tokens)
        self.wake = wake

    @operation("CreateTransformJob")
    def create_transform_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        model_name = request["ModelName"]
        model = self.store.get("model", ctx.account, ctx.region, model_name)
        if model is None:
            model_arn = arn("model", ctx.account, ctx.region, model_name)
            raise ValidationException(f'Could not find model "{model_arn}".')
        check_create(request, model.spec)
        spec = {key: value for key, value in request.items() if key != "Tags"}
        spec["Model"] = dict(model.spec)
        record = self.create_record(
            ctx, request["TransformJobName"], spec, request.get("Tags"), status="InProgress"
        )
        self.wake()
        return {"TransformJobArn": record.arn}

    def already_exists(self, arn: str) -> ServiceError:
        return ResourceInUse(
            "Job name must be unique within an AWS account and region, and a job with this "
            f"name already exists ({arn})"
        )

    @operation("DescribeTransformJob")
    def describe_transform_job(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        name = request["TransformJobName"]
        record = self.store.get(self.kind, ctx.account, ctx.region, name)
        if record is None:
            raise not_found(name)
        return described(record)

    @operation("ListTransformJobs")
    def list_transform_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, next_token = self.list_page(ctx, request, LIST_TRANSFORM_JOBS)
        return {"TransformJobSummaries": [summary(r) for r in records], "NextToken": next_token}

    @operation("StopTransformJob")
    def stop_transform_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["TransformJobName"]
        self.stop_job(ctx, name, jobs.advance, not_found(name))
        self.wake()
        return {}


def described(record: ResourceRecord) -> dict[str, Any]:
    """DescribeTransformJob's output: the request as sent with the defaults SageMaker fills in
    (those the model server chose once the job ran), and what the controller observed."""
    spec = record.spec
    output: dict[str, Any] = {
        key: value for key, value in spec.items() if key not in ("Model", "TransformJobName")
    }
    for member, value in record.state.get("Resolved", {}).items():
        output.setdefault(member, value)
    output["TransformInput"] = {
        "CompressionType": "None",
        "SplitType": "None",
        **spec["TransformInput"],
    }
    output["TransformOutput"] = {"AssembleWith": "None", **spec["TransformOutput"]}
    output["DataProcessing"] = {**_DATA_PROCESSING_DEFAULTS, **spec.get("DataProcessing", {})}
    output.update(
        (key, value) for key, value in record.state.items() if key not in jobs.INTERNAL_STATE
    )
    output.update(
        TransformJobName=record.name,
        TransformJobArn=record.arn,
        TransformJobStatus=record.status,
        CreationTime=record.creation_time,
    )
    return output


def summary(record: ResourceRecord) -> dict[str, Any]:
    """One TransformJobSummaries entry of ListTransformJobs."""
    return {
        "TransformJobName": record.name,
        "TransformJobArn": record.arn,
        "CreationTime": record.creation_time,
        "TransformEndTime": record.state.get("TransformEndTime"),
        "LastModifiedTime": record.last_modified_time,
        "TransformJobStatus": record.status,
        "FailureReason": record.state.get("FailureReason"),
    }
