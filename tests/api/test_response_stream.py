"""InvokeEndpointWithResponseStream end to end: a handler that yields, boto3 reading the
EventStream part by part, errors midway as ModelStreamError, and the invocation metrics."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, EventStreamError

from tests.api.test_hosting import ROLE, SKLEARN, clients, tarball, wait_status
from tests.support.server import ServerProcess

__all__ = ["clients"]

STREAMING = """
import time

def model_fn(model_dir):
    return "model"

def transform_fn(model, body, content_type, accept):
    words = (body.decode() if isinstance(body, bytes) else body).split()
    if words and words[0] == "refuse":
        raise ValueError("refused before streaming")

    def parts():
        for word in words:
            if word == "boom":
                raise RuntimeError("the model broke midway")
            if word == "pause":
                time.sleep(0.3)
                continue
            yield (word.upper() + " ").encode()

    return parts(), "text/plain; charset=utf-8"
"""


def deploy_streaming(
    sagemaker: Any, s3: Any, name: str, config: dict[str, Any] | None = None
) -> None:
    s3.put_object(
        Bucket="bkt",
        Key=f"models/{name}/model.tar.gz",
        Body=tarball({"code/inference.py": STREAMING.encode()}),
    )
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": SKLEARN,
            "ModelDataUrl": f"s3://bkt/models/{name}/model.tar.gz",
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py"},
        },
        ExecutionRoleArn=ROLE,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        **(config or {}),
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    assert wait_status(sagemaker, name, ("InService", "Failed"))["EndpointStatus"] == "InService"


def stream(runtime: Any, name: str, text: str) -> tuple[list[bytes], dict[str, Any]]:
    reply = runtime.invoke_endpoint_with_response_stream(
        EndpointName=name, Body=text.encode(), ContentType="text/plain"
    )
    parts = [event["PayloadPart"]["Bytes"] for event in reply["Body"]]
    return parts, reply


def test_a_generator_streams_part_by_part(
    clients: tuple[Any, Any, Any], server: ServerProcess
) -> None:
    sagemaker, s3, runtime = clients
    deploy_streaming(sagemaker, s3, "streamer")
    started = time.monotonic()
    reply = runtime.invoke_endpoint_with_response_stream(
        EndpointName="streamer", Body=b"one pause two three", ContentType="text/plain"
    )
    assert reply["ContentType"] == "text/plain; charset=utf-8"
    assert reply["InvokedProductionVariant"] == "AllTraffic"
    assert reply["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/vnd.amazon.eventstream"
    )
    events = iter(reply["Body"])
    first = next(events)["PayloadPart"]["Bytes"]
    first_at = time.monotonic() - started
    rest = [event["PayloadPart"]["Bytes"] for event in events]
    assert b"".join([first, *rest]) == b"ONE TWO THREE "
    assert time.monotonic() - started - first_at >= 0.25  # the first part came before the pause

    # The same model through InvokeEndpoint: the whole answer at once.
    whole = runtime.invoke_endpoint(EndpointName="streamer", Body=b"a b", ContentType="text/plain")
    assert whole["Body"].read() == b"A B "

    # Failing before the first part is a ModelError, as for InvokeEndpoint.
    with pytest.raises(ClientError) as refused:
        stream(runtime, "streamer", "refuse this")
    assert refused.value.response["Error"]["Code"] == "ModelError"
    assert refused.value.response["OriginalStatusCode"] == 500

    # Failing midway: the parts before it, then ModelStreamError in the stream.
    reply = runtime.invoke_endpoint_with_response_stream(
        EndpointName="streamer", Body=b"fine boom never", ContentType="text/plain"
    )
    received = []
    with pytest.raises(EventStreamError) as broken:
        for event in reply["Body"]:
            received.append(event["PayloadPart"]["Bytes"])
    assert received == [b"FINE "]
    assert broken.value.response["Error"]["Code"] == "ModelStreamError"
    assert "closed before the response was complete" in str(broken.value)

    # Invocation metrics land in the data dir's metrics file (flushed within a second or so).
    database = server.data_dir / "metrics.db"
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(database) as db:
            rows = dict(
                db.execute(
                    "SELECT metric, sum(sum) FROM metric_minutes WHERE namespace = 'AWS/SageMaker'"
                    " AND dimensions LIKE '%streamer%' GROUP BY metric"
                ).fetchall()
            )
        if rows.get("Invocations", 0) >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert rows["Invocations"] == 4
    assert rows["Invocation5XXErrors"] == 2  # the refusal (500) and the broken stream
    assert rows["MidStreamErrors"] == 1
    assert rows["ModelLatency"] > 0


def test_errors_before_the_stream(clients: tuple[Any, Any, Any]) -> None:
    _, _, runtime = clients
    with pytest.raises(ClientError) as missing:
        stream(runtime, "nowhere", "x")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as not_async:
        runtime.invoke_endpoint_async(EndpointName="nowhere", InputLocation="s3://bkt/in")
    assert not_async.value.response["Error"]["Code"] == "ValidationError"
