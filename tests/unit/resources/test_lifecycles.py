"""Lifecycles: the tables speak the model's enums, and transition() is pure and strict."""

from __future__ import annotations

import pytest

from sagestack.resources.arns import arn
from sagestack.resources.lifecycles import (
    LIFECYCLES,
    TRAINING_SECONDARY_STATUSES,
    IllegalTransition,
    created_event,
    deleted_event,
    transition,
)
from sagestack.resources.records import Event, ResourceRecord
from sagestack.spec.catalog import load_service

ENUMS = {
    "endpoint": "EndpointStatus",
    "training-job": "TrainingJobStatus",
    "processing-job": "ProcessingJobStatus",
    "transform-job": "TransformJobStatus",
    "model-package": "ModelPackageStatus",
    "algorithm": "AlgorithmStatus",
    "project": "ProjectStatus",
}


def enum(shape: str) -> set[str]:
    return set(load_service("sagemaker").shape_for(shape).enum)


@pytest.mark.parametrize("kind", sorted(LIFECYCLES))
def test_every_status_is_one_of_the_models_enum(kind: str) -> None:
    edges = LIFECYCLES[kind]
    used = set(edges).union(*edges.values())
    assert used <= enum(ENUMS[kind])
    assert set(edges) == used  # every status reached has its own (possibly empty) row


def test_secondary_statuses_are_the_models_and_sit_under_training_statuses() -> None:
    assert set(TRAINING_SECONDARY_STATUSES) <= set(LIFECYCLES["training-job"])
    used = set().union(*TRAINING_SECONDARY_STATUSES.values())
    assert used <= enum("SecondaryStatus")


def record(kind: str = "endpoint", status: str | None = "Creating") -> ResourceRecord:
    return ResourceRecord(
        kind=kind,
        account="111122223333",
        region="us-east-1",
        name="Thing",
        arn=arn(kind, "111122223333", "us-east-1", "Thing"),
        spec={"EndpointConfigName": "c"},
        creation_time=10.0,
        last_modified_time=10.0,
        status=status,
        state={"Replicas": 1},
        generation=4,
    )


def test_transition_returns_the_changed_record_and_its_event() -> None:
    before = record()
    after, event = transition(before, "Failed", now=20.0, reason="boom", detail={"Replicas": 0})
    assert (after.status, after.last_modified_time, after.generation) == ("Failed", 20.0, 4)
    assert after.state == {"Replicas": 1, "FailureReason": "boom"}
    assert before.status == "Creating" and before.state == {"Replicas": 1}
    assert event == Event(
        arn=before.arn,
        kind="endpoint",
        account="111122223333",
        region="us-east-1",
        type="StatusChanged",
        time=20.0,
        status="Failed",
        previous_status="Creating",
        detail={"Replicas": 0, "FailureReason": "boom"},
    )


def test_transition_without_reason_keeps_state() -> None:
    after, event = transition(record("training-job", "InProgress"), "Completed", now=1.0)
    assert after.state == {"Replicas": 1} and event.detail == {}


@pytest.mark.parametrize(
    ("kind", "start", "to"),
    [
        ("endpoint", "Creating", "Creating"),
        ("endpoint", "InService", "Creating"),
        ("endpoint", "Deleting", "InService"),
        ("endpoint", "SystemUpdating", "Deleting"),
        ("training-job", "Completed", "InProgress"),
        ("training-job", "InProgress", "Deleting"),
        ("processing-job", "Completed", "Deleting"),
        ("transform-job", "Stopped", "Stopping"),
        ("endpoint", None, "InService"),
        ("model", None, "InService"),
        ("endpoint", "Creating", "NoSuchStatus"),
    ],
)
def test_illegal_transitions(kind: str, start: str | None, to: str) -> None:
    with pytest.raises(IllegalTransition):
        transition(record(kind, start), to, now=1.0)


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("endpoint", ["Creating", "InService", "Updating", "RollingBack", "UpdateRollbackFailed"]),
        (
            "endpoint",
            ["Creating", "Failed", "Updating", "InService", "SystemUpdating", "InService"],
        ),
        ("training-job", ["InProgress", "Stopping", "Stopped", "Deleting"]),
        ("processing-job", ["InProgress", "Stopping", "Completed"]),
        ("transform-job", ["InProgress", "Failed"]),
    ],
)
def test_legal_paths(kind: str, path: list[str]) -> None:
    current = record(kind, path[0])
    for to in path[1:]:
        current, _ = transition(current, to, now=2.0)
    assert current.status == path[-1]


def test_created_and_deleted_events() -> None:
    thing = record()
    assert created_event(thing) == Event(
        thing.arn, "endpoint", "111122223333", "us-east-1", "Created", 10.0, status="Creating"
    )
    gone = deleted_event(thing, now=30.0)
    assert (gone.type, gone.time, gone.status, gone.previous_status) == (
        "Deleted",
        30.0,
        None,
        "Creating",
    )
