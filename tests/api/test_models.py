"""The SageMaker Model API through a real boto3 client against a live server."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def create(client: Any, name: str, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ModelName": name,
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "s3://bucket/model.tar.gz"},
    }
    params.update(extra)
    result: dict[str, Any] = client.create_model(**params)
    return result


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response["Error"]
    status = excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error["Code"], error["Message"], status


def test_create_model_returns_lowercased_arn(sagemaker: Any) -> None:
    result = create(sagemaker, "My-Model")
    assert result["ModelArn"] == "arn:aws:sagemaker:us-east-1:000000000000:model/my-model"


def test_describe_model_returns_what_was_created(sagemaker: Any) -> None:
    create(
        sagemaker,
        "described",
        EnableNetworkIsolation=True,
        VpcConfig={"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]},
    )
    model = sagemaker.describe_model(ModelName="described")
    assert model["ModelName"] == "described"
    assert model["ModelArn"].endswith(":model/described")
    assert model["ExecutionRoleArn"] == ROLE
    assert model["PrimaryContainer"]["Image"] == IMAGE
    assert model["PrimaryContainer"]["Mode"] == "SingleModel"
    assert model["PrimaryContainer"]["ModelDataUrl"] == "s3://bucket/model.tar.gz"
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]}
    assert isinstance(model["CreationTime"], datetime)


def test_describe_model_omits_absent_optional_structures(sagemaker: Any) -> None:
    create(sagemaker, "plain")
    model = sagemaker.describe_model(ModelName="plain")
    assert "VpcConfig" not in model
    assert "Containers" not in model
    assert "InferenceExecutionConfig" not in model


def test_create_model_with_containers_and_inference_execution_config(sagemaker: Any) -> None:
    sagemaker.create_model(
        ModelName="pipeline",
        ExecutionRoleArn=ROLE,
        Containers=[
            {"Image": IMAGE, "ContainerHostname": "first", "Environment": {"A": "1"}},
            {"Image": IMAGE, "ContainerHostname": "second", "Mode": "SingleModel"},
        ],
        InferenceExecutionConfig={"Mode": "Direct"},
    )
    model = sagemaker.describe_model(ModelName="pipeline")
    assert [c["ContainerHostname"] for c in model["Containers"]] == ["first", "second"]
    assert model["Containers"][0]["Environment"] == {"A": "1"}
    assert model["InferenceExecutionConfig"] == {"Mode": "Direct"}
    assert "PrimaryContainer" not in model


def test_describe_model_unknown_name_raises_validation_exception(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_model(ModelName="missing")
    assert error_of(excinfo) == (
        "ValidationException",
        'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/missing".',
        400,
    )


def test_create_model_duplicate_name_raises_validation_exception(sagemaker: Any) -> None:
    create(sagemaker, "twice")
    with pytest.raises(ClientError) as excinfo:
        create(sagemaker, "TWICE")
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert message == (
        "Cannot create already existing model "
        '"arn:aws:sagemaker:us-east-1:000000000000:model/twice".'
    )


def test_create_model_without_any_container_is_rejected(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model(ModelName="empty", ExecutionRoleArn=ROLE)
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError):
        sagemaker.describe_model(ModelName="empty")


def test_create_model_bad_name_gets_aws_constraint_message(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(sagemaker, "bad name!")
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith(
        "1 validation error detected: Value 'bad name!' at 'modelName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
    )
    assert sagemaker.list_models()["Models"] == []


def test_create_model_bad_enum_gets_aws_constraint_message(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(sagemaker, "enum", PrimaryContainer={"Image": IMAGE, "Mode": "Sideways"})
    _, message, _ = error_of(excinfo)
    assert message == (
        "1 validation error detected: Value 'Sideways' at 'primaryContainer.mode' failed to "
        "satisfy constraint: Member must satisfy enum value set: [SingleModel, MultiModel]"
    )


def test_delete_model_then_describe_is_validation_exception(sagemaker: Any) -> None:
    create(sagemaker, "gone")
    sagemaker.delete_model(ModelName="gone")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_model(ModelName="gone")
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        sagemaker.delete_model(ModelName="gone")
    assert error_of(excinfo)[0] == "ValidationException"


def test_list_models_defaults_to_newest_first_and_paginates(sagemaker: Any) -> None:
    for index in range(25):
        create(sagemaker, f"m-{index:02d}")
    first = sagemaker.list_models()
    assert len(first["Models"]) == 10
    assert first["Models"][0]["ModelName"] == "m-24"
    assert "NextToken" in first
    names = [
        m["ModelName"]
        for page in sagemaker.get_paginator("list_models").paginate(
            PaginationConfig={"PageSize": 7}
        )
        for m in page["Models"]
    ]
    assert names == [f"m-{index:02d}" for index in reversed(range(25))]


def test_list_models_sort_filter_and_name_contains(sagemaker: Any) -> None:
    for name in ["beta", "alpha", "gamma-x", "delta-x"]:
        create(sagemaker, name)
    by_name = sagemaker.list_models(SortBy="Name", SortOrder="Ascending")["Models"]
    assert [m["ModelName"] for m in by_name] == ["alpha", "beta", "delta-x", "gamma-x"]
    contains = sagemaker.list_models(NameContains="-X", SortBy="Name", SortOrder="Ascending")
    assert [m["ModelName"] for m in contains["Models"]] == ["delta-x", "gamma-x"]
    created = sagemaker.describe_model(ModelName="gamma-x")["CreationTime"]
    hour = timedelta(hours=1)
    assert len(sagemaker.list_models(CreationTimeAfter=created - hour)["Models"]) == 4
    assert sagemaker.list_models(CreationTimeAfter=created + hour)["Models"] == []
    assert len(sagemaker.list_models(CreationTimeBefore=created + hour)["Models"]) == 4
    assert sagemaker.list_models(CreationTimeBefore=created - hour)["Models"] == []


def test_list_models_forged_next_token_is_validation_exception(sagemaker: Any) -> None:
    for index in range(3):
        create(sagemaker, f"t-{index}")
    token = sagemaker.list_models(MaxResults=1)["NextToken"]
    for forged in [token[:-2] + "xx", "not-a-token", token + "A", "é" * 10]:
        with pytest.raises(ClientError) as excinfo:
            sagemaker.list_models(MaxResults=1, NextToken=forged)
        assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_models(MaxResults=1, NextToken=token, SortBy="Name")
    assert error_of(excinfo)[0] == "ValidationException"


def test_list_models_max_results_out_of_range(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_models(MaxResults=101)
    assert error_of(excinfo)[1] == (
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"
    )


def test_regions_are_isolated(server: Any, sagemaker: Any) -> None:
    from tests.conftest import make_client

    create(sagemaker, "east")
    west = make_client(server.url, "sagemaker", region="us-west-2")
    assert west.list_models()["Models"] == []
    west_arn = create(west, "east")["ModelArn"]
    assert west_arn == "arn:aws:sagemaker:us-west-2:000000000000:model/east"
