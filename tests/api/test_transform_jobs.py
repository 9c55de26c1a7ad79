"""Batch transform jobs through boto3 against a live server: real replicas, real outputs."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.linear_model import LinearRegression

from tests.api.test_hosting import SKLEARN, tarball
from tests.api.test_models import error_of
from tests.conftest import make_client
from tests.support.server import ServerProcess

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
GROUP = "/aws/sagemaker/TransformJobs"

#: The SDK's SKLearnModel: the entry point in sourcedir.tar.gz, named by the environment.
INFERENCE = """
import os, time
import joblib

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def predict_fn(data, model):
    delay = float(os.environ.get("PREDICT_DELAY", "0"))
    if delay:
        time.sleep(delay)
    return model.predict(data)
"""


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[LinearRegression, bytes, bytes]:
    features = np.random.default_rng(7).uniform(size=(40, 2))
    model = LinearRegression().fit(features, 3 * features[:, 0] - features[:, 1] + 0.5)
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    joblib.dump(model, path)
    return (
        model,
        tarball({"model.joblib": path.read_bytes()}),
        tarball({"inference.py": INFERENCE.encode()}),
    )


@pytest.fixture
def clients(s3: Any, server: ServerProcess) -> tuple[Any, Any, Any]:
    return make_client(server.url, "sagemaker"), s3, make_client(server.url, "logs")


def sklearn_model(
    sagemaker: Any, s3: Any, artifacts: tuple[Any, bytes, bytes], name: str = "linear", **env: str
) -> None:
    s3.put_object(Bucket="bkt", Key="model/model.tar.gz", Body=artifacts[1])
    s3.put_object(Bucket="bkt", Key="model/sourcedir.tar.gz", Body=artifacts[2])
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": SKLEARN,
            "ModelDataUrl": "s3://bkt/model/model.tar.gz",
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "s3://bkt/model/sourcedir.tar.gz",
                **env,
            },
        },
    )


def transform(sagemaker: Any, name: str, model: str, prefix: str, **extra: Any) -> None:
    request: dict[str, Any] = {
        "TransformJobName": name,
        "ModelName": model,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": prefix}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": f"s3://bkt/out/{name}", "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    for key, value in extra.items():
        if key in ("TransformInput", "TransformOutput"):
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    sagemaker.create_transform_job(**request)


def wait_done(sagemaker: Any, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = sagemaker.describe_transform_job(TransformJobName=name)
        if job["TransformJobStatus"] in ("Completed", "Failed", "Stopped"):
            return job
        assert time.monotonic() < deadline, f"{name} is still {job['TransformJobStatus']}"
        time.sleep(0.05)


def body(s3: Any, key: str) -> str:
    return str(s3.get_object(Bucket="bkt", Key=key)["Body"].read().decode())


def rows(count: int, seed: int) -> np.ndarray:
    return np.round(np.random.default_rng(seed).uniform(size=(count, 2)), 4)


def csv_text(values: np.ndarray) -> str:
    return "".join(",".join(str(v) for v in row) + "\n" for row in values)


def test_multi_record_csv_through_a_sklearn_model(
    clients: tuple[Any, Any, Any], artifacts: tuple[LinearRegression, bytes, bytes]
) -> None:
    sagemaker, s3, logs = clients
    sklearn_model(sagemaker, s3, artifacts)
    first, second = rows(500, 1), rows(3, 2)
    s3.put_object(Bucket="bkt", Key="in/a.csv", Body=csv_text(first).encode())
    s3.put_object(Bucket="bkt", Key="in/sub/b.csv", Body=csv_text(second).encode())
    transform(
        sagemaker,
        "batch",
        "linear",
        "s3://bkt/in/",
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=1,
        TransformOutput={"Accept": "text/csv"},
    )
    job = wait_done(sagemaker, "batch")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    model = artifacts[0]
    for key, data in (("out/batch/a.csv.out", first), ("out/batch/sub/b.csv.out", second)):
        got = [float(v) for v in body(s3, key).split()]
        assert np.allclose(got, model.predict(data))
    # Defaults the request left out come from the model server's /execution-parameters.
    assert job["MaxConcurrentTransforms"] == 2 and job["MaxPayloadInMB"] == 1
    assert job["TransformInput"]["CompressionType"] == "None"
    assert job["DataProcessing"] == {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None"}
    assert job["TransformStartTime"] <= job["TransformEndTime"]
    summary = sagemaker.list_transform_jobs(StatusEquals="Completed")["TransformJobSummaries"]
    assert [s["TransformJobName"] for s in summary] == ["batch"]
    streams = [
        s["logStreamName"]
        for s in logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="batch/")[
            "logStreams"
        ]
    ]
    data_log = next(s for s in streams if s.endswith("/data-log"))
    assert data_log.removesuffix("/data-log") in streams
    lines = [
        e["message"]
        for e in logs.get_log_events(logGroupName=GROUP, logStreamName=data_log)["events"]
    ]
    assert "MaxConcurrentTransforms=2, MaxPayloadInMB=1, BatchStrategy=MULTI_RECORD" in lines[0]
    assert any("503/503 records transformed" in line for line in lines)


def test_join_with_input_filters_and_single_records(
    clients: tuple[Any, Any, Any], artifacts: tuple[LinearRegression, bytes, bytes]
) -> None:
    sagemaker, s3, _ = clients
    sklearn_model(sagemaker, s3, artifacts)
    data = rows(5, 3)
    text = "".join(f"id-{i},{a},{b}\n" for i, (a, b) in enumerate(data))
    s3.put_object(Bucket="bkt", Key="ids/rows.csv", Body=text.encode())
    transform(
        sagemaker,
        "joined",
        "linear",
        "s3://bkt/ids/rows.csv",
        BatchStrategy="SingleRecord",
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
    )
    job = wait_done(sagemaker, "joined")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    lines = body(s3, "out/joined/rows.csv.out").splitlines()
    assert [line.split(",")[0] for line in lines] == [f"id-{i}" for i in range(5)]
    assert np.allclose([float(line.split(",")[1]) for line in lines], artifacts[0].predict(data))


def test_json_lines_join_under_sagemaker_output(
    clients: tuple[Any, Any, Any], artifacts: tuple[LinearRegression, bytes, bytes]
) -> None:
    sagemaker, s3, _ = clients
    sklearn_model(sagemaker, s3, artifacts)
    data = rows(4, 4)
    text = "".join(json.dumps({"id": i, "features": [list(r)]}) + "\n" for i, r in enumerate(data))
    s3.put_object(Bucket="bkt", Key="json/rows.jsonl", Body=text.encode())
    transform(
        sagemaker,
        "jsonjoin",
        "linear",
        "s3://bkt/json/",
        BatchStrategy="SingleRecord",
        TransformInput={"ContentType": "application/json"},
        TransformOutput={"Accept": "application/json"},
        DataProcessing={"InputFilter": "$.features", "JoinSource": "Input"},
    )
    job = wait_done(sagemaker, "jsonjoin")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    records = [json.loads(line) for line in body(s3, "out/jsonjoin/rows.jsonl.out").splitlines()]
    assert [r["id"] for r in records] == [0, 1, 2, 3]
    expected = artifacts[0].predict(data)
    assert np.allclose([r["SageMakerOutput"][0] for r in records], expected)
    assert records[0]["features"] == [list(data[0])]


def test_gzip_objects_as_single_records(
    clients: tuple[Any, Any, Any], artifacts: tuple[LinearRegression, bytes, bytes]
) -> None:
    sagemaker, s3, _ = clients
    sklearn_model(sagemaker, s3, artifacts)
    data = rows(20, 5)
    s3.put_object(Bucket="bkt", Key="gz/x.csv.gz", Body=gzip.compress(csv_text(data).encode()))
    transform(
        sagemaker,
        "gz",
        "linear",
        "s3://bkt/gz/",
        TransformInput={"CompressionType": "Gzip", "SplitType": "None"},
    )
    job = wait_done(sagemaker, "gz")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert job["BatchStrategy"] == "MultiRecord"  # the model server's /execution-parameters
    got = json.loads(body(s3, "out/gz/x.csv.gz.out"))  # no Accept: the JSON default
    assert np.allclose(got, artifacts[0].predict(data))


def test_a_failing_record_fails_the_job_naming_the_object(
    clients: tuple[Any, Any, Any], artifacts: tuple[LinearRegression, bytes, bytes]
) -> None:
    sagemaker, s3, _ = clients
    sklearn_model(sagemaker, s3, artifacts)
    s3.put_object(Bucket="bkt", Key="bad/rows.csv", Body=b"1,2\nnot,numbers\n")
    transform(sagemaker, "bad", "linear", "s3://bkt/bad/", BatchStrategy="MultiRecord")
    job = wait_done(sagemaker, "bad")
    assert job["TransformJobStatus"] == "Failed"
    assert "bkt/bad/rows.csv: ClientError: 400" in job["FailureReason"]
    assert job["FailureReason"].startswith("ClientError: See job logs for more information")


def test_requests_are_checked_before_anything_is_stored(
    clients: tuple[Any, Any, Any], artifacts: tuple[LinearRegression, bytes, bytes]
) -> None:
    sagemaker, s3, _ = clients
    with pytest.raises(ClientError) as missing:
        transform(sagemaker, "nomodel", "absent", "s3://bkt/in/")
    assert error_of(missing) == (
        "ValidationException",
        'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/absent".',
        400,
    )
    sklearn_model(sagemaker, s3, artifacts)
    with pytest.raises(ClientError) as payload:
        transform(sagemaker, "big", "linear", "s3://bkt/in/", MaxPayloadInMB=101)
    assert error_of(payload)[0] == "ValidationException"
    with pytest.raises(ClientError) as product:
        transform(
            sagemaker,
            "big",
            "linear",
            "s3://bkt/in/",
            MaxPayloadInMB=50,
            MaxConcurrentTransforms=4,
        )
    assert "cannot exceed 100 MB" in error_of(product)[1]
    with pytest.raises(ClientError) as path:
        transform(sagemaker, "big", "linear", "s3://bkt/in/", DataProcessing={"InputFilter": "x"})
    assert "Invalid JSONPath" in error_of(path)[1]
    assert sagemaker.list_transform_jobs()["TransformJobSummaries"] == []
    with pytest.raises(ClientError) as unknown:
        sagemaker.describe_transform_job(TransformJobName="nope")
    assert error_of(unknown)[:2] == (
        "ValidationException",
        "Could not find requested job with name nope",
    )


def test_stop_a_running_job_and_names_are_unique(
    clients: tuple[Any, Any, Any], artifacts: tuple[LinearRegression, bytes, bytes]
) -> None:
    sagemaker, s3, _ = clients
    sklearn_model(sagemaker, s3, artifacts, PREDICT_DELAY="0.5")
    s3.put_object(Bucket="bkt", Key="slow/rows.csv", Body=csv_text(rows(200, 6)).encode())
    transform(sagemaker, "slow", "linear", "s3://bkt/slow/", BatchStrategy="SingleRecord")
    with pytest.raises(ClientError) as taken:
        transform(sagemaker, "slow", "linear", "s3://bkt/slow/")
    assert error_of(taken)[0] == "ResourceInUse"
    sagemaker.stop_transform_job(TransformJobName="slow")
    assert sagemaker.describe_transform_job(TransformJobName="slow")["TransformJobStatus"] in (
        "Stopping",
        "Stopped",
    )
    job = wait_done(sagemaker, "slow")
    assert job["TransformJobStatus"] == "Stopped"
    with pytest.raises(ClientError) as again:
        sagemaker.stop_transform_job(TransformJobName="slow")
    assert error_of(again)[0] == "ValidationException"


def test_xgboost_trained_here_transforms_csv(clients: tuple[Any, Any, Any]) -> None:
    """The SDK's Estimator(xgboost image) → model.transformer(...).transform(...), replayed."""
    sagemaker, s3, _ = clients
    features = np.random.default_rng(8).uniform(size=(300, 3))
    labels = 2 * features[:, 0] + features[:, 1]
    train = "".join(f"{y},{a},{b},{c}\n" for y, (a, b, c) in zip(labels, features, strict=True))
    s3.put_object(Bucket="bkt", Key="xgb/train/train.csv", Body=train.encode())
    sagemaker.create_training_job(
        TrainingJobName="xgb",
        AlgorithmSpecification={"TrainingImage": XGBOOST, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        HyperParameters={"num_round": "30", "objective": "reg:squarederror", "max_depth": "3"},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/xgb/train/"}
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": "s3://bkt/xgb/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    deadline = time.monotonic() + 60
    while (trained := sagemaker.describe_training_job(TrainingJobName="xgb"))[
        "TrainingJobStatus"
    ] == "InProgress":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert trained["TrainingJobStatus"] == "Completed", trained.get("FailureReason")
    sagemaker.create_model(
        ModelName="xgb",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": XGBOOST,
            "ModelDataUrl": trained["ModelArtifacts"]["S3ModelArtifacts"],
        },
    )
    test = features[:50]
    s3.put_object(Bucket="bkt", Key="xgb/test/test.csv", Body=csv_text(test).encode())
    transform(
        sagemaker,
        "xgb-batch",
        "xgb",
        "s3://bkt/xgb/test/",
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=6,
        TransformOutput={"Accept": "text/csv"},
    )
    job = wait_done(sagemaker, "xgb-batch")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    got = np.array([float(v) for v in body(s3, "out/xgb-batch/test.csv.out").split()])
    assert len(got) == 50
    assert np.corrcoef(got, 2 * test[:, 0] + test[:, 1])[0, 1] > 0.95


def test_a_restart_fails_a_job_in_progress(
    data_dir: Path, artifacts: tuple[LinearRegression, bytes, bytes]
) -> None:
    first = ServerProcess(data_dir).start()
    try:
        sagemaker, s3 = make_client(first.url, "sagemaker"), make_client(first.url, "s3")
        s3.create_bucket(Bucket="bkt")
        sklearn_model(sagemaker, s3, artifacts, PREDICT_DELAY="1")
        s3.put_object(Bucket="bkt", Key="slow/rows.csv", Body=csv_text(rows(50, 9)).encode())
        transform(sagemaker, "cut", "linear", "s3://bkt/slow/", BatchStrategy="SingleRecord")
        deadline = time.monotonic() + 30
        # MaxPayloadInMB shows once the replicas answered /execution-parameters: running.
        while "MaxPayloadInMB" not in sagemaker.describe_transform_job(TransformJobName="cut"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        first.kill()
    second = ServerProcess(data_dir).start()
    try:
        job = wait_done(make_client(second.url, "sagemaker"), "cut")
        assert job["TransformJobStatus"] == "Failed"
        assert "restarted" in job["FailureReason"]
    finally:
        second.stop()
