"""Endpoints that serve real predictions: boto3's full lifecycle against a live server."""

from __future__ import annotations

import io
import json
import os
import signal
import tarfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.linear_model import LinearRegression

from tests.api.test_models import error_of
from tests.conftest import make_client
from tests.support.server import ServerProcess

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"

INFERENCE = """
import json, os
import joblib

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def predict_fn(data, model):
    return model.predict(data) * 10
"""


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> tuple[LinearRegression, bytes]:
    features = np.random.default_rng(5).uniform(size=(50, 2))
    model = LinearRegression().fit(features, 3 * features[:, 0] - features[:, 1] + 0.5)
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    joblib.dump(model, path)
    return model, tarball({"model.joblib": path.read_bytes()})


def create_model(sagemaker: Any, s3: Any, name: str, artifact: bytes, **environment: str) -> None:
    s3.put_object(Bucket="bkt", Key=f"models/{name}/model.tar.gz", Body=artifact)
    container: dict[str, Any] = {
        "Image": SKLEARN,
        "ModelDataUrl": f"s3://bkt/models/{name}/model.tar.gz",
    }
    if environment:
        container["Environment"] = environment
    sagemaker.create_model(ModelName=name, PrimaryContainer=container, ExecutionRoleArn=ROLE)


def create_config(sagemaker: Any, name: str, variants: list[tuple[str, str, float, int]]) -> None:
    """An endpoint config of (variant, model, weight, instance count) on ml.m5.large."""
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model,
                "InitialVariantWeight": weight,
                "InitialInstanceCount": count,
                "InstanceType": "ml.m5.large",
            }
            for variant, model, weight, count in variants
        ],
    )


def create_endpoint(sagemaker: Any, name: str, variants: list[tuple[str, str, float, int]]) -> None:
    create_config(sagemaker, name, variants)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)


