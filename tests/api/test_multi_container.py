"""Multi-container endpoints (Serial inference pipelines, Direct by hostname) and serverless
variants: boto3 against a live server."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_hosting import ROLE, SKLEARN, tarball, wait_status
from tests.conftest import make_client
from tests.support.server import ServerProcess

#: Adds a constant to each CSV value: the pipeline's steps are visible in the answer.
ADDER = """
def model_fn(model_dir):
    return float(open(model_dir + "/add.txt").read())

def transform_fn(model, body, content_type, accept):
    values = [float(v) + model for v in body.strip().split(",")]
    return ",".join(f"{v:g}" for v in values), "text/csv"
"""


@pytest.fixture
def clients(s3: Any, server: ServerProcess) -> tuple[Any, Any, Any]:
    return make_client(server.url, "sagemaker"), s3, make_client(server.url, "sagemaker-runtime")


def adder(s3: Any, name: str, amount: int) -> dict[str, Any]:
    body = tarball({"add.txt": str(amount).encode(), "code/inference.py": ADDER.encode()})
    s3.put_object(Bucket="bkt", Key=f"{name}/model.tar.gz", Body=body)
    return {
        "Image": SKLEARN,
        "ModelDataUrl": f"s3://bkt/{name}/model.tar.gz",
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py"},
    }


def serve(sm: Any, name: str, variant: dict[str, Any]) -> dict[str, Any]:
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name, **variant}],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return wait_status(sm, name, ("InService", "Failed"))


def call(runtime: Any, name: str, **extra: Any) -> str:
    reply = runtime.invoke_endpoint(
        EndpointName=name, Body=b"1,2", ContentType="text/csv", Accept="text/csv", **extra
    )
    return str(reply["Body"].read().decode())


INSTANCE = {"InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}


def test_a_serial_pipeline_chains_the_containers(clients: tuple[Any, Any, Any]) -> None:
    sm, s3, runtime = clients
    sm.create_model(
        ModelName="pipe",
        ExecutionRoleArn=ROLE,
        Containers=[adder(s3, "a", 10), adder(s3, "b", 100)],
        InferenceExecutionConfig={"Mode": "Serial"},
    )
    endpoint = serve(sm, "pipe", INSTANCE)
    assert endpoint["EndpointStatus"] == "InService"
    assert len(endpoint["ProductionVariants"][0]["DeployedImages"]) == 2
    assert call(runtime, "pipe") == "111,112"
    with pytest.raises(ClientError) as refused:
        call(runtime, "pipe", TargetContainerHostname="first")
    assert refused.value.response["Error"]["Code"] == "ValidationError"


def test_direct_invocation_picks_the_container_by_hostname(clients: tuple[Any, Any, Any]) -> None:
    sm, s3, runtime = clients
    sm.create_model(
        ModelName="direct",
        ExecutionRoleArn=ROLE,
        Containers=[
            {**adder(s3, "a", 10), "ContainerHostname": "first"},
            {**adder(s3, "b", 100), "ContainerHostname": "second"},
        ],
        InferenceExecutionConfig={"Mode": "Direct"},
    )
    assert serve(sm, "direct", INSTANCE)["EndpointStatus"] == "InService"
    assert call(runtime, "direct", TargetContainerHostname="first") == "11,12"
    assert call(runtime, "direct", TargetContainerHostname="second") == "101,102"
    for extra in ({}, {"TargetContainerHostname": "third"}):
        with pytest.raises(ClientError) as refused:
            call(runtime, "direct", **extra)
        assert refused.value.response["Error"]["Code"] == "ValidationError"


def test_a_serverless_variant_shows_its_config_and_answers(clients: tuple[Any, Any, Any]) -> None:
    sm, s3, runtime = clients
    sm.create_model(ModelName="sls", ExecutionRoleArn=ROLE, PrimaryContainer=adder(s3, "s", 5))
    config = {"MemorySizeInMB": 2048, "MaxConcurrency": 2}
    endpoint = serve(sm, "sls", {"ServerlessConfig": config})
    assert endpoint["EndpointStatus"] == "InService"
    variant = endpoint["ProductionVariants"][0]
    assert variant["CurrentServerlessConfig"] == config
    assert variant["DesiredServerlessConfig"] == config
    assert "CurrentInstanceCount" not in variant
    assert call(runtime, "sls") == "6,7"
