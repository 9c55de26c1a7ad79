"""Hosting requests as the SageMaker Python SDK sends them, replayed with boto3: the cases that
the SDK flows (XGBoostModel, AsyncPredictor) showed and no other test covers.

- `XGBoostModel(...)` without an entry point sends `SAGEMAKER_PROGRAM: ""`: the XGBoost image
  serves such a model with the built-in algorithm, with an entry point in script mode.
- `AsyncPredictor.predict_async` never passes ContentType: it uploads the serialized input with
  the serializer's Content-Type, and SageMaker sends the request with that type. A model's error
  answer is what lands at the failure path (the SDK reads it back with its deserializer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from tests.api.test_async_inference import wait_object
from tests.api.test_hosting import (
    ROLE,
    clients,
    create_config,
    create_model,
    regression,
    tarball,
    wait_status,
)

__all__ = ["clients", "regression"]

XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROWS = np.random.default_rng(7).normal(size=(5, 4)).astype(np.float32)
CSV_ROWS = "\n".join(",".join(repr(float(v)) for v in row) for row in ROWS)

XGB_INFERENCE = b"""
import os
import xgboost as xgb

def model_fn(model_dir):
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "xgboost-model"))
    return booster
"""


@pytest.fixture(scope="module")
def booster(tmp_path_factory: pytest.TempPathFactory) -> tuple[xgb.Booster, bytes]:
    """A binary classifier and its model.tar.gz as the XGBoost image saves it."""
    features = np.random.default_rng(3).normal(size=(200, 4)).astype(np.float32)
    labels = (features @ np.array([1.0, -2.0, 0.5, 3.0]) > 0).astype(np.float32)
    model = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(features, labels), 10
    )
    path: Path = tmp_path_factory.mktemp("xgb") / "xgboost-model"
    model.save_model(str(path.with_suffix(".json")))
    path.with_suffix(".json").rename(path)
    return model, tarball({"xgboost-model": path.read_bytes()})


def xgboost_model(sagemaker: Any, s3: Any, name: str, artifact: bytes, program: str) -> None:
    """CreateModel as XGBoostModel(framework_version="1.7-1", ...).deploy() sends it."""
    s3.put_object(Bucket="bkt", Key=f"models/{name}/model.tar.gz", Body=artifact)
    source = ""
    if program:
        source = f"s3://bkt/{name}/sourcedir.tar.gz"
        s3.put_object(
            Bucket="bkt", Key=f"{name}/sourcedir.tar.gz", Body=tarball({program: XGB_INFERENCE})
        )
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": XGBOOST,
            "ModelDataUrl": f"s3://bkt/models/{name}/model.tar.gz",
            "Environment": {
                "SAGEMAKER_PROGRAM": program,
                "SAGEMAKER_SUBMIT_DIRECTORY": source,
                "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
                "SAGEMAKER_REGION": "us-east-1",
            },
        },
        ExecutionRoleArn=ROLE,
    )


def test_xgboost_model_with_and_without_an_entry_point(
    clients: tuple[Any, Any, Any], booster: tuple[xgb.Booster, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = booster
    expected = model.predict(xgb.DMatrix(ROWS))
    xgboost_model(sagemaker, s3, "xgb-algorithm", artifact, program="")
    xgboost_model(sagemaker, s3, "xgb-script", artifact, program="inference.py")
    create_config(
        sagemaker,
        "xgb",
        [("Algorithm", "xgb-algorithm", 1.0, 1), ("Script", "xgb-script", 1.0, 1)],
    )
    sagemaker.create_endpoint(EndpointName="xgb", EndpointConfigName="xgb")
    assert wait_status(sagemaker, "xgb", ("InService", "Failed"))["EndpointStatus"] == "InService"

    for variant in ("Algorithm", "Script"):
        reply = runtime.invoke_endpoint(
            EndpointName="xgb",
            TargetVariant=variant,
            Body=CSV_ROWS.encode(),
            ContentType="text/csv",
            Accept="text/csv",
        )
        assert reply["ContentType"] == "text/csv"
        values = [float(v) for v in reply["Body"].read().decode().split()]
        np.testing.assert_allclose(values, expected, rtol=1e-6)

    # JSON tells the two modes apart: the algorithm answers {"predictions": [{"score": ...}]},
    # the framework's default output_fn a plain list.
    answers = {
        variant: json.loads(
            runtime.invoke_endpoint(
                EndpointName="xgb",
                TargetVariant=variant,
                Body=CSV_ROWS.encode(),
                ContentType="text/csv",
                Accept="application/json",
            )["Body"].read()
        )
        for variant in ("Algorithm", "Script")
    }
    scores = [row["score"] for row in answers["Algorithm"]["predictions"]]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    np.testing.assert_allclose(answers["Script"], expected, rtol=1e-6)


def test_async_request_without_content_type(
    clients: tuple[Any, Any, Any], regression: tuple[Any, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = regression
    create_model(sagemaker, s3, "async-sk", artifact)
    sagemaker.create_endpoint_config(
        EndpointConfigName="async-sk",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "async-sk",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        AsyncInferenceConfig={
            "OutputConfig": {
                "S3OutputPath": "s3://bkt/async-out",
                "S3FailurePath": "s3://bkt/async-failed",
            }
        },
    )
    sagemaker.create_endpoint(EndpointName="async-sk", EndpointConfigName="async-sk")
    status = wait_status(sagemaker, "async-sk", ("InService", "Failed"))["EndpointStatus"]
    assert status == "InService"
    rows = np.array([[0.1, 0.2], [0.5, 0.9], [1.0, 0.0]])
    text = "\n".join(",".join(str(v) for v in row) for row in rows)

    # The input's own Content-Type is the request's (the SDK sends no ContentType).
    s3.put_object(Bucket="bkt", Key="in/rows.csv", Body=text.encode(), ContentType="text/csv")
    accepted = runtime.invoke_endpoint_async(
        EndpointName="async-sk", InputLocation="s3://bkt/in/rows.csv", Accept="application/json"
    )
    result = json.loads(wait_object(s3, accepted["OutputLocation"]))
    np.testing.assert_allclose(result, model.predict(rows.astype(np.float32)), rtol=1e-6)

    # An explicit ContentType wins over the object's.
    s3.put_object(Bucket="bkt", Key="in/rows.json", Body=json.dumps(rows.tolist()).encode())
    accepted = runtime.invoke_endpoint_async(
        EndpointName="async-sk",
        InputLocation="s3://bkt/in/rows.json",
        ContentType="application/json",
        Accept="application/json",
    )
    result = json.loads(wait_object(s3, accepted["OutputLocation"]))
    np.testing.assert_allclose(result, model.predict(rows.astype(np.float32)), rtol=1e-6)

    # Stored without a type: the model refuses application/octet-stream, and its own answer
    # (body and Content-Type) is what the failure path holds.
    accepted = runtime.invoke_endpoint_async(
        EndpointName="async-sk", InputLocation="s3://bkt/in/rows.json"
    )
    failure = wait_object(s3, accepted["FailureLocation"])
    assert failure.startswith(b"Content type application/octet-stream is not supported")
    bucket, key = accepted["FailureLocation"].removeprefix("s3://").split("/", 1)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentType"].startswith("text/plain")