def wait_status(sagemaker: Any, name: str, wanted: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        endpoint: dict[str, Any] = sagemaker.describe_endpoint(EndpointName=name)
        if endpoint["EndpointStatus"] in wanted:
            return endpoint
        assert time.monotonic() < deadline, f"{name} is still {endpoint['EndpointStatus']}"
        time.sleep(0.05)


def predict_csv(runtime: Any, name: str, rows: str, **extra: Any) -> tuple[list[float], str]:
    reply = runtime.invoke_endpoint(
        EndpointName=name, Body=rows.encode(), ContentType="text/csv", Accept="text/csv", **extra
    )
    values = [float(v) for v in reply["Body"].read().decode().replace(",", "\n").split()]
    return values, reply["InvokedProductionVariant"]


@pytest.fixture
def clients(s3: Any, server: ServerProcess) -> tuple[Any, Any, Any]:
    return make_client(server.url, "sagemaker"), s3, make_client(server.url, "sagemaker-runtime")


def test_an_endpoint_serves_the_models_predictions(
    clients: tuple[Any, Any, Any], regression: tuple[LinearRegression, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = regression
    create_model(sagemaker, s3, "linear", artifact)
    create_endpoint(sagemaker, "linear", [("AllTraffic", "linear", 1.0, 1)])
    assert sagemaker.describe_endpoint(EndpointName="linear")["EndpointStatus"] == "Creating"
    started = time.monotonic()
    endpoint = wait_status(sagemaker, "linear", ("InService", "Failed"))
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
    assert time.monotonic() - started < 30
    variant = endpoint["ProductionVariants"][0]
    assert (variant["CurrentInstanceCount"], variant["CurrentWeight"]) == (1, 1.0)
    assert variant["DeployedImages"][0]["SpecifiedImage"] == SKLEARN
    values, invoked = predict_csv(runtime, "linear", "0.2,0.4\n0.9,0.1\n")
    expected = model.predict(np.array([[0.2, 0.4], [0.9, 0.1]]))
    assert np.allclose(values, expected) and invoked == "AllTraffic"
    with pytest.raises(ClientError) as excinfo:
        runtime.invoke_endpoint(EndpointName="linear", Body=b"x", ContentType="image/png")
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ModelError", 424)
    assert excinfo.value.response["OriginalStatusCode"] == 415
    assert "/aws/sagemaker/Endpoints/linear" in message
    logs = make_client(runtime.meta.endpoint_url, "logs")
    deadline = time.monotonic() + 10
    while True:  # the replica's lines reach CloudWatch Logs within a quarter second
        try:
            streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/Endpoints/linear")
            break
        except logs.exceptions.ResourceNotFoundException:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert streams["logStreams"][0]["logStreamName"].startswith("AllTraffic/i-")
    sagemaker.delete_endpoint(EndpointName="linear")
    deadline = time.monotonic() + 30
    while True:
        try:
            sagemaker.describe_endpoint(EndpointName="linear")
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ValidationException"
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with pytest.raises(ClientError) as excinfo:
        predict_csv(runtime, "linear", "1,2\n")
    assert error_of(excinfo)[0] == "ValidationError"


def test_user_handlers_from_the_source_directory(
    clients: tuple[Any, Any, Any], regression: tuple[LinearRegression, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = regression
    s3.put_object(
        Bucket="bkt",
        Key="code/sourcedir.tar.gz",
        Body=tarball({"inference.py": INFERENCE.encode()}),
    )
    create_model(
        sagemaker,
        s3,
        "scripted",
        artifact,
        SAGEMAKER_PROGRAM="inference.py",
        SAGEMAKER_SUBMIT_DIRECTORY="s3://bkt/code/sourcedir.tar.gz",
    )
    create_endpoint(sagemaker, "scripted", [("AllTraffic", "scripted", 1.0, 1)])
    endpoint = wait_status(sagemaker, "scripted", ("InService", "Failed"))
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
    values, _ = predict_csv(runtime, "scripted", "0.5,0.5\n")
    assert np.allclose(values, model.predict(np.array([[0.5, 0.5]])) * 10)


def test_a_model_that_cannot_load_fails_the_endpoint(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    create_model(sagemaker, s3, "broken", tarball({"model.joblib": b"not a model"}))
    create_endpoint(sagemaker, "broken", [("AllTraffic", "broken", 1.0, 1)])
    endpoint = wait_status(sagemaker, "broken", ("InService", "Failed"))
    assert endpoint["EndpointStatus"] == "Failed"
    assert endpoint["FailureReason"] == (
        "The primary container for production variant AllTraffic did not pass the ping health "
        "check. Please check CloudWatch logs for this endpoint."
    )


def replica_pids(server: ServerProcess) -> list[int]:
    """Model-server processes of this server's endpoints (their working dirs are under its
    data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"sagestack.containers.serving" in command and cwd.startswith(str(server.data_dir)):
            found.append(int(entry.name))
    return found


def test_weights_updates_and_a_dying_replica(
    clients: tuple[Any, Any, Any],
    regression: tuple[LinearRegression, bytes],
    server: ServerProcess,
) -> None:
    sagemaker, s3, runtime = clients
    _, artifact = regression
    create_model(sagemaker, s3, "m", artifact)
    create_endpoint(sagemaker, "split", [("Blue", "m", 1.0, 1), ("Green", "m", 1.0, 2)])
    wait_status(sagemaker, "split", ("InService",))
    seen = Counter(predict_csv(runtime, "split", "1,1\n")[1] for _ in range(200))
    assert 60 < seen["Blue"] < 140 and seen["Blue"] + seen["Green"] == 200
    assert predict_csv(runtime, "split", "1,1\n", TargetVariant="Green")[1] == "Green"
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName="split",
        DesiredWeightsAndCapacities=[{"VariantName": "Blue", "DesiredWeight": 0.0}],
    )
    endpoint = wait_status(sagemaker, "split", ("InService",))
    weights = {v["VariantName"]: v["CurrentWeight"] for v in endpoint["ProductionVariants"]}
    assert weights == {"Blue": 0.0, "Green": 1.0}
    assert {predict_csv(runtime, "split", "1,1\n")[1] for _ in range(30)} == {"Green"}
    # A replica that dies is replaced; requests keep being answered meanwhile.
    os.kill(replica_pids(server)[0], signal.SIGKILL)
    for _ in range(50):
        assert predict_csv(runtime, "split", "1,1\n")[1] == "Green"


def test_update_endpoint_switches_config_without_failed_requests(
    clients: tuple[Any, Any, Any], regression: tuple[LinearRegression, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = regression
    create_model(sagemaker, s3, "v1", artifact)
    create_endpoint(sagemaker, "rolling", [("AllTraffic", "v1", 1.0, 1)])
    wait_status(sagemaker, "rolling", ("InService",))
    s3.put_object(
        Bucket="bkt",
        Key="code2/sourcedir.tar.gz",
        Body=tarball({"inference.py": INFERENCE.encode()}),
    )
    create_model(
        sagemaker,
        s3,
        "v2",
        artifact,
        SAGEMAKER_PROGRAM="inference.py",
        SAGEMAKER_SUBMIT_DIRECTORY="s3://bkt/code2/sourcedir.tar.gz",
    )
    create_config(sagemaker, "rolling-v2", [("AllTraffic", "v2", 1.0, 1)])
    sagemaker.update_endpoint(EndpointName="rolling", EndpointConfigName="rolling-v2")
    answers = set()
    while sagemaker.describe_endpoint(EndpointName="rolling")["EndpointStatus"] == "Updating":
        values, _ = predict_csv(runtime, "rolling", "0.5,0.5\n")  # never fails meanwhile
        answers.add(round(values[0], 6))
    endpoint = wait_status(sagemaker, "rolling", ("InService",))
    assert endpoint["EndpointConfigName"] == "rolling-v2"
    base = float(model.predict(np.array([[0.5, 0.5]]))[0])
    assert predict_csv(runtime, "rolling", "0.5,0.5\n")[0] == pytest.approx([base * 10])
    assert answers <= {round(base, 6), round(base * 10, 6)}


def test_a_broken_update_keeps_the_old_config(
    clients: tuple[Any, Any, Any], regression: tuple[LinearRegression, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    _, artifact = regression
    create_model(sagemaker, s3, "good", artifact)
    create_model(sagemaker, s3, "bad", tarball({"model.joblib": b"garbage"}))
    create_endpoint(sagemaker, "steady", [("AllTraffic", "good", 1.0, 1)])
    wait_status(sagemaker, "steady", ("InService",))
    create_config(sagemaker, "steady-bad", [("AllTraffic", "bad", 1.0, 1)])
    sagemaker.update_endpoint(EndpointName="steady", EndpointConfigName="steady-bad")
    deadline = time.monotonic() + 60
    while True:
        endpoint = sagemaker.describe_endpoint(EndpointName="steady")
        if endpoint["EndpointStatus"] == "InService" and "FailureReason" in endpoint:
            break
        assert time.monotonic() < deadline
        predict_csv(runtime, "steady", "1,1\n")  # the old fleet serves throughout
    assert endpoint["EndpointConfigName"] == "steady"
    assert "did not pass the ping health check" in endpoint["FailureReason"]


def wait_for_prediction(runtime: Any, name: str) -> list[float]:
    deadline = time.monotonic() + 60
    while True:
        try:
            return predict_csv(runtime, name, "0.3,0.3\n")[0]
        except ClientError as error:
            assert error.response["Error"]["Code"] in ("ValidationError", "ServiceUnavailable")
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_endpoints_come_back_after_a_restart(
    data_dir: Path, regression: tuple[LinearRegression, bytes]
) -> None:
    model, artifact = regression
    first = ServerProcess(data_dir).start()
    sagemaker, s3 = make_client(first.url, "sagemaker"), make_client(first.url, "s3")
    s3.create_bucket(Bucket="bkt")
    create_model(sagemaker, s3, "durable", artifact)
    create_endpoint(sagemaker, "durable", [("AllTraffic", "durable", 1.0, 1)])
    wait_status(sagemaker, "durable", ("InService",))
    assert len(replica_pids(first)) == 1
    first.stop()
    assert replica_pids(first) == []  # a stopping server stops its replicas
    second = ServerProcess(data_dir).start()
    try:
        runtime = make_client(second.url, "sagemaker-runtime")
        values = wait_for_prediction(runtime, "durable")
        assert np.allclose(values, model.predict(np.array([[0.3, 0.3]])))
        second.kill()  # a crash leaves the replica running ...
        assert len(replica_pids(second)) == 1
        third = ServerProcess(data_dir).start()  # ... and the next start ends it
        try:
            runtime = make_client(third.url, "sagemaker-runtime")
            wait_for_prediction(runtime, "durable")
            assert len(replica_pids(third)) == 1
        finally:
            third.stop()
    finally:
        if second.process is not None:
            second.stop()


def test_json_round_trip(
    clients: tuple[Any, Any, Any], regression: tuple[LinearRegression, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = regression
    create_model(sagemaker, s3, "json", artifact)
    create_endpoint(sagemaker, "json", [("AllTraffic", "json", 1.0, 1)])
    wait_status(sagemaker, "json", ("InService",))
    reply = runtime.invoke_endpoint(
        EndpointName="json",
        Body=json.dumps([[0.1, 0.2]]),
        ContentType="application/json",
        Accept="application/json",
    )
    assert reply["ContentType"].startswith("application/json")
    assert np.allclose(json.loads(reply["Body"].read()), model.predict(np.array([[0.1, 0.2]])))


def test_canary_update_shifts_traffic_in_steps(
    clients: tuple[Any, Any, Any], regression: tuple[LinearRegression, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = regression
    create_model(sagemaker, s3, "blue", artifact)
    create_endpoint(sagemaker, "canary", [("AllTraffic", "blue", 1.0, 1)])
    wait_status(sagemaker, "canary", ("InService",))
    s3.put_object(
        Bucket="bkt",
        Key="code3/sourcedir.tar.gz",
        Body=tarball({"inference.py": INFERENCE.encode()}),
    )
    create_model(
        sagemaker,
        s3,
        "green",
        artifact,
        SAGEMAKER_PROGRAM="inference.py",
        SAGEMAKER_SUBMIT_DIRECTORY="s3://bkt/code3/sourcedir.tar.gz",
    )
    create_config(sagemaker, "canary-green", [("AllTraffic", "green", 1.0, 1)])
    sagemaker.update_endpoint(
        EndpointName="canary",
        EndpointConfigName="canary-green",
        DeploymentConfig={
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                    "WaitIntervalInSeconds": 3,
                },
                "TerminationWaitInSeconds": 0,
            }
        },
    )
    base = round(float(model.predict(np.array([[0.5, 0.5]]))[0]), 6)
    seen: set[float] = set()
    deadline = time.monotonic() + 60
    while sagemaker.describe_endpoint(EndpointName="canary")["EndpointStatus"] == "Updating":
        seen.add(round(predict_csv(runtime, "canary", "0.5,0.5\n")[0][0], 6))
        assert time.monotonic() < deadline
    assert seen == {base, round(base * 10, 6)}  # both fleets answered during the canary step
    endpoint = sagemaker.describe_endpoint(EndpointName="canary")
    assert (
        endpoint["LastDeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"][
            "Type"
        ]
        == "CANARY"
    )
    answers = {round(predict_csv(runtime, "canary", "0.5,0.5\n")[0][0], 6) for _ in range(20)}
    assert answers == {round(base * 10, 6)}


def test_inference_requirements_get_their_own_environment(
    clients: tuple[Any, Any, Any], regression: tuple[LinearRegression, bytes]
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = regression
    handler = INFERENCE.replace(
        "def model_fn(model_dir):",
        "def model_fn(model_dir):\n"
        "    import sys, six\n"
        "    assert '/environments/' in sys.prefix, sys.prefix\n",
    )
    s3.put_object(
        Bucket="bkt",
        Key="code4/sourcedir.tar.gz",
        Body=tarball({"inference.py": handler.encode(), "requirements.txt": b"six\n"}),
    )
    create_model(
        sagemaker,
        s3,
        "with-requirements",
        artifact,
        SAGEMAKER_PROGRAM="inference.py",
        SAGEMAKER_SUBMIT_DIRECTORY="s3://bkt/code4/sourcedir.tar.gz",
    )
    create_endpoint(sagemaker, "with-requirements", [("AllTraffic", "with-requirements", 1.0, 1)])
    endpoint = wait_status(sagemaker, "with-requirements", ("InService", "Failed"))
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
    values, _ = predict_csv(runtime, "with-requirements", "0.5,0.5\n")
    assert np.allclose(values, model.predict(np.array([[0.5, 0.5]])) * 10)
