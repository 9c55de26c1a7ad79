"""DataCaptureConfig end to end: sampled request/response pairs in S3 in SageMaker's JSON Lines
layout, and DescribeEndpoint's DataCaptureConfig summary."""

from __future__ import annotations

import json
import time
from typing import Any

from sklearn.linear_model import LinearRegression

from tests.api.test_hosting import clients, create_model, regression, wait_status

__all__ = ["clients", "regression"]


def test_invocations_are_captured_to_s3(
    clients: tuple[Any, Any, Any], regression: tuple[LinearRegression, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = regression
    create_model(sagemaker, s3, "captured", artifact)
    sagemaker.create_endpoint_config(
        EndpointConfigName="captured",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "captured",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://bkt/datacapture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    sagemaker.create_endpoint(EndpointName="captured", EndpointConfigName="captured")
    described = wait_status(sagemaker, "captured", ("InService", "Failed"))
    assert described["EndpointStatus"] == "InService"
    assert described["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 100,
        "DestinationS3Uri": "s3://bkt/datacapture",
        "KmsKeyId": "",
    }
    rows = ["0.5,0.25", "1,2", "0,0"]
    answers = []
    for index, row in enumerate(rows):
        reply = runtime.invoke_endpoint(
            EndpointName="captured",
            Body=row.encode(),
            ContentType="text/csv",
            Accept="text/csv",
            InferenceId=f"id-{index}",
        )
        answers.append(reply["Body"].read().decode())
    deadline = time.monotonic() + 15
    lines: list[dict[str, Any]] = []
    while len(lines) < len(rows):
        assert time.monotonic() < deadline, f"only {len(lines)} captured"
        time.sleep(0.2)
        listed = s3.list_objects_v2(Bucket="bkt", Prefix="datacapture/").get("Contents", [])
        lines = [
            json.loads(line)
            for item in listed
            for line in s3.get_object(Bucket="bkt", Key=item["Key"])["Body"].read().splitlines()
        ]
    keys = [item["Key"] for item in listed]
    parts = keys[0].split("/")
    assert parts[:3] == ["datacapture", "captured", "AllTraffic"]
    assert [len(p) for p in parts[3:7]] == [4, 2, 2, 2]  # yyyy/mm/dd/hh
    assert parts[7].endswith(".jsonl")
    by_id = {line["eventMetadata"]["inferenceId"]: line for line in lines}
    first = by_id["id-0"]
    assert first["eventVersion"] == "0"
    assert first["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "0.5,0.25",
        "encoding": "CSV",
    }
    output = first["captureData"]["endpointOutput"]
    assert output["mode"] == "OUTPUT" and output["encoding"] == "CSV"
    assert output["data"] == answers[0]
    assert float(output["data"]) == float(model.predict([[0.5, 0.25]])[0])
    assert first["eventMetadata"]["inferenceTime"].endswith("Z")
