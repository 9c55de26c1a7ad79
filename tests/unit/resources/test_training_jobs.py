"""Training-job status changes: the transitions list, the primary status and its event agree."""

from __future__ import annotations

import pytest

from sagestack.resources.lifecycles import IllegalTransition
from sagestack.resources.records import ResourceRecord
from sagestack.resources.training_jobs import advance, initial_state


def job() -> ResourceRecord:
    return ResourceRecord(
        kind="training-job",
        account="000000000000",
        region="us-east-1",
        name="j",
        arn="arn:aws:sagemaker:us-east-1:000000000000:training-job/j",
        spec={},
        creation_time=100.0,
        last_modified_time=100.0,
        status="InProgress",
        state=initial_state(100.0),
    )


def test_secondary_steps_close_each_other_and_keep_the_primary() -> None:
    record, event = advance(job(), "Downloading", now=101.0)
    assert event is None and record.status == "InProgress"
    record, _ = advance(record, "Training", now=102.0, TrainingStartTime=102.0)
    transitions = record.state["SecondaryStatusTransitions"]
    assert [t["Status"] for t in transitions] == ["Starting", "Downloading", "Training"]
    assert transitions[0]["EndTime"] == 101.0 and transitions[1]["EndTime"] == 102.0
    assert "EndTime" not in transitions[2]
    assert record.state["SecondaryStatus"] == "Training"
    assert record.state["TrainingStartTime"] == 102.0


def test_ending_changes_the_primary_status_and_yields_its_event() -> None:
    record, _ = advance(job(), "Training", now=101.0)
    record, event = advance(record, "Failed", now=105.0, reason="AlgorithmError: boom")
    assert record.status == "Failed" and event is not None
    assert (event.previous_status, event.status) == ("InProgress", "Failed")
    assert record.state["FailureReason"] == "AlgorithmError: boom"
    assert record.state["SecondaryStatusTransitions"][-1]["EndTime"] == 105.0


def test_max_runtime_goes_through_stopping() -> None:
    record, _ = advance(job(), "Stopping", now=101.0)
    assert record.status == "Stopping"
    record, _ = advance(record, "MaxRuntimeExceeded", now=102.0)
    assert (record.status, record.state["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    with pytest.raises(IllegalTransition):
        advance(record, "Training", now=103.0)
