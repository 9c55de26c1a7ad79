"""What a training-job record holds, shared by its API (services) and its controller (control).

`spec` is the CreateTrainingJob request as validated (minus Tags); DescribeTrainingJob renders
it back. `state` is what the controller observed, in DescribeTrainingJob's own member names:

- `SecondaryStatus`, and `SecondaryStatusTransitions`: [{Status, StartTime, EndTime?,
  StatusMessage}], the open one last (its EndTime is stamped when the next one starts);
- `TrainingStartTime`, `TrainingEndTime`, `TrainingTimeInSeconds`, `BillableTimeInSeconds`;
- `ModelArtifacts`: {S3ModelArtifacts}; `OutputDataArtifacts`: the output.tar.gz URI (internal);
- `FinalMetricDataList`: [{MetricName, Value, Timestamp}]; `FailureReason`;
- `StopRequested`: True once StopTrainingJob was called (internal, never rendered);
- `Workloads`: the executor's identities of the job's processes (internal, never rendered).

Every change of primary or secondary status goes through `advance`, so the transitions list,
the record's status and its StatusChanged event never disagree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sagestack.resources.lifecycles import TRAINING_SECONDARY_STATUSES, transition
from sagestack.resources.records import Event, ResourceRecord

KIND = "training-job"

#: SageMaker's messages for each secondary status, as DescribeTrainingJob shows them.
MESSAGES: Mapping[str, str] = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": (
        "Job stopped because it exceeded the maximum allowed runtime (MaxRuntimeInSeconds)"
    ),
}

#: The primary status each secondary status belongs to.
PRIMARY: Mapping[str, str] = {
    secondary: primary
    for primary, secondaries in TRAINING_SECONDARY_STATUSES.items()
    for secondary in secondaries
}

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})


def initial_state(now: float) -> dict[str, Any]:
    """The state of a job just created: InProgress / Starting."""
    return {
        "SecondaryStatus": "Starting",
        "SecondaryStatusTransitions": [
            {"Status": "Starting", "StartTime": now, "StatusMessage": MESSAGES["Starting"]}
        ],
    }


def advance(
    record: ResourceRecord,
    secondary: str,
    *,
    now: float,
    message: str | None = None,
    reason: str | None = None,
    **state: Any,
) -> tuple[ResourceRecord, Event | None]:
    """The record moved to `secondary` (and to its primary status, when that changes), with
    the open transition closed and a new one opened; `state` members are set alongside.

    Returns the StatusChanged event when the primary status changed, else None. Pure.
    """
    primary = PRIMARY[secondary]
    event = None
    if primary != record.status:
        record, event = transition(record, primary, now=now, reason=reason)
    elif reason is not None:
        state["FailureReason"] = reason
    transitions = [dict(t) for t in record.state.get("SecondaryStatusTransitions", [])]
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1]["EndTime"] = now
    entry: dict[str, Any] = {
        "Status": secondary,
        "StartTime": now,
        "StatusMessage": message or MESSAGES.get(secondary, secondary),
    }
    if secondary in TERMINAL or secondary == "MaxRuntimeExceeded":
        entry["EndTime"] = now
    transitions.append(entry)
    merged = {
        **record.state,
        **state,
        "SecondaryStatus": secondary,
        "SecondaryStatusTransitions": transitions,
    }
    changed = dataclasses.replace(record, state=merged, last_modified_time=now)
    return changed, event
