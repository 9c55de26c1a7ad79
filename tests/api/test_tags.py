"""AddTags, ListTags and DeleteTags through a real boto3 client against a live server."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_models import create, error_of


def test_tags_at_create_add_list_delete(sagemaker: Any) -> None:
    arn = create(sagemaker, "tagged", Tags=[{"Key": "a", "Value": "1"}])["ModelArn"]
    added = sagemaker.add_tags(
        ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "one"}]
    )
    assert added["Tags"] == [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "one"}]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "a", "Value": "one"},
        {"Key": "b", "Value": "2"},
    ]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["a", "not-there"])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_list_tags_paginates(sagemaker: Any) -> None:
    arn = create(sagemaker, "many")["ModelArn"]
    tags = [{"Key": f"k{index:02d}", "Value": str(index)} for index in range(50)]
    sagemaker.add_tags(ResourceArn=arn, Tags=tags)
    first = sagemaker.list_tags(ResourceArn=arn, MaxResults=50)
    assert first["Tags"] == tags
    assert "NextToken" not in first
    pages = list(sagemaker.get_paginator("list_tags").paginate(ResourceArn=arn))
    assert [t for page in pages for t in page["Tags"]] == tags


def test_more_than_50_tags_is_rejected(sagemaker: Any) -> None:
    arn = create(sagemaker, "full")["ModelArn"]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(ClientError) as excinfo:
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    assert error_of(excinfo)[0] == "ValidationException"
    assert len(sagemaker.list_tags(ResourceArn=arn)["Tags"]) == 50


def test_reserved_prefix_and_length_limits(sagemaker: Any) -> None:
    arn = create(sagemaker, "limits")["ModelArn"]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "k" * 129, "Value": "x"}])
    assert "Member must have length less than or equal to 128" in error_of(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v" * 257}])
    assert "Member must have length less than or equal to 256" in error_of(excinfo)[1]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == []


def test_tags_on_unknown_or_deleted_resource(sagemaker: Any) -> None:
    arn = create(sagemaker, "brief", Tags=[{"Key": "a", "Value": "1"}])["ModelArn"]
    sagemaker.delete_model(ModelName="brief")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_tags(ResourceArn=arn)
    assert error_of(excinfo)[0] == "ValidationException"
    create(sagemaker, "brief")
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == []


def test_list_tags_max_results_below_50_is_rejected(unchecked_sagemaker: Any) -> None:
    arn = create(unchecked_sagemaker, "small-page")["ModelArn"]
    with pytest.raises(ClientError) as excinfo:
        unchecked_sagemaker.list_tags(ResourceArn=arn, MaxResults=10)
    assert "Member must have value greater than or equal to 50" in error_of(excinfo)[1]
