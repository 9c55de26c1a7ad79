"""What a processing-job record holds, shared by its API (services) and its controller (control).

`spec` is the CreateProcessingJob request as validated (minus Tags); DescribeProcessingJob
renders it back. `state` is what the controller observed, in DescribeProcessingJob's own member
names: `ProcessingStartTime`, `ProcessingEndTime`, `ExitMessage` (what the container wrote to
/opt/ml/output/message), `FailureReason`; and, never rendered, `StopRequested` (StopProcessingJob
was called) and `Workloads` (the executor's identities of the job's processes).

Processing jobs have no secondary status: every change goes through `advance`, which moves the
primary status (through `transition`) and sets state members in one step.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sagestack.resources.lifecycles import transition
from sagestack.resources.records import Event, ResourceRecord

KIND = "processing-job"

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})

#: `state` members the controller keeps for itself.
INTERNAL_STATE = frozenset({"StopRequested", "Workloads"})


def advance(
    record: ResourceRecord,
    status: str,
    *,
    now: float,
    reason: str | None = None,
    **state: Any,
) -> tuple[ResourceRecord, Event | None]:
    """The record in `status` (a StatusChanged event when that is a change) with `state`
    members set alongside. Pure; IllegalTransition for an edge the lifecycle lacks."""
    event = None
    if status != record.status:
        record, event = transition(record, status, now=now, reason=reason)
    elif reason is not None:
        state["FailureReason"] = reason
    changed = dataclasses.replace(record, state={**record.state, **state}, last_modified_time=now)
    return changed, event
