"""Resource lifecycles: which status changes each kind allows, and the one function that makes
them.

Every status written to a record goes through `transition()`, which checks the edge, stamps the
time and yields the StatusChanged event. The statuses are SageMaker's own, as listed by the
botocore enums named beside each table (a unit test checks them against the pinned model);
the edges are sagestack's reading of how SageMaker moves between them. Kinds without a table
(models, endpoint configs) have no status.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sagestack.resources.records import Event, ResourceRecord

Edges = Mapping[str, frozenset[str]]

#: Follows botocore's `EndpointStatus` enum (OutOfService is not reached by sagestack).
ENDPOINT_EDGES: Edges = {
    "Creating": frozenset({"InService", "Failed", "Deleting"}),
    "InService": frozenset({"Updating", "SystemUpdating", "Deleting"}),
    "Updating": frozenset({"InService", "RollingBack", "Failed", "Deleting"}),
    "RollingBack": frozenset({"InService", "UpdateRollbackFailed", "Failed"}),
    "SystemUpdating": frozenset({"InService"}),
    "Failed": frozenset({"Deleting", "Updating"}),
    "UpdateRollbackFailed": frozenset({"Deleting", "Updating"}),
    "Deleting": frozenset(),
}

#: Follows botocore's `ProcessingJobStatus` and `TransformJobStatus` enums, which have no
#: Deleting: DeleteProcessingJob removes the record directly.
JOB_EDGES: Edges = {
    "InProgress": frozenset({"Completed", "Failed", "Stopping"}),
    "Stopping": frozenset({"Stopped", "Completed", "Failed"}),
    "Completed": frozenset(),
    "Failed": frozenset(),
    "Stopped": frozenset(),
}

#: Follows botocore's `TrainingJobStatus` enum: the job pattern, plus Deleting from the end.
TRAINING_JOB_EDGES: Edges = {
    **JOB_EDGES,
    "Completed": frozenset({"Deleting"}),
    "Failed": frozenset({"Deleting"}),
    "Stopped": frozenset({"Deleting"}),
    "Deleting": frozenset(),
}

#: Follows botocore's `SecondaryStatus` enum: the secondary statuses a training job may show
#: under each primary status (LaunchingMLInstances, PreparingTrainingStack and
#: DownloadingTrainingImage are the older, finer-grained InProgress steps).
TRAINING_SECONDARY_STATUSES: Edges = {
    "InProgress": frozenset(
        {
            "Pending",
            "Starting",
            "LaunchingMLInstances",
            "PreparingTrainingStack",
            "Downloading",
            "DownloadingTrainingImage",
            "Training",
            "Uploading",
            "Restarting",
            "Updating",
        }
    ),
    "Stopping": frozenset({"Stopping"}),
    "Completed": frozenset({"Completed"}),
    "Failed": frozenset({"Failed"}),
    "Stopped": frozenset({"Stopped", "MaxRuntimeExceeded", "MaxWaitTimeExceeded", "Interrupted"}),
}

#: Follows botocore's `ModelPackageStatus` and `AlgorithmStatus` enums: records that need
#: validation (or an image scan) are created Pending, the others Completed. Deleting is never
#: stored: a delete removes the record.
VALIDATED_EDGES: Edges = {
    "Pending": frozenset({"InProgress", "Completed", "Failed"}),
    "InProgress": frozenset({"Completed", "Failed"}),
    "Completed": frozenset(),
    "Failed": frozenset(),
}

#: Follows botocore's `ProjectStatus` enum. DeleteInProgress ends with the record removed.
PROJECT_EDGES: Edges = {
    "Pending": frozenset({"CreateInProgress", "DeleteInProgress"}),
    "CreateInProgress": frozenset({"CreateCompleted", "CreateFailed"}),
    "CreateCompleted": frozenset({"UpdateInProgress", "DeleteInProgress"}),
    "CreateFailed": frozenset({"DeleteInProgress"}),
    "UpdateInProgress": frozenset({"UpdateCompleted", "UpdateFailed"}),
    "UpdateCompleted": frozenset({"UpdateInProgress", "DeleteInProgress"}),
    "UpdateFailed": frozenset({"UpdateInProgress", "DeleteInProgress"}),
    "DeleteInProgress": frozenset({"DeleteCompleted", "DeleteFailed"}),
    "DeleteFailed": frozenset({"DeleteInProgress"}),
    "DeleteCompleted": frozenset(),
}

#: Resource kind (ARN resource type) → its status edges.
LIFECYCLES: Mapping[str, Edges] = {
    "endpoint": ENDPOINT_EDGES,
    "training-job": TRAINING_JOB_EDGES,
    "processing-job": JOB_EDGES,
    "transform-job": JOB_EDGES,
    "model-package": VALIDATED_EDGES,
    "algorithm": VALIDATED_EDGES,
    "project": PROJECT_EDGES,
}


def allows(record: ResourceRecord, to_status: str) -> bool:
    """Whether the record's kind may go from its status to `to_status`."""
    return to_status in LIFECYCLES.get(record.kind, {}).get(record.status or "", frozenset())


class IllegalTransition(ValueError):
    """The kind's lifecycle has no edge from the record's status to the requested one."""


def transition(
    record: ResourceRecord,
    to_status: str,
    *,
    now: float,
    reason: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> tuple[ResourceRecord, Event]:
    """The record moved to `to_status` and the StatusChanged event saying so.

    Pure: nothing is stored. `reason` becomes the record's FailureReason and is carried in the
    event detail. The generation is left alone; the store bumps it when the update is written.
    """
    if not allows(record, to_status):
        raise IllegalTransition(
            f"{record.kind} {record.name!r} cannot go from {record.status} to {to_status}"
        )
    state = dict(record.state)
    event_detail = dict(detail or {})
    if reason is not None:
        state["FailureReason"] = reason
        event_detail["FailureReason"] = reason
    changed = dataclasses.replace(record, status=to_status, last_modified_time=now, state=state)
    event = Event(
        arn=record.arn,
        kind=record.kind,
        account=record.account,
        region=record.region,
        type="StatusChanged",
        time=now,
        status=to_status,
        previous_status=record.status,
        detail=event_detail,
    )
    return changed, event


def created_event(record: ResourceRecord) -> Event:
    """The Created event of a record about to be inserted."""
    return Event(
        arn=record.arn,
        kind=record.kind,
        account=record.account,
        region=record.region,
        type="Created",
        time=record.creation_time,
        status=record.status,
    )


def deleted_event(record: ResourceRecord, *, now: float) -> Event:
    """The Deleted event of a record about to be removed; it carries its last status."""
    return Event(
        arn=record.arn,
        kind=record.kind,
        account=record.account,
        region=record.region,
        type="Deleted",
        time=now,
        previous_status=record.status,
    )
