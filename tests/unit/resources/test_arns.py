"""ARNs: SageMaker's lower-cased names, and parsing any ARN back."""

from __future__ import annotations

import pytest

from sagestack.resources.arns import Arn, arn


def test_arn_lower_cases_the_name_only() -> None:
    assert (
        arn("endpoint-config", "111122223333", "us-east-1", "My-Config")
        == "arn:aws:sagemaker:us-east-1:111122223333:endpoint-config/my-config"
    )
    assert (
        arn("model", "1", "cn-north-1", "M", partition="aws-cn", service="x")
        == "arn:aws-cn:x:cn-north-1:1:model/m"
    )


def test_parse_round_trips() -> None:
    text = arn("training-job", "111122223333", "eu-west-1", "Job-1")
    parsed = Arn.parse(text)
    assert parsed == Arn("aws", "sagemaker", "eu-west-1", "111122223333", "training-job", "job-1")
    assert str(parsed) == text


def test_parse_keeps_slashes_and_colons_in_the_name_and_allows_empty_region() -> None:
    assert Arn.parse("arn:aws:sagemaker:us-east-1:1:model-package/group/3").resource_name == (
        "group/3"
    )
    role = Arn.parse("arn:aws:iam::111122223333:role/service-role/Exec:x")
    assert (role.region, role.resource_type, role.resource_name) == (
        "",
        "role",
        "service-role/Exec:x",
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "arn",
        "arn:aws:sagemaker:us-east-1:1",
        "nra:aws:sagemaker:us-east-1:1:model/m",
        "arn::sagemaker:us-east-1:1:model/m",
        "arn:aws::us-east-1:1:model/m",
        "arn:aws:sagemaker:us-east-1:1:model",
        "arn:aws:sagemaker:us-east-1:1:/m",
        "arn:aws:sagemaker:us-east-1:1:model/",
    ],
)
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        Arn.parse(text)
