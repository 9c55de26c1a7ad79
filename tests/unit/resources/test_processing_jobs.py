"""The processing-job record's one status function."""

from __future__ import annotations

import pytest

from sagestack.resources.lifecycles import IllegalTransition
from sagestack.resources.processing_jobs import KIND, advance
from sagestack.resources.records import ResourceRecord


def job(status: str = "InProgress") -> ResourceRecord:
    return ResourceRecord(
        kind=KIND,
        account="000000000000",
        region="us-east-1",
        name="job",
        arn="arn:aws:sagemaker:us-east-1:000000000000:processing-job/job",
        spec={},
        creation_time=1.0,
        last_modified_time=1.0,
        status=status,
    )


def test_a_state_change_without_a_status_change_has_no_event() -> None:
    record, event = advance(job(), "InProgress", now=2.0, ProcessingStartTime=2.0)
    assert event is None
    assert record.state == {"ProcessingStartTime": 2.0}
    assert record.last_modified_time == 2.0


def test_failing_stamps_the_reason_and_yields_the_event() -> None:
    record, event = advance(job(), "Failed", now=3.0, reason="AlgorithmError: x, exit code: 1")
    assert record.status == "Failed"
    assert record.state["FailureReason"] == "AlgorithmError: x, exit code: 1"
    assert event is not None and (event.previous_status, event.status) == ("InProgress", "Failed")


def test_an_ended_job_cannot_move() -> None:
    with pytest.raises(IllegalTransition):
        advance(job("Completed"), "Stopping", now=4.0)
