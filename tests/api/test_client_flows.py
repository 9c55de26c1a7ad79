"""The call sequences real clients make, replayed with boto3 (the clients themselves cannot be
installed here): OpenMetadata's SageMaker connector and Terraform's aws_sagemaker_model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_models import IMAGE, ROLE, create
from tests.conftest import make_client


def test_openmetadata_connector_ingestion(sagemaker: Any) -> None:
    for index in range(230):
        create(sagemaker, f"om-{index:03d}", Tags=[{"Key": "team", "Value": f"t{index % 3}"}])
    # test connection: list_models(); ingestion: list_models(MaxResults=100) until no NextToken
    assert sagemaker.list_models()["Models"]
    seen: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"MaxResults": 100}
    while True:
        page = sagemaker.list_models(**kwargs)
        seen.extend(page["Models"])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert len(seen) == 230
    assert len({m["ModelArn"] for m in seen}) == 230
    for model in seen[:5]:
        assert isinstance(model["CreationTime"], datetime)
        model["CreationTime"].isoformat()
        described = sagemaker.describe_model(ModelName=model["ModelName"])
        assert described["PrimaryContainer"]["Image"] == IMAGE
        tags = sagemaker.list_tags(ResourceArn=model["ModelArn"])["Tags"]
        assert [t["Key"] for t in tags] == ["team"]


def test_terraform_model_resource_lifecycle(sagemaker: Any) -> None:
    # Create (retried by the provider while ValidationException), then Read.
    arn = sagemaker.create_model(
        ModelName="terraform-20261123",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "Mode": "SingleModel", "Environment": {"K": "V"}},
        EnableNetworkIsolation=False,
        Tags=[{"Key": "Name", "Value": "tf"}],
    )["ModelArn"]
    read = sagemaker.describe_model(ModelName="terraform-20261123")
    assert read["PrimaryContainer"] == {
        "Image": IMAGE,
        "Mode": "SingleModel",
        "Environment": {"K": "V"},
    }
    assert read["EnableNetworkIsolation"] is False
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "Name", "Value": "tf"}]
    # Update touches only tags_all.
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["Name"])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    # Delete, then Read: ValidationException means "gone" to the provider.
    sagemaker.delete_model(ModelName="terraform-20261123")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_model(ModelName="terraform-20261123")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"


def test_sagemaker_sdk_session_setup(s3: Any, server: Any) -> None:
    """`Session().default_bucket()` then `upload_data(...)`, as SDK 2.257.7 sends them with the
    service-endpoint variables: ListBuckets, HeadBucket (404), CreateBucket, PutObject (with
    the SDK's `aws:kms` and CRC32 headers), then a read back."""
    bucket = "sagemaker-us-east-1-000000000000"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket not in names
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket=bucket)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3.create_bucket(Bucket=bucket)
    created = next(b for b in s3.list_buckets()["Buckets"] if b["Name"] == bucket)
    assert isinstance(created["CreationDate"], datetime)
    s3.put_object(
        Bucket=bucket,
        Key="data/train/train.csv",
        Body=b"a,b\n1,2\n",
        ServerSideEncryption="aws:kms",
        ChecksumAlgorithm="CRC32",
    )
    sts = make_client(server.url, "sts")
    assert sts.get_caller_identity()["Account"] == "000000000000"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="data/train")
    assert [o["Key"] for o in listed["Contents"]] == ["data/train/train.csv"]
    body = s3.get_object(Bucket=bucket, Key="data/train/train.csv")["Body"].read()
    assert body == b"a,b\n1,2\n"
