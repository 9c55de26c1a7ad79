"""What InvokeEndpoint shows of a failing model, in the shape of the framework's own server
(ModelError's OriginalMessage), and EnableExplanations, which only an endpoint with a Clarify
ExplainerConfig takes (and which sagestack refuses there, not computing explanations yet)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_hosting import tarball, wait_status
from tests.conftest import make_client
from tests.support.server import ServerProcess

PYTORCH = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-cpu-py310"
HUGGINGFACE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/"
    "huggingface-pytorch-inference:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04"
)
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"

FAILING = """
def model_fn(model_dir):
    return "model"

def transform_fn(model, body, content_type, accept):
    raise KeyError("gptj")
"""


@pytest.fixture
def clients(s3: Any, server: ServerProcess) -> tuple[Any, Any]:
    s3.put_object(Bucket="bkt", Key="m/model.tar.gz", Body=tarball({"weights.txt": b"1"}))
    code = tarball({"inference.py": FAILING.encode()})
    s3.put_object(Bucket="bkt", Key="m/code.tar.gz", Body=code)
    return make_client(server.url, "sagemaker"), make_client(server.url, "sagemaker-runtime")


def deploy(sagemaker: Any, name: str, image: str, **config: Any) -> None:
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": image,
            "ModelDataUrl": "s3://bkt/m/model.tar.gz",
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "s3://bkt/m/code.tar.gz",
            },
        },
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
        **config,
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    endpoint = wait_status(sagemaker, name, ("InService", "Failed"))
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")


def invoke_error(runtime: Any, name: str, **extra: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint(
            EndpointName=name, Body=b"[1]", ContentType="application/json", **extra
        )
    response: dict[str, Any] = raised.value.response
    return response


def test_model_errors_carry_each_frameworks_answer(clients: tuple[Any, Any]) -> None:
    sagemaker, runtime = clients
    deploy(sagemaker, "torch-fails", PYTORCH)
    deploy(sagemaker, "hf-fails", HUGGINGFACE)

    torch = invoke_error(runtime, "torch-fails")
    assert torch["Error"]["Code"] == "ModelError"
    assert torch["OriginalStatusCode"] == 500
    message, _, trace = torch["OriginalMessage"].partition("\n")
    assert message == "'gptj'"  # the inference toolkit: str(error), then the traceback
    assert trace.startswith("Traceback (most recent call last):")
    assert "Received server error (500) from primary" in torch["Error"]["Message"]

    hf = invoke_error(runtime, "hf-fails")
    assert hf["OriginalStatusCode"] == 400
    assert hf["OriginalMessage"] == (
        '{\n  "code": 400,\n  "type": "InternalServerException",\n'
        '  "message": "\\u0027gptj\\u0027"\n}\n'
    )
    assert json.loads(hf["OriginalMessage"])["message"] == "'gptj'"
    assert "Received client error (400) from primary" in hf["Error"]["Message"]

    # EnableExplanations on an endpoint without ExplainerConfig: refused before the model
    refused = invoke_error(runtime, "torch-fails", EnableExplanations="`true`")
    assert refused["Error"]["Code"] == "ValidationError"
    assert "ExplainerConfig" in refused["Error"]["Message"]
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_explainer_endpoint_is_refused_until_clarify_is_available(
    clients: tuple[Any, Any],
) -> None:
    sagemaker, runtime = clients
    explainer = {
        "ClarifyExplainerConfig": {"ShapConfig": {"ShapBaselineConfig": {"ShapBaseline": "1"}}}
    }
    deploy(sagemaker, "explained", PYTORCH, ExplainerConfig=explainer)
    assert sagemaker.describe_endpoint(EndpointName="explained")["ExplainerConfig"] == explainer
    for extra in ({"EnableExplanations": "`true`"}, {}):
        refused = invoke_error(runtime, "explained", **extra)
        assert refused["Error"]["Code"] == "ValidationError"
        assert "not available in sagestack yet" in refused["Error"]["Message"]
