"""Built-in algorithm images trained through CreateTrainingJob, as boto3 users and the SDK's
estimators (`XGBoost`, `KMeans`, `LinearLearner` with `record_set`) send them."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from sagestack.containers.algorithms import load_model, predict
from sagestack.containers.algorithms.recordio import write_dense
from tests.api.test_training_runs import ROLE, wait_until
from tests.conftest import make_client
from tests.support.server import ServerProcess

XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
KMEANS = "382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1"
LINEAR = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def channel(name: str, uri: str, content_type: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "ContentType": content_type,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
    }


def train(
    sagemaker: Any,
    name: str,
    image: str,
    hyperparameters: dict[str, str],
    channels: list[dict[str, Any]],
    *,
    metrics: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    algorithm: dict[str, Any] = {"TrainingImage": image, "TrainingInputMode": "File"}
    if metrics:
        algorithm["MetricDefinitions"] = metrics
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification=algorithm,
        RoleArn=ROLE,
        HyperParameters=hyperparameters,
        InputDataConfig=channels,
        OutputDataConfig={"S3OutputPath": "s3://bkt/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    return wait_until(sagemaker, name)


def model_dir(s3: Any, job: dict[str, Any], target: Path) -> Path:
    key = job["ModelArtifacts"]["S3ModelArtifacts"].removeprefix("s3://bkt/")
    archive = s3.get_object(Bucket="bkt", Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def csv_rows(features: np.ndarray, labels: np.ndarray) -> bytes:
    rows = np.column_stack([labels, features])
    return "\n".join(",".join(f"{v:.6f}" for v in row) for row in rows).encode() + b"\n"


def test_xgboost_algorithm_mode_on_csv(s3: Any, server: ServerProcess, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    features = rng.uniform(size=(600, 3))
    labels = 4 * features[:, 0] - 2 * features[:, 1] + features[:, 2] ** 2
    s3.put_object(
        Bucket="bkt", Key="xgb/train/train.csv", Body=csv_rows(features[:500], labels[:500])
    )
    s3.put_object(
        Bucket="bkt", Key="xgb/validation/v.csv", Body=csv_rows(features[500:], labels[500:])
    )
    sagemaker = make_client(server.url, "sagemaker")
    job = train(
        sagemaker,
        "xgboost-csv",
        XGBOOST,
        {"num_round": "60", "objective": "reg:squarederror", "max_depth": "4", "eta": "0.3"},
        [
            channel("train", "s3://bkt/xgb/train/", "text/csv"),
            channel("validation", "s3://bkt/xgb/validation/", "text/csv"),
        ],
        metrics=[
            {
                "Name": "validation:rmse",
                "Regex": r".*\[[0-9]+\].*#011validation-rmse:"
                r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*",
            }
        ],
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    rmse = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}["validation:rmse"]
    assert rmse < 0.3
    model = load_model("xgboost", model_dir(s3, job, tmp_path / "model"))
    body, content_type = predict("xgboost", model, b"0.5,0.5,0.5\n", "text/csv", "text/csv")
    assert content_type == "text/csv"
    assert abs(float(body.decode().strip()) - (4 * 0.5 - 2 * 0.5 + 0.25)) < 0.3


def test_kmeans_on_recordio_protobuf(s3: Any, server: ServerProcess, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    centers = np.array([[0.0, 0.0], [10.0, 10.0], [-10.0, 10.0]], dtype=np.float32)
    points = np.concatenate([c + rng.normal(scale=0.3, size=(100, 2)) for c in centers])
    s3.put_object(
        Bucket="bkt", Key="kmeans/train/data", Body=write_dense(points.astype(np.float32))
    )
    sagemaker = make_client(server.url, "sagemaker")
    job = train(
        sagemaker,
        "kmeans-recordio",
        KMEANS,
        {"k": "3", "feature_dim": "2", "mini_batch_size": "50"},
        [channel("train", "s3://bkt/kmeans/train/", "application/x-recordio-protobuf")],
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    model = load_model("kmeans", model_dir(s3, job, tmp_path / "model"))
    body, _ = predict("kmeans", model, b"10.1,9.9\n-9.8,10.2\n", "text/csv", "application/json")
    clusters = [p["closest_cluster"] for p in json.loads(body)["predictions"]]
    assert len(set(clusters)) == 2  # the two points sit in two different clusters


def test_linear_learner_binary_classifier(s3: Any, server: ServerProcess, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    features = rng.normal(size=(400, 2))
    labels = (features[:, 0] + features[:, 1] > 0).astype(float)
    s3.put_object(Bucket="bkt", Key="ll/train/train.csv", Body=csv_rows(features, labels))
    sagemaker = make_client(server.url, "sagemaker")
    job = train(
        sagemaker,
        "linear-binary",
        LINEAR,
        {"predictor_type": "binary_classifier", "feature_dim": "2", "epochs": "5"},
        [channel("train", "s3://bkt/ll/train/", "text/csv")],
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    model = load_model("linear-learner", model_dir(s3, job, tmp_path / "model"))
    body, _ = predict("linear-learner", model, b"2,2\n-2,-2\n", "text/csv", "application/json")
    labels_out = [p["predicted_label"] for p in json.loads(body)["predictions"]]
    assert labels_out == [1, 0]


def test_a_missing_required_hyperparameter_fails_the_job(s3: Any, server: ServerProcess) -> None:
    s3.put_object(Bucket="bkt", Key="bad/train/train.csv", Body=b"1,2\n")
    sagemaker = make_client(server.url, "sagemaker")
    job = train(
        sagemaker,
        "xgboost-no-rounds",
        XGBOOST,
        {"objective": "reg:squarederror"},
        [channel("train", "s3://bkt/bad/train/", "text/csv")],
    )
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(
        "AlgorithmError: Missing required hyperparameter: num_round"
    )


def test_a_kmeans_model_trained_here_serves_its_algorithm_formats(
    s3: Any, server: ServerProcess
) -> None:
    rng = np.random.default_rng(4)
    centers = np.array([[0.0, 0.0], [8.0, 8.0]], dtype=np.float32)
    points = np.concatenate([c + rng.normal(scale=0.2, size=(60, 2)) for c in centers])
    s3.put_object(Bucket="bkt", Key="km/train/data", Body=write_dense(points.astype(np.float32)))
    sagemaker = make_client(server.url, "sagemaker")
    job = train(
        sagemaker,
        "kmeans-to-serve",
        KMEANS,
        {"k": "2", "feature_dim": "2"},
        [channel("train", "s3://bkt/km/train/", "application/x-recordio-protobuf")],
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    sagemaker.create_model(
        ModelName="kmeans",
        PrimaryContainer={
            "Image": KMEANS,
            "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"],
        },
        ExecutionRoleArn=ROLE,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="kmeans",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "kmeans",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="kmeans", EndpointConfigName="kmeans")
    deadline = time.monotonic() + 60
    while (status := sagemaker.describe_endpoint(EndpointName="kmeans")["EndpointStatus"]) not in (
        "InService",
        "Failed",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status == "InService"
    runtime = make_client(server.url, "sagemaker-runtime")
    reply = runtime.invoke_endpoint(
        EndpointName="kmeans",
        Body=b"0.1,0.1\n7.9,8.1\n",
        ContentType="text/csv",
        Accept="application/json",
    )
    predictions = json.loads(reply["Body"].read())["predictions"]
    assert len({p["closest_cluster"] for p in predictions}) == 2
    assert all(p["distance_to_cluster"] < 1.0 for p in predictions)
