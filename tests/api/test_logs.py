"""CloudWatch Logs through a real boto3 `logs` client against a live server."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.support.server import ServerProcess

GROUP = "/aws/sagemaker/TrainingJobs"
DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def logs(server: ServerProcess) -> Any:
    server.reset()
    return make_client(server.url, "logs")


def now_ms() -> int:
    return int(time.time() * 1000)


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def stream_with(logs: Any, messages: list[str], *, group: str = GROUP, stream: str = "s") -> int:
    """A fresh group/stream holding `messages`, one millisecond apart; the first timestamp."""
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    start = now_ms() - 60_000
    events = [{"timestamp": start + i, "message": m} for i, m in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    return start


def messages(response: dict[str, Any]) -> list[str]:
    return [event["message"] for event in response["events"]]


# -- log groups -----------------------------------------------------------------------------


def test_create_and_describe_log_group(logs: Any) -> None:
    before = now_ms()
    logs.create_log_group(logGroupName="/app/web", kmsKeyId="arn:aws:kms:us-east-1:1:key/k")
    [group] = logs.describe_log_groups()["logGroups"]
    assert group["logGroupName"] == "/app/web"
    assert re.fullmatch(r"arn:aws:logs:us-east-1:\d{12}:log-group:/app/web:\*", group["arn"])
    assert group["logGroupArn"] == group["arn"].removesuffix(":*")
    assert group["logGroupArn"].startswith("arn:aws:logs:us-east-1:")
    assert before - 1000 <= group["creationTime"] <= now_ms()
    assert group["storedBytes"] == 0
    assert group["metricFilterCount"] == 0
    assert group["logGroupClass"] == "STANDARD"
    assert group["kmsKeyId"] == "arn:aws:kms:us-east-1:1:key/k"
    assert "retentionInDays" not in group


def test_create_log_group_errors(logs: Any) -> None:
    logs.create_log_group(logGroupName="dup")
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_group(logGroupName="dup")
    assert error_of(excinfo) == (
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    )
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_group(logGroupName="aws/reserved")
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_group(logGroupName="bad name!")
    assert error_of(excinfo)[0] in {"InvalidParameterException", "ValidationException"}


def test_describe_log_groups_filters(logs: Any) -> None:
    for name in ("/a/one", "/a/two", "/b/DataLogs", "/b/datalogs"):
        logs.create_log_group(logGroupName=name)
    by_prefix = logs.describe_log_groups(logGroupNamePrefix="/a/")["logGroups"]
    assert [g["logGroupName"] for g in by_prefix] == ["/a/one", "/a/two"]
    by_pattern = logs.describe_log_groups(logGroupNamePattern="DataLogs")["logGroups"]
    assert [sorted(g) for g in by_pattern] == [["arn", "creationTime", "logGroupName"]]
    assert by_pattern[0]["logGroupName"] == "/b/DataLogs"
    listed = logs.describe_log_groups(
        logGroupIdentifiers=["/a/two", by_prefix[0]["logGroupArn"], "/missing"]
    )["logGroups"]
    assert [g["logGroupName"] for g in listed] == ["/a/one", "/a/two"]
    with pytest.raises(ClientError) as excinfo:
        logs.describe_log_groups(logGroupNamePrefix="/a", logGroupNamePattern="x")
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_describe_log_groups_pages(logs: Any) -> None:
    names = [f"/group/{index}" for index in range(5)]
    for name in reversed(names):
        logs.create_log_group(logGroupName=name)
    first = logs.describe_log_groups(limit=2)
    assert [g["logGroupName"] for g in first["logGroups"]] == names[:2]
    second = logs.describe_log_groups(limit=2, nextToken=first["nextToken"])
    third = logs.describe_log_groups(limit=2, nextToken=second["nextToken"])
    assert [g["logGroupName"] for g in third["logGroups"]] == names[4:]
    assert "nextToken" not in third
    assert "nextToken" not in logs.describe_log_groups(limit=5)
    pages = logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 2})
    assert [g["logGroupName"] for page in pages for g in page["logGroups"]] == names
    with pytest.raises(ClientError) as excinfo:
        logs.describe_log_groups(limit=2, logGroupNamePrefix="/g", nextToken=first["nextToken"])
    assert error_of(excinfo) == ("InvalidParameterException", "The specified nextToken is invalid.")
    with pytest.raises(ClientError) as excinfo:
        logs.describe_log_groups(nextToken="garbage")
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_delete_log_group_removes_streams_and_events(logs: Any) -> None:
    stream_with(logs, ["one"], group="gone")
    logs.delete_log_group(logGroupName="gone")
    assert logs.describe_log_groups()["logGroups"] == []
    with pytest.raises(ClientError) as excinfo:
        logs.delete_log_group(logGroupName="gone")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    logs.create_log_group(logGroupName="gone")
    assert logs.describe_log_streams(logGroupName="gone")["logStreams"] == []
    assert logs.filter_log_events(logGroupName="gone")["events"] == []


def test_deletion_protection_blocks_deletes(logs: Any) -> None:
    stream_with(logs, ["kept"], group="guarded")
    logs.put_log_group_deletion_protection(
        logGroupIdentifier="guarded", deletionProtectionEnabled=True
    )
    assert logs.describe_log_groups()["logGroups"][0]["deletionProtectionEnabled"] is True
    for attempt in (
        lambda: logs.delete_log_group(logGroupName="guarded"),
        lambda: logs.delete_log_stream(logGroupName="guarded", logStreamName="s"),
    ):
        with pytest.raises(ClientError) as excinfo:
            attempt()
        assert error_of(excinfo)[0] == "ValidationException"
    logs.put_log_group_deletion_protection(
        logGroupIdentifier="guarded", deletionProtectionEnabled=False
    )
    logs.delete_log_group(logGroupName="guarded")
    assert logs.describe_log_groups()["logGroups"] == []


# -- retention --------------------------------------------------------------------------------


def test_retention_policy_set_shown_validated_removed(logs: Any) -> None:
    logs.create_log_group(logGroupName="kept")
    logs.put_retention_policy(logGroupName="kept", retentionInDays=7)
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 7
    with pytest.raises(ClientError) as excinfo:
        logs.put_retention_policy(logGroupName="kept", retentionInDays=2)
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException"
    assert "1, 3, 5, 7, 14" in message
    logs.delete_retention_policy(logGroupName="kept")
    assert "retentionInDays" not in logs.describe_log_groups()["logGroups"][0]
    with pytest.raises(ClientError) as excinfo:
        logs.put_retention_policy(logGroupName="missing", retentionInDays=1)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        logs.delete_retention_policy(logGroupName="missing")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_events_older_than_the_retention_are_not_returned(logs: Any) -> None:
    logs.create_log_group(logGroupName="ret")
    logs.create_log_stream(logGroupName="ret", logStreamName="s")
    now = now_ms()
    for timestamp, message in ((now - 3 * DAY_MS, "old"), (now - 1000, "new")):
        logs.put_log_events(
            logGroupName="ret",
            logStreamName="s",
            logEvents=[{"timestamp": timestamp, "message": message}],
        )
    logs.put_retention_policy(logGroupName="ret", retentionInDays=1)
    assert messages(logs.get_log_events(logGroupName="ret", logStreamName="s")) == ["new"]
    assert messages(logs.filter_log_events(logGroupName="ret")) == ["new"]
    logs.delete_retention_policy(logGroupName="ret")
    assert messages(logs.filter_log_events(logGroupName="ret")) == ["old", "new"]


# -- log streams ------------------------------------------------------------------------------


def test_log_stream_lifecycle_and_errors(logs: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_stream(logGroupName="nope", logStreamName="s")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_stream(logGroupName="g", logStreamName="s")
    assert error_of(excinfo) == (
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    )
    [stream] = logs.describe_log_streams(logGroupName="g")["logStreams"]
    assert stream["logStreamName"] == "s"
    assert stream["arn"].endswith(":log-group:g:log-stream:s")
    assert stream["storedBytes"] == 0
    assert not {"firstEventTimestamp", "lastEventTimestamp", "uploadSequenceToken"} & set(stream)
    logs.delete_log_stream(logGroupName="g", logStreamName="s")
    with pytest.raises(ClientError) as excinfo:
        logs.delete_log_stream(logGroupName="g", logStreamName="s")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    with pytest.raises(ClientError) as excinfo:
        logs.describe_log_streams(logGroupName="nope")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_describe_log_streams_orders_and_pages(logs: Any) -> None:
    logs.create_log_group(logGroupName="g")
    base = now_ms() - 10_000
    # Names in one order, last event times in the reverse one; "e" has no events.
    for index, name in enumerate(["a", "b", "c", "d"]):
        logs.create_log_stream(logGroupName="g", logStreamName=name)
        logs.put_log_events(
            logGroupName="g",
            logStreamName=name,
            logEvents=[{"timestamp": base + 100 * (4 - index), "message": name}],
        )
    logs.create_log_stream(logGroupName="g", logStreamName="e")

    def listed(**kwargs: Any) -> list[str]:
        pages = logs.get_paginator("describe_log_streams").paginate(logGroupName="g", **kwargs)
        return [s["logStreamName"] for page in pages for s in page["logStreams"]]

    assert listed() == ["a", "b", "c", "d", "e"]
    assert listed(descending=True, PaginationConfig={"PageSize": 2}) == ["e", "d", "c", "b", "a"]
    assert listed(orderBy="LastEventTime", PaginationConfig={"PageSize": 2}) == [
        "e", "d", "c", "b", "a"
    ]  # fmt: skip
    by_time = listed(orderBy="LastEventTime", descending=True, PaginationConfig={"PageSize": 1})
    assert by_time == ["a", "b", "c", "d", "e"]
    first = logs.describe_log_streams(logGroupName="g", limit=2)
    assert [s["logStreamName"] for s in first["logStreams"]] == ["a", "b"]
    with pytest.raises(ClientError) as excinfo:  # a token only continues its own listing
        logs.describe_log_streams(logGroupName="g", limit=2, descending=True, **_next(first))
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        logs.describe_log_streams(
            logGroupName="g", orderBy="LastEventTime", logStreamNamePrefix="a"
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"


def _next(response: dict[str, Any]) -> dict[str, Any]:
    return {"nextToken": response["nextToken"]}


def test_describe_log_streams_has_no_token_when_everything_fits(logs: Any) -> None:
    """SageMaker SDK 2.x loops forever on a nextToken after a complete listing."""
    logs.create_log_group(logGroupName=GROUP)
    for name in ("job/algo-1-1", "job/algo-2-1", "other/algo-1-1"):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=name)
    exact = logs.describe_log_streams(
        logGroupName=GROUP, logStreamNamePrefix="job/", orderBy="LogStreamName", limit=2
    )
    assert [s["logStreamName"] for s in exact["logStreams"]] == ["job/algo-1-1", "job/algo-2-1"]
    assert "nextToken" not in exact
    roomy = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="job/", limit=50)
    assert "nextToken" not in roomy
    short = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="job/", limit=1)
    assert "nextToken" in short
    assert "nextToken" not in logs.describe_log_streams(
        logGroupName=GROUP, logStreamNamePrefix="none/", limit=1
    )


def test_log_group_identifier_forms(logs: Any) -> None:
    logs.create_log_group(logGroupName="ident")
    logs.create_log_stream(logGroupName="ident", logStreamName="s")
    arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    for identifier in ("ident", arn):
        streams = logs.describe_log_streams(logGroupIdentifier=identifier)["logStreams"]
        assert [s["logStreamName"] for s in streams] == ["s"]
    with pytest.raises(ClientError) as excinfo:
        logs.describe_log_streams(logGroupName="ident", logGroupIdentifier="ident")
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        logs.describe_log_streams()
    assert error_of(excinfo)[0] == "InvalidParameterException"
    other_account = arn.replace(":log-group:", ":log-group:x").replace(arn.split(":")[4], "1" * 12)
    with pytest.raises(ClientError) as excinfo:
        logs.get_log_events(logGroupIdentifier=other_account, logStreamName="s")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


# -- PutLogEvents -----------------------------------------------------------------------------


def test_put_log_events_updates_stream_and_group(logs: Any) -> None:
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    now = now_ms()
    first = logs.put_log_events(
        logGroupName="g",
        logStreamName="s",
        logEvents=[{"timestamp": now - 50, "message": "héllo"}, {"timestamp": now, "message": "x"}],
        sequenceToken="ignored",
    )
    assert "rejectedLogEventsInfo" not in first
    second = logs.put_log_events(
        logGroupName="g", logStreamName="s", logEvents=[{"timestamp": now, "message": "y"}]
    )
    assert second["nextSequenceToken"] != first["nextSequenceToken"]
    [stream] = logs.describe_log_streams(logGroupName="g")["logStreams"]
    assert stream["firstEventTimestamp"] == now - 50
    assert stream["lastEventTimestamp"] == now
    assert stream["lastIngestionTime"] >= now - 1000
    assert stream["uploadSequenceToken"] == second["nextSequenceToken"]
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == len("héllo".encode()) + 2


def test_put_log_events_to_missing_targets(logs: Any) -> None:
    event = [{"timestamp": now_ms(), "message": "m"}]
    with pytest.raises(ClientError) as excinfo:
        logs.put_log_events(logGroupName="nope", logStreamName="s", logEvents=event)
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    logs.create_log_group(logGroupName="g")
    with pytest.raises(ClientError) as excinfo:
        logs.put_log_events(logGroupName="g", logStreamName="nope", logEvents=event)
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )


def test_put_log_events_batch_rules(logs: Any) -> None:
    stream_with(logs, ["seed"], group="g")
    now = now_ms()

    def put(events: list[dict[str, Any]]) -> tuple[str, str]:
        with pytest.raises(ClientError) as excinfo:
            logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=events)
        return error_of(excinfo)

    code, message = put(
        [{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]
    )
    assert (code, "chronological order" in message) == ("InvalidParameterException", True)
    code, message = put(
        [{"timestamp": now - DAY_MS - 1, "message": "a"}, {"timestamp": now, "message": "b"}]
    )
    assert (code, "24 hours" in message) == ("InvalidParameterException", True)
    # 1,048,576 bytes counts 26 per event: 2 events of (524,288 - 26) bytes just fit.
    fitting = [{"timestamp": now, "message": "x" * (524_288 - 26)}] * 2
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=fitting)
    code, message = put([*fitting, {"timestamp": now, "message": "y"}])
    assert (code, "1048576" in message) == ("InvalidParameterException", True)
    code, _ = put([{"timestamp": now, "message": "z"}] * 10_001)
    assert code in {"InvalidParameterException", "ValidationException"}
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName="g")
    assert [len(page["events"]) for page in pages] == [2, 1]  # a response holds at most 1 MB
    head = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)
    assert len(head["events"]) == 2
    rest = logs.get_log_events(
        logGroupName="g", logStreamName="s", nextToken=head["nextForwardToken"]
    )
    assert len(rest["events"]) == 1


def test_put_log_events_rejects_too_old_too_new_and_expired(logs: Any) -> None:
    stream_with(logs, ["seed"], group="g")
    now = now_ms()
    hour = 3600 * 1000

    def put(*stamps: int) -> dict[str, Any]:
        events = [{"timestamp": t, "message": f"at {t - now}"} for t in stamps]
        return logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=events)

    too_old = put(now - 14 * DAY_MS - hour, now - 14 * DAY_MS - 1, now - 14 * DAY_MS + hour)
    assert too_old["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}  # exclusive end
    too_new = put(now - 1, now + 1, now + 3 * hour)
    assert too_new["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 2}
    assert "rejectedLogEventsInfo" not in put(now - 5, now + 2 * hour - 1000)
    logs.put_retention_policy(logGroupName="g", retentionInDays=1)
    expired = put(now - DAY_MS - hour, now - DAY_MS + hour)
    assert expired["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    both = put(now - 15 * DAY_MS)
    assert both["rejectedLogEventsInfo"] == {
        "tooOldLogEventEndIndex": 1,
        "expiredLogEventEndIndex": 1,
    }
    assert both["nextSequenceToken"] == expired["nextSequenceToken"]  # nothing was written
    logs.delete_retention_policy(logGroupName="g")
    stored = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)
    offsets = [int(m.removeprefix("at ")) for m in messages(stored) if m != "seed"]
    assert offsets == [-14 * DAY_MS + hour, -DAY_MS + hour, -5, -1, 1, 2 * hour - 1000]


# -- GetLogEvents -----------------------------------------------------------------------------


def test_get_log_events_from_head_and_tail(logs: Any) -> None:
    stream_with(logs, [f"m{i}" for i in range(5)])
    head = logs.get_log_events(logGroupName=GROUP, logStreamName="s", startFromHead=True, limit=2)
    assert messages(head) == ["m0", "m1"]
    tail = logs.get_log_events(logGroupName=GROUP, logStreamName="s", limit=2)
    assert messages(tail) == ["m3", "m4"]
    for token in (head["nextForwardToken"], tail["nextBackwardToken"]):
        assert token[:2] in {"f/", "b/"}
        assert token[2:].isdigit()
        assert len(token) == 58
    event = tail["events"][0]
    assert sorted(event) == ["ingestionTime", "message", "timestamp"]


def test_get_log_events_forward_until_the_token_repeats(logs: Any) -> None:
    stream_with(logs, [f"m{i}" for i in range(5)])
    seen: list[str] = []
    response = logs.get_log_events(
        logGroupName=GROUP, logStreamName="s", startFromHead=True, limit=2
    )
    token = None
    while response["nextForwardToken"] != token:
        seen += messages(response)
        token = response["nextForwardToken"]
        response = logs.get_log_events(
            logGroupName=GROUP, logStreamName="s", startFromHead=True, limit=2, nextToken=token
        )
    assert seen == [f"m{i}" for i in range(5)]
    assert response["events"] == []
    assert response["nextForwardToken"] == token
    # The end is not final: new events appear at the same token.
    logs.put_log_events(
        logGroupName=GROUP, logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "m5"}]
    )
    more = logs.get_log_events(logGroupName=GROUP, logStreamName="s", nextToken=token)
    assert messages(more) == ["m5"]


def test_get_log_events_backward_until_the_token_repeats(logs: Any) -> None:
    stream_with(logs, [f"m{i}" for i in range(5)])
    response = logs.get_log_events(logGroupName=GROUP, logStreamName="s", limit=2)
    seen = messages(response)
    token = None
    while response["nextBackwardToken"] != token:
        token = response["nextBackwardToken"]
        response = logs.get_log_events(
            logGroupName=GROUP, logStreamName="s", limit=2, nextToken=token
        )
        seen = messages(response) + seen
    assert seen == [f"m{i}" for i in range(5)]
    assert response["nextBackwardToken"] == token
    # Turning around from the start walks forward again.
    forward = logs.get_log_events(
        logGroupName=GROUP, logStreamName="s", limit=2, nextToken=response["nextForwardToken"]
    )
    assert messages(forward) == ["m0", "m1"]


def test_get_log_events_time_window(logs: Any) -> None:
    start = stream_with(logs, [f"m{i}" for i in range(6)])
    window = logs.get_log_events(
        logGroupName=GROUP,
        logStreamName="s",
        startTime=start + 1,
        endTime=start + 4,
        startFromHead=True,
    )
    assert messages(window) == ["m1", "m2", "m3"]  # startTime inclusive, endTime exclusive


def test_get_log_events_on_an_empty_stream_repeats_its_tokens(logs: Any) -> None:
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
    first = logs.get_log_events(logGroupName=GROUP, logStreamName="s", startFromHead=True)
    assert first["events"] == []
    again = logs.get_log_events(
        logGroupName=GROUP, logStreamName="s", nextToken=first["nextForwardToken"]
    )
    assert again["nextForwardToken"] == first["nextForwardToken"]
    back = logs.get_log_events(
        logGroupName=GROUP, logStreamName="s", nextToken=first["nextBackwardToken"]
    )
    assert back["nextBackwardToken"] == first["nextBackwardToken"]
    tail = logs.get_log_events(logGroupName=GROUP, logStreamName="s")
    assert tail["events"] == []
    logs.put_log_events(
        logGroupName=GROUP, logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "m"}]
    )
    for token in (first["nextForwardToken"], tail["nextForwardToken"]):
        later = logs.get_log_events(logGroupName=GROUP, logStreamName="s", nextToken=token)
        assert messages(later) == ["m"]


def test_get_log_events_errors(logs: Any) -> None:
    stream_with(logs, ["m"])
    for token in ("f/123", "x/" + "0" * 56, "not a token"):
        with pytest.raises(ClientError) as excinfo:
            logs.get_log_events(logGroupName=GROUP, logStreamName="s", nextToken=token)
        assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        logs.get_log_events(logGroupName=GROUP, logStreamName="missing")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )


def test_sagemaker_sdk_2_log_tailing_sequence(logs: Any) -> None:
    """What `sagemaker.logs` does while a training job runs with logs=True."""
    job = "sagemaker-scikit-learn-2026-01-01-00-00-00-000"
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=f"{job}/algo-1-1767225600")
    logs.create_log_stream(logGroupName=GROUP, logStreamName=f"{job}x/algo-1-1")
    start = now_ms() - 5000
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=f"{job}/algo-1-1767225600",
        logEvents=[{"timestamp": start + i, "message": f"epoch {i}"} for i in range(3)],
    )
    described = logs.describe_log_streams(
        logGroupName=GROUP, logStreamNamePrefix=f"{job}/", orderBy="LogStreamName", limit=1
    )
    [stream] = described["logStreams"]
    assert "nextToken" not in described

    def read_all(token: str | None) -> tuple[list[str], str]:
        lines: list[str] = []
        while True:
            extra = {} if token is None else {"nextToken": token}
            response = logs.get_log_events(
                logGroupName=GROUP,
                logStreamName=stream["logStreamName"],
                startTime=0,
                startFromHead=True,
                **extra,
            )
            lines += messages(response)
            if response["nextForwardToken"] == token:
                return lines, token
            token = response["nextForwardToken"]

    lines, token = read_all(None)
    assert lines == ["epoch 0", "epoch 1", "epoch 2"]
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=stream["logStreamName"],
        logEvents=[{"timestamp": now_ms(), "message": "done"}],
    )
    assert read_all(token)[0] == ["done"]


# -- FilterLogEvents --------------------------------------------------------------------------


def test_filter_log_events_interleaves_streams(logs: Any) -> None:
    logs.create_log_group(logGroupName="g")
    base = now_ms() - 10_000
    for offset, stream in enumerate(("b", "a")):
        logs.create_log_stream(logGroupName="g", logStreamName=stream)
        logs.put_log_events(
            logGroupName="g",
            logStreamName=stream,
            logEvents=[
                {"timestamp": base + 2 * i + offset, "message": f"{stream}{i}"} for i in range(3)
            ],
        )
    response = logs.filter_log_events(logGroupName="g")
    assert messages(response) == ["b0", "a0", "b1", "a1", "b2", "a2"]
    assert response["searchedLogStreams"] == []
    assert "nextToken" not in response
    event = response["events"][0]
    assert event["logStreamName"] == "b"
    assert event["eventId"].isdigit()
    assert len({e["eventId"] for e in response["events"]}) == 6
    only_a = logs.filter_log_events(logGroupName="g", logStreamNames=["a", "missing"])
    assert messages(only_a) == ["a0", "a1", "a2"]
    assert messages(logs.filter_log_events(logGroupName="g", logStreamNamePrefix="b")) == [
        "b0", "b1", "b2"
    ]  # fmt: skip
    window = logs.filter_log_events(logGroupName="g", startTime=base + 1, endTime=base + 3)
    assert messages(window) == ["a0", "b1", "a1"]  # both ends inclusive
    newest_first = logs.filter_log_events(logGroupName="g", startFromHead=False, startTime=base)
    assert messages(newest_first) == ["a2", "b2", "a1", "b1", "a0", "b0"]
    with pytest.raises(ClientError) as excinfo:
        logs.filter_log_events(logGroupName="g", logStreamNames=["a"], logStreamNamePrefix="a")
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        logs.filter_log_events(logGroupName="missing")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_filter_log_events_patterns(logs: Any) -> None:
    lines = [
        "INFO starting up",
        "ERROR disk full",
        "WARN disk almost full",
        "ERROR Connection reset by peer",
        "DEBUG heartbeat ERROR-free",
    ]
    stream_with(logs, lines, group="g")

    def matching(pattern: str) -> list[str]:
        return messages(logs.filter_log_events(logGroupName="g", filterPattern=pattern))

    assert matching("") == lines
    assert matching("ERROR") == [lines[1], lines[3], lines[4]]
    assert matching("ERROR disk") == [lines[1]]
    assert matching('"Connection reset"') == [lines[3]]
    assert matching("ERROR -DEBUG") == [lines[1], lines[3]]
    assert matching("?WARN ?INFO") == [lines[0], lines[2]]
    assert matching("error") == []  # case-sensitive
    for unsupported in ('{ $.level = "error" }', "[ip, user]", '"unterminated'):
        with pytest.raises(ClientError) as excinfo:
            matching(unsupported)
        assert error_of(excinfo)[0] == "InvalidParameterException"


def test_filter_log_events_pages(logs: Any) -> None:
    stream_with(logs, [f"line {i}" for i in range(7)], group="g")
    first = logs.filter_log_events(logGroupName="g", limit=3)
    assert messages(first) == ["line 0", "line 1", "line 2"]
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName="g", PaginationConfig={"PageSize": 3}
    )
    assert [m for page in pages for m in messages(page)] == [f"line {i}" for i in range(7)]
    assert "nextToken" not in logs.filter_log_events(logGroupName="g", limit=7)
    with pytest.raises(ClientError) as excinfo:  # a token only continues its own search
        logs.filter_log_events(logGroupName="g", filterPattern="line", nextToken=first["nextToken"])
    assert error_of(excinfo)[0] == "InvalidParameterException"
    backward = logs.filter_log_events(
        logGroupName="g", startFromHead=False, startTime=1_704_067_200_000, limit=4
    )
    rest = logs.filter_log_events(logGroupName="g", nextToken=backward["nextToken"])
    assert messages(backward) + messages(rest) == [f"line {i}" for i in range(6, -1, -1)]
    with pytest.raises(ClientError) as excinfo:
        logs.filter_log_events(logGroupName="g", startFromHead=False, startTime=0)
    assert error_of(excinfo)[0] == "InvalidParameterException"


# -- tags -------------------------------------------------------------------------------------


def test_tags_on_log_groups(logs: Any) -> None:
    logs.create_log_group(logGroupName="tagged", tags={"team": "ml", "env": "dev"})
    arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev", "team": "ml"}
    logs.tag_resource(resourceArn=arn, tags={"env": "prod", "cost": "1"})
    logs.untag_resource(resourceArn=arn, tagKeys=["team", "absent"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"cost": "1", "env": "prod"}
    assert logs.list_tags_log_group(logGroupName="tagged")["tags"] == {"cost": "1", "env": "prod"}
    logs.tag_log_group(logGroupName="tagged", tags={"old": "api"})
    logs.untag_log_group(logGroupName="tagged", tags=["cost", "env"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"old": "api"}


def test_tag_errors(logs: Any) -> None:
    logs.create_log_group(logGroupName="full", tags={f"k{i}": "v" for i in range(50)})
    arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    with pytest.raises(ClientError) as excinfo:
        logs.tag_resource(resourceArn=arn, tags={"one-more": "v"})
    assert error_of(excinfo)[0] == "TooManyTagsException"
    logs.tag_resource(resourceArn=arn, tags={"k0": "replaced"})  # not a new key
    assert len(logs.list_tags_for_resource(resourceArn=arn)["tags"]) == 50
    for missing in (arn.replace("full", "absent"), arn.replace("log-group", "destination")):
        with pytest.raises(ClientError) as excinfo:
            logs.list_tags_for_resource(resourceArn=missing)
        assert error_of(excinfo)[0] == "ResourceNotFoundException"
