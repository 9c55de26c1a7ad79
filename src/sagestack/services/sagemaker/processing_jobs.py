"""Processing jobs: CreateProcessingJob, DescribeProcessingJob, ListProcessingJobs,
StopProcessingJob, DeleteProcessingJob.

The handlers write desired state and wake the reconciler; the processing controller
(`sagestack.control.processing`) runs the job and fills the record's `state` (see
`sagestack.resources.processing_jobs`). Every status change goes through `advance`, and every
write is a compare-and-set on the record's generation, retried when the controller wrote first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources import processing_jobs as jobs
from sagestack.resources.lifecycles import deleted_event
from sagestack.resources.records import ResourceRecord
from sagestack.services.sagemaker.listing import ListRules
from sagestack.services.sagemaker.processing_job_rules import check_create
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.spec.errors import (
    ResourceInUse,
    ResourceNotFound,
    ServiceError,
    ValidationException,
)
from sagestack.spec.pagination import TokenCodec
from sagestack.store.base import ResourceStore

LIST_PROCESSING_JOBS = ListRules(
    kind=jobs.KIND,
    sort_columns={"Name": "Name", "CreationTime": "CreationTime", "Status": "Status"},
)


def not_found(name: str) -> str:
    return f"Could not find requested job with name {name}"


class ProcessingJobsApi(ResourceApi):
    kind = jobs.KIND
    noun = "processing job"

    def __init__(self, store: ResourceStore, tokens: TokenCodec, wake: Callable[[], None]) -> None:
        super().__init__(store, tokens)
        self.wake = wake

    @operation("CreateProcessingJob")
    def create_processing_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        check_create(request)
        name = request["ProcessingJobName"]
        spec = {key: value for key, value in request.items() if key != "Tags"}
        record = self.create_record(ctx, name, spec, request.get("Tags"), status="InProgress")
        self.wake()
        return {"ProcessingJobArn": record.arn}

    def already_exists(self, arn: str) -> ServiceError:
        return ResourceInUse(
            "Processing job names must be unique within an AWS account and region, and a "
            f"processing job with this name already exists ({arn})"
        )

    @operation("DescribeProcessingJob")
    def describe_processing_job(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return described(self._job(ctx, request["ProcessingJobName"]))

    @operation("ListProcessingJobs")
    def list_processing_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, next_token = self.list_page(ctx, request, LIST_PROCESSING_JOBS)
        return {"ProcessingJobSummaries": [summary(r) for r in records], "NextToken": next_token}

    @operation("StopProcessingJob")
    def stop_processing_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["ProcessingJobName"]
        self.stop_job(ctx, name, jobs.advance, ValidationException(not_found(name)))
        self.wake()
        return {}

    @operation("DeleteProcessingJob")
    def delete_processing_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["ProcessingJobName"]
        record = self.store.get(self.kind, ctx.account, ctx.region, name)
        if record is None:
            raise ResourceNotFound(not_found(name))
        if record.status not in jobs.TERMINAL:
            raise ResourceInUse(
                f"Processing job {name} is in status {record.status}. Only a processing job in "
                "a terminal state (Completed, Failed or Stopped) can be deleted."
            )
        removed = self.store.delete(
            self.kind, ctx.account, ctx.region, name, event=deleted_event(record, now=ctx.now)
        )
        if removed is None:  # deleted by a concurrent request in between
            raise ResourceNotFound(not_found(name))
        return {}

    def _job(self, ctx: RequestContext, name: str) -> ResourceRecord:
        record = self.store.get(self.kind, ctx.account, ctx.region, name)
        if record is None:
            raise ValidationException(not_found(name))
        return record


def described(record: ResourceRecord) -> dict[str, Any]:
    """DescribeProcessingJob's output: the request as sent with the defaults SageMaker fills
    in, and what the controller observed."""
    spec = record.spec
    output: dict[str, Any] = {k: v for k, v in spec.items() if k != "ProcessingJobName"}
    if "ProcessingInputs" in spec:
        output["ProcessingInputs"] = [
            _input_with_defaults(item) for item in spec["ProcessingInputs"]
        ]
    if "ProcessingOutputConfig" in spec:
        config = spec["ProcessingOutputConfig"]
        output["ProcessingOutputConfig"] = {
            **config,
            "Outputs": [{"AppManaged": False, **o} for o in config.get("Outputs", [])],
        }
    output.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": 86400})
    output.update(
        (key, value) for key, value in record.state.items() if key not in jobs.INTERNAL_STATE
    )
    output.update(
        ProcessingJobName=record.name,
        ProcessingJobArn=record.arn,
        ProcessingJobStatus=record.status,
        CreationTime=record.creation_time,
        LastModifiedTime=record.last_modified_time,
    )
    return output


def _input_with_defaults(item: dict[str, Any]) -> dict[str, Any]:
    filled = {"AppManaged": False, **item}
    if "S3Input" in item:
        filled["S3Input"] = {
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
            **item["S3Input"],
        }
    return filled


def summary(record: ResourceRecord) -> dict[str, Any]:
    """One ProcessingJobSummaries entry of ListProcessingJobs."""
    return {
        "ProcessingJobName": record.name,
        "ProcessingJobArn": record.arn,
        "CreationTime": record.creation_time,
        "ProcessingEndTime": record.state.get("ProcessingEndTime"),
        "LastModifiedTime": record.last_modified_time,
        "ProcessingJobStatus": record.status,
        "FailureReason": record.state.get("FailureReason"),
        "ExitMessage": record.state.get("ExitMessage"),
    }
