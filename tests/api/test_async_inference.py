"""InvokeEndpointAsync end to end: input from S3 or the body, output and failure objects named
as SageMaker names them, notifications in the endpoint's log group, the concurrency limit, and
a queue that survives a crash of the server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_hosting import clients
from tests.api.test_response_stream import deploy_streaming
from tests.conftest import make_client
from tests.support.server import ServerProcess

__all__ = ["clients"]

TOPIC = "arn:aws:sns:us-east-1:123456789012:"


def async_config(limit: int = 1) -> dict[str, Any]:
    return {
        "AsyncInferenceConfig": {
            "ClientConfig": {"MaxConcurrentInvocationsPerInstance": limit},
            "OutputConfig": {
                "S3OutputPath": "s3://bkt/async-out",
                "S3FailurePath": "s3://bkt/async-failed/",
                "NotificationConfig": {
                    "SuccessTopic": TOPIC + "success",
                    "ErrorTopic": TOPIC + "errors",
                },
            },
        }
    }


def wait_object(s3: Any, location: str, timeout: float = 30) -> bytes:
    bucket, key = location.removeprefix("s3://").split("/", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            return body
        except ClientError:
            assert time.monotonic() < deadline, f"{location} never appeared"
            time.sleep(0.1)


def test_async_requests_write_their_results_to_s3(
    clients: tuple[Any, Any, Any], server: ServerProcess
) -> None:
    sagemaker, s3, runtime = clients
    deploy_streaming(sagemaker, s3, "queued", async_config())
    described = sagemaker.describe_endpoint(EndpointName="queued")
    assert described["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"] == (
        "s3://bkt/async-out"
    )
    s3.put_object(Bucket="bkt", Key="inputs/one.txt", Body=b"hello async")
    accepted = runtime.invoke_endpoint_async(
        EndpointName="queued",
        InputLocation="s3://bkt/inputs/one.txt",
        ContentType="text/plain",
        InferenceId="first-request",
    )
    assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert accepted["InferenceId"] == "first-request"
    assert accepted["OutputLocation"] == "s3://bkt/async-out/first-request.out"
    assert accepted["FailureLocation"] == "s3://bkt/async-failed/first-request-error.out"
    assert wait_object(s3, accepted["OutputLocation"]) == b"HELLO ASYNC "

    # A generated id, a path extension and a file name; the input in the request body.
    named = runtime.invoke_endpoint_async(
        EndpointName="queued",
        Body=b"inline body",
        ContentType="text/plain",
        S3OutputPathExtension="daily",
        Filename="result.txt",
    )
    assert named["OutputLocation"] == "s3://bkt/async-out/daily/result.txt"
    assert len(named["InferenceId"]) == 36
    assert wait_object(s3, named["OutputLocation"]) == b"INLINE BODY "

    # A model failure and a missing input go to the failure path.
    s3.put_object(Bucket="bkt", Key="inputs/bad.txt", Body=b"refuse")
    failed = runtime.invoke_endpoint_async(
        EndpointName="queued", InputLocation="s3://bkt/inputs/bad.txt", InferenceId="bad"
    )
    assert b"refused before streaming" in wait_object(s3, failed["FailureLocation"])
    missing = runtime.invoke_endpoint_async(
        EndpointName="queued", InputLocation="s3://bkt/inputs/none.txt", InferenceId="gone"
    )
    assert b"Could not read the input" in wait_object(s3, missing["FailureLocation"])

    # The notifications SageMaker would publish, kept in the endpoint's log group.
    logs = make_client(server.url, "logs")
    deadline = time.monotonic() + 10
    while True:
        events = logs.get_log_events(
            logGroupName="/aws/sagemaker/Endpoints/queued",
            logStreamName="AsyncInferenceNotifications",
            startFromHead=True,
        )["events"]
        if len(events) >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    messages = {m["inferenceId"]: m for m in (json.loads(e["message"]) for e in events)}
    first = messages["first-request"]
    assert first["invocationStatus"] == "Completed"
    assert first["TopicArn"] == TOPIC + "success"
    assert first["responseParameters"]["outputLocation"] == accepted["OutputLocation"]
    assert first["requestParameters"]["inputLocation"] == "s3://bkt/inputs/one.txt"
    bad = messages["bad"]
    assert bad["invocationStatus"] == "Failed" and bad["TopicArn"] == TOPIC + "errors"
    assert "refused before streaming" in bad["failureReason"]

    # Real-time invocation of an async endpoint is refused, and the other way round.
    with pytest.raises(ClientError) as realtime:
        runtime.invoke_endpoint(EndpointName="queued", Body=b"x", ContentType="text/plain")
    assert realtime.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as neither:
        runtime.invoke_endpoint_async(EndpointName="queued")
    assert neither.value.response["Error"]["Code"] == "ValidationError"


def test_the_queue_survives_a_crash(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        sagemaker = make_client(server.url, "sagemaker")
        s3 = make_client(server.url, "s3")
        runtime = make_client(server.url, "sagemaker-runtime")
        s3.create_bucket(Bucket="bkt")
        deploy_streaming(sagemaker, s3, "durable", async_config(limit=1))
        # Each request takes 0.3 s and only one runs at a time: most are still queued when
        # the server dies.
        locations = [
            runtime.invoke_endpoint_async(
                EndpointName="durable", Body=f"pause {n}".encode(), ContentType="text/plain"
            )["OutputLocation"]
            for n in range(4)
        ]
        server.kill()
        server.process = None
        server.start()
        s3 = make_client(server.url, "s3")
        for n, location in enumerate(locations):
            assert wait_object(s3, location, timeout=60) == f"{n} ".encode()
    finally:
        server.stop()
