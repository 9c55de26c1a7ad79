"""Training jobs: CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob,
UpdateTrainingJob, DeleteTrainingJob.

The handlers write desired state and wake the reconciler; the training controller runs the job
and fills the record's `state` (see `sagestack.resources.training_jobs`). Every status change
made here goes through `advance`, and every write is a compare-and-set on the record's
generation, retried when the controller wrote first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources import training_jobs as jobs
from sagestack.resources.lifecycles import deleted_event
from sagestack.resources.model_packages import ALGORITHM_KIND
from sagestack.resources.records import Event, ResourceRecord
from sagestack.services.sagemaker.algorithm_rules import applied
from sagestack.services.sagemaker.listing import ListRules
from sagestack.services.sagemaker.model_registry import find
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.services.sagemaker.training_job_rules import check_create
from sagestack.spec.errors import ResourceInUse, ServiceError, ValidationException
from sagestack.spec.pagination import TokenCodec
from sagestack.store.base import ResourceStore

LIST_TRAINING_JOBS = ListRules(
    kind=jobs.KIND,
    sort_columns={"Name": "Name", "CreationTime": "CreationTime", "Status": "Status"},
)

NOT_FOUND = "Requested resource not found."
EMPTY_UPDATE = "Invalid UpdateTrainingJobRequest, the request cannot be empty"
_UPDATABLE = ("ProfilerConfig", "ProfilerRuleConfigurations", "ResourceConfig", "RemoteDebugConfig")
#: SecondaryStatus values in which RemoteDebugConfig may be updated (UpdateTrainingJob's docs).
_REMOTE_DEBUG_STEPS = frozenset({"Downloading", "Training"})
#: `state` members the controller keeps for itself; never rendered.
_INTERNAL_STATE = frozenset({"StopRequested", "OutputDataArtifacts", "AlgorithmTrainingImage"})
#: How many times a write is retried when the controller changed the record in between.

#: A change to a record: the changed record and its event, or raises ValidationException.


class TrainingJobsApi(ResourceApi):
    kind = jobs.KIND
    noun = "training job"

    def __init__(self, store: ResourceStore, tokens: TokenCodec, wake: Callable[[], None]) -> None:
        super().__init__(store, tokens)
        self.wake = wake

    @operation("CreateTrainingJob")
    def create_training_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        check_create(request, lambda name: self._algorithm_exists(ctx, name))
        state = jobs.initial_state(ctx.now)
        algorithm_name = request["AlgorithmSpecification"].get("AlgorithmName")
        if algorithm_name:
            algorithm = self._algorithm(ctx, algorithm_name)
            request = applied(request, algorithm.spec)
            # The image the algorithm trains with: the controller runs it, Describe hides it
            # (SageMaker shows an algorithm job's AlgorithmName, never its image).
            state["AlgorithmTrainingImage"] = algorithm.spec["TrainingSpecification"][
                "TrainingImage"
            ]
        name = request["TrainingJobName"]
        spec = {key: value for key, value in request.items() if key != "Tags"}
        record = self.create_record(
            ctx, name, spec, request.get("Tags"), status="InProgress", state=state
        )
        self.wake()
        return {"TrainingJobArn": record.arn}

    def already_exists(self, arn: str) -> ServiceError:
        return ResourceInUse(
            "Training job names must be unique within an AWS account and region, and a "
            f"training job with this name already exists ({arn})"
        )

    @operation("DescribeTrainingJob")
    def describe_training_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return described(self._job(ctx, request["TrainingJobName"]))

    @operation("ListTrainingJobs")
    def list_training_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("WarmPoolStatusEquals") or request.get("TrainingPlanArnEquals"):
            # sagestack keeps no warm pools and knows no training plans: nothing matches.
            return {"TrainingJobSummaries": []}
        records, next_token = self.list_page(ctx, request, LIST_TRAINING_JOBS)
        return {"TrainingJobSummaries": [summary(r) for r in records], "NextToken": next_token}

    @operation("StopTrainingJob")
    def stop_training_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        self.stop_job(ctx, request["TrainingJobName"], jobs.advance, ValidationException(NOT_FOUND))
        self.wake()
        return {}

    @operation("UpdateTrainingJob")
    def update_training_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        updates = {key: request[key] for key in _UPDATABLE if request.get(key) is not None}
        if not updates:
            raise ValidationException(EMPTY_UPDATE)

        def update(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            return _updated(record, updates, now=ctx.now)

        record = self.change(
            ctx, request["TrainingJobName"], update, ValidationException(NOT_FOUND)
        )
        return {"TrainingJobArn": record.arn}

    @operation("DeleteTrainingJob")
    def delete_training_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        record = self._job(ctx, request["TrainingJobName"])
        if record.status not in jobs.TERMINAL:
            raise ValidationException(
                f"The request was rejected because the training job is in status "
                f"{record.status}. Only a training job in a terminal state (Completed, Failed "
                "or Stopped) can be deleted."
            )
        removed = self.store.delete(
            self.kind,
            ctx.account,
            ctx.region,
            record.name,
            event=deleted_event(record, now=ctx.now),
        )
        if removed is None:
            raise ValidationException(NOT_FOUND)
        self.wake()
        return {}

    # -- records ----------------------------------------------------------------------------

    def _job(self, ctx: RequestContext, name: str) -> ResourceRecord:
        record = self.store.get(self.kind, ctx.account, ctx.region, name)
        if record is None:
            raise ValidationException(NOT_FOUND)
        return record

    def _algorithm_exists(self, ctx: RequestContext, name_or_arn: str) -> bool:
        return find(self.store, ctx, ALGORITHM_KIND, name_or_arn) is not None

    def _algorithm(self, ctx: RequestContext, name_or_arn: str) -> ResourceRecord:
        """The algorithm a job names (checked to exist by `check_create`); one whose
        validation failed cannot train."""
        record = find(self.store, ctx, ALGORITHM_KIND, name_or_arn)
        if record is None:
            raise ValidationException(f'Could not find algorithm "{name_or_arn}".')
        if record.status == "Failed":
            raise ValidationException(
                f"Algorithm {record.arn} failed validation and cannot be used for training."
            )
        return record


def _updated(
    record: ResourceRecord, updates: Mapping[str, Any], *, now: float
) -> tuple[ResourceRecord, Event | None]:
    spec = dict(record.spec)
    if "RemoteDebugConfig" in updates:
        secondary = record.state.get("SecondaryStatus")
        if secondary not in _REMOTE_DEBUG_STEPS:
            raise ValidationException(
                "RemoteDebugConfig can be updated only while the training job's "
                f"SecondaryStatus is Downloading or Training; it is {secondary}."
            )
        spec["RemoteDebugConfig"] = {
            **spec.get("RemoteDebugConfig", {}),
            **updates["RemoteDebugConfig"],
        }
    if "ProfilerConfig" in updates:
        spec["ProfilerConfig"] = {**spec.get("ProfilerConfig", {}), **updates["ProfilerConfig"]}
    if "ProfilerRuleConfigurations" in updates:
        rules = {r["RuleConfigurationName"]: r for r in spec.get("ProfilerRuleConfigurations", [])}
        rules.update((r["RuleConfigurationName"], r) for r in updates["ProfilerRuleConfigurations"])
        spec["ProfilerRuleConfigurations"] = list(rules.values())
    if "ResourceConfig" in updates:
        keep_alive = updates["ResourceConfig"]["KeepAlivePeriodInSeconds"]
        spec["ResourceConfig"] = {**spec["ResourceConfig"], "KeepAlivePeriodInSeconds": keep_alive}
    changed = dataclasses.replace(record, spec=spec, last_modified_time=now)
    event = Event(
        arn=record.arn,
        kind=record.kind,
        account=record.account,
        region=record.region,
        type="Updated",
        time=now,
        status=record.status,
        detail={"Updated": sorted(updates)},
    )
    return changed, event


def described(record: ResourceRecord) -> dict[str, Any]:
    """DescribeTrainingJob's output: the request as sent with the defaults SageMaker fills in,
    and what the controller observed."""
    spec = record.spec
    output: dict[str, Any] = {k: v for k, v in spec.items() if k != "TrainingJobName"}
    output["AlgorithmSpecification"] = {
        "EnableSageMakerMetricsTimeSeries": False,
        **spec["AlgorithmSpecification"],
    }
    output["OutputDataConfig"] = {
        "KmsKeyId": "",
        "CompressionType": "GZIP",
        **spec["OutputDataConfig"],
    }
    if "InputDataConfig" in spec:
        output["InputDataConfig"] = [
            {"CompressionType": "None", "RecordWrapperType": "None", **channel}
            for channel in spec["InputDataConfig"]
        ]
    # Required by the model: where the model artifacts go, until the controller reports them.
    output["ModelArtifacts"] = {"S3ModelArtifacts": model_location(record)}
    output.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": 86400})
    for flag in (
        "EnableNetworkIsolation",
        "EnableInterContainerTrafficEncryption",
        "EnableManagedSpotTraining",
    ):
        output.setdefault(flag, False)
    profiler = spec.get("ProfilerConfig")
    if profiler is not None:
        output["ProfilerConfig"] = {"ProfilingIntervalInMilliseconds": 500, **profiler}
    enabled = profiler is not None and not profiler.get("DisableProfiler", False)
    output["ProfilingStatus"] = "Enabled" if enabled else "Disabled"
    output.update((key, value) for key, value in record.state.items() if key not in _INTERNAL_STATE)
    output.update(
        TrainingJobName=record.name,
        TrainingJobArn=record.arn,
        TrainingJobStatus=record.status,
        CreationTime=record.creation_time,
        LastModifiedTime=record.last_modified_time,
    )
    return output


def model_location(record: ResourceRecord) -> str:
    """Where the job's model.tar.gz is (or will be) uploaded."""
    output_path = str(record.spec["OutputDataConfig"]["S3OutputPath"]).rstrip("/")
    return f"{output_path}/{record.name}/output/model.tar.gz"


def summary(record: ResourceRecord) -> dict[str, Any]:
    """One TrainingJobSummaries entry of ListTrainingJobs."""
    return {
        "TrainingJobName": record.name,
        "TrainingJobArn": record.arn,
        "CreationTime": record.creation_time,
        "TrainingEndTime": record.state.get("TrainingEndTime"),
        "LastModifiedTime": record.last_modified_time,
        "TrainingJobStatus": record.status,
        "SecondaryStatus": record.state.get("SecondaryStatus"),
    }
