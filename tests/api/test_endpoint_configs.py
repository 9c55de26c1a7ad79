"""EndpointConfig through a real boto3 client against a live server."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_models import create as create_model
from tests.api.test_models import error_of

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def variant(name: str = "AllTraffic", model: str = "model-a", **extra: Any) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
        **extra,
    }


def test_create_and_describe_endpoint_config_with_every_section(sagemaker: Any) -> None:
    create_model(sagemaker, "model-a")
    create_model(sagemaker, "model-b")
    arn = sagemaker.create_endpoint_config(
        EndpointConfigName="full",
        ProductionVariants=[
            variant(InitialVariantWeight=0.7),
            variant("Second", "model-b", InitialVariantWeight=0.3),
        ],
        ShadowProductionVariants=[variant("Shadow", "model-b")],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 50,
            "DestinationS3Uri": "s3://bucket/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
        KmsKeyId="alias/key",
        Tags=[{"Key": "team", "Value": "ml"}],
    )["EndpointConfigArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:000000000000:endpoint-config/full"
    described = sagemaker.describe_endpoint_config(EndpointConfigName="full")
    assert described["EndpointConfigArn"] == arn
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["AllTraffic", "Second"]
    assert described["ProductionVariants"][0]["InitialVariantWeight"] == 0.7
    assert described["ShadowProductionVariants"][0]["InitialVariantWeight"] == 1.0
    assert described["DataCaptureConfig"]["InitialSamplingPercentage"] == 50
    assert described["KmsKeyId"] == "alias/key"
    assert "AsyncInferenceConfig" not in described
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_serverless_variant(sagemaker: Any) -> None:
    create_model(sagemaker, "model-a")
    sagemaker.create_endpoint_config(
        EndpointConfigName="serverless",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "model-a",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    described = sagemaker.describe_endpoint_config(EndpointConfigName="serverless")
    assert described["ProductionVariants"][0]["ServerlessConfig"]["MemorySizeInMB"] == 2048


@pytest.mark.parametrize(
    ("variants", "fragment"),
    [
        ([variant(), variant()], "unique"),
        (
            [variant(model="nope")],
            'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/nope"',
        ),
        ([{"VariantName": "v", "ModelName": "model-a"}], "InstanceType"),
        ([variant(ServerlessConfig={"MemorySizeInMB": 2048, "MaxConcurrency": 1})], "Serverless"),
        ([variant(InitialVariantWeight=0.0)], "InitialVariantWeight"),
    ],
)
def test_create_endpoint_config_cross_resource_checks(
    sagemaker: Any, variants: list[dict[str, Any]], fragment: str
) -> None:
    create_model(sagemaker, "model-a")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_endpoint_config(EndpointConfigName="bad", ProductionVariants=variants)
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert fragment in message
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []


def test_endpoint_config_not_found_and_duplicate(sagemaker: Any) -> None:
    create_model(sagemaker, "model-a")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_endpoint_config(EndpointConfigName="missing")
    assert error_of(excinfo) == (
        "ValidationException",
        'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:000000000000:'
        'endpoint-config/missing".',
        400,
    )
    sagemaker.create_endpoint_config(EndpointConfigName="once", ProductionVariants=[variant()])
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_endpoint_config(EndpointConfigName="once", ProductionVariants=[variant()])
    assert error_of(excinfo)[1].startswith("Cannot create already existing endpoint configuration")


def test_list_and_delete_endpoint_configs(sagemaker: Any) -> None:
    create_model(sagemaker, "model-a")
    for name in ["c1", "c2", "c3"]:
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant()])
    listed = sagemaker.list_endpoint_configs(SortBy="Name", SortOrder="Ascending")
    assert [c["EndpointConfigName"] for c in listed["EndpointConfigs"]] == ["c1", "c2", "c3"]
    sagemaker.delete_endpoint_config(EndpointConfigName="c2")
    listed = sagemaker.list_endpoint_configs(SortBy="Name", SortOrder="Descending")
    assert [c["EndpointConfigName"] for c in listed["EndpointConfigs"]] == ["c3", "c1"]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.delete_endpoint_config(EndpointConfigName="c2")
    assert error_of(excinfo)[0] == "ValidationException"
