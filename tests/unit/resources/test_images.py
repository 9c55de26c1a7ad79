"""Which runtime stands in for an image, as the SageMaker SDK names images."""

from __future__ import annotations

import pytest

from sagestack.resources.images import Runtime, instance_vcpus, repository, runtime_for

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
KMEANS = "174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1"


def test_repository_ignores_registry_tag_and_digest() -> None:
    assert repository(SKLEARN) == "sagemaker-scikit-learn"
    assert repository("kmeans:1") == "kmeans"
    assert repository("reg.example:5000/team/linear-learner@sha256:abc") == "team/linear-learner"


@pytest.mark.parametrize(
    ("image", "program", "entrypoint", "expected"),
    [
        (SKLEARN, True, False, Runtime("script", "sklearn")),
        (SKLEARN, False, True, Runtime("script", "sklearn")),
        (XGBOOST, True, False, Runtime("script", "xgboost")),
        (XGBOOST, False, False, Runtime("algorithm", "xgboost")),
        (KMEANS, False, False, Runtime("algorithm", "kmeans")),
        (
            "1.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
            False,
            False,
            Runtime("algorithm", "linear-learner"),
        ),
        (
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1.0-cpu-py310",
            True,
            False,
            Runtime("script", "pytorch"),
        ),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/does-not-exist:1", True, False, None),
    ],
)
def test_runtime_for(image: str, program: bool, entrypoint: bool, expected: Runtime | None) -> None:
    assert runtime_for(image, has_program=program, has_entrypoint=entrypoint) == expected


@pytest.mark.parametrize(
    ("instance_type", "vcpus"),
    [
        ("ml.m5.large", 2),
        ("ml.t3.medium", 2),
        ("ml.c5.xlarge", 4),
        ("ml.m5.24xlarge", 96),
        ("ml.p4d.24xlarge", 96),
        ("local", None),
        ("ml.m5.metal", None),
    ],
)
def test_instance_vcpus(instance_type: str, vcpus: int | None) -> None:
    assert instance_vcpus(instance_type) == vcpus
