"""Multi-model endpoints: TargetModel loads `<prefix>/<TargetModel>` into a replica on first
use; boto3 against a live server."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.linear_model import LinearRegression

from tests.api.test_hosting import INFERENCE, ROLE, SKLEARN, tarball, wait_status
from tests.conftest import make_client
from tests.support.server import ServerProcess


def artifact(slope: float, tmp: Any) -> bytes:
    import joblib

    features = np.arange(10, dtype=float).reshape(-1, 1)
    model = LinearRegression().fit(features, slope * features[:, 0])
    path = tmp / f"m{slope}.joblib"
    joblib.dump(model, path)
    return tarball({"model.joblib": path.read_bytes(), "code/inference.py": INFERENCE.encode()})


@pytest.fixture(scope="module")
def mme_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # A cache of 1 KB holds one model: a second one unloads the first.
    process = ServerProcess(
        tmp_path_factory.mktemp("mme") / "data",
        extra_env={"SAGESTACK_MULTI_MODEL_CACHE_MB": "0.004"},
    ).start()
    yield process
    process.stop()


def deploy(
    server: ServerProcess, tmp: Any, *, cache: str = "Enabled", count: int = 1
) -> tuple[Any, Any]:
    server.reset()
    s3, sm = make_client(server.url, "s3"), make_client(server.url, "sagemaker")
    s3.create_bucket(Bucket="bkt")
    for slope in (2.0, 3.0):
        s3.put_object(Bucket="bkt", Key=f"mme/slope{slope:g}.tar.gz", Body=artifact(slope, tmp))
    sm.create_model(
        ModelName="mme",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": SKLEARN,
            "Mode": "MultiModel",
            "ModelDataUrl": "s3://bkt/mme/",
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py"},
            "MultiModelConfig": {"ModelCacheSetting": cache},
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="mme",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "mme",
                "InitialInstanceCount": count,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.create_endpoint(EndpointName="mme", EndpointConfigName="mme")
    assert wait_status(sm, "mme", ("InService", "Failed"))["EndpointStatus"] == "InService"
    return sm, make_client(server.url, "sagemaker-runtime")


def predict(runtime: Any, target: str | None, x: float = 4.0) -> float:
    extra = {"TargetModel": target} if target else {}
    reply = runtime.invoke_endpoint(
        EndpointName="mme", Body=f"{x}".encode(), ContentType="text/csv", Accept="text/csv", **extra
    )
    return float(reply["Body"].read().decode())


def test_each_target_model_answers_with_its_own_model(
    mme_server: ServerProcess, tmp_path: Any
) -> None:
    _, runtime = deploy(mme_server, tmp_path, count=2)
    # INFERENCE multiplies by 10: slope * x * 10.
    for _ in range(3):
        assert predict(runtime, "slope2.tar.gz") == pytest.approx(80.0)
        assert predict(runtime, "slope3.tar.gz") == pytest.approx(120.0)


def test_missing_or_absent_target_model_is_refused(
    mme_server: ServerProcess, tmp_path: Any
) -> None:
    _, runtime = deploy(mme_server, tmp_path)
    with pytest.raises(ClientError) as missing:
        predict(runtime, "nope.tar.gz")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert missing.value.response["Error"]["Message"].startswith(
        "Failed to download model data(bucket: bkt, key: mme/nope.tar.gz)."
    )
    with pytest.raises(ClientError) as absent:
        predict(runtime, None)
    assert absent.value.response["Error"]["Code"] == "ValidationError"
    assert predict(runtime, "slope2.tar.gz") == pytest.approx(80.0)


def test_cache_disabled_still_answers(mme_server: ServerProcess, tmp_path: Any) -> None:
    _, runtime = deploy(mme_server, tmp_path, cache="Disabled")
    assert predict(runtime, "slope3.tar.gz") == pytest.approx(120.0)
    assert predict(runtime, "slope3.tar.gz") == pytest.approx(120.0)


def test_a_plain_endpoint_refuses_target_model(mme_server: ServerProcess, tmp_path: Any) -> None:
    sm, runtime = deploy(mme_server, tmp_path)
    s3 = make_client(mme_server.url, "s3")
    s3.put_object(Bucket="bkt", Key="single/model.tar.gz", Body=artifact(2.0, tmp_path))
    sm.create_model(
        ModelName="single",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": SKLEARN,
            "ModelDataUrl": "s3://bkt/single/model.tar.gz",
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py"},
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="single",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "single",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.create_endpoint(EndpointName="single", EndpointConfigName="single")
    wait_status(sm, "single", ("InService",))
    with pytest.raises(ClientError) as refused:
        runtime.invoke_endpoint(
            EndpointName="single", Body=b"1", ContentType="text/csv", TargetModel="x.tar.gz"
        )
    assert refused.value.response["Error"]["Message"] == (
        "Endpoint single is not a multi-model endpoint and does not support target model header."
    )
