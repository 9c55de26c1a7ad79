"""The algorithm contract as pure functions: TrainingSpecification checks and a training job
request checked against an algorithm, with defaults filled in."""

from __future__ import annotations

from typing import Any

import pytest

from sagestack.services.sagemaker.algorithm_rules import applied, check_training_specification
from sagestack.spec.errors import ValidationException

ALGORITHM: dict[str, Any] = {
    "AlgorithmName": "alg",
    "TrainingSpecification": {
        "TrainingImage": "image",
        "SupportedHyperParameters": [
            {
                "Name": "depth",
                "Type": "Integer",
                "Range": {"IntegerParameterRangeSpecification": {"MinValue": "1", "MaxValue": "5"}},
                "DefaultValue": "2",
            },
            {
                "Name": "rate",
                "Type": "Continuous",
                "Range": {
                    "ContinuousParameterRangeSpecification": {"MinValue": "0", "MaxValue": "1"}
                },
                "IsRequired": True,
            },
            {"Name": "note", "Type": "FreeText"},
        ],
        "SupportedTrainingInstanceTypes": ["ml.m5.large"],
        "TrainingChannels": [
            {
                "Name": "train",
                "IsRequired": True,
                "SupportedContentTypes": ["text/csv"],
                "SupportedCompressionTypes": ["None", "Gzip"],
                "SupportedInputModes": ["File"],
            }
        ],
        "MetricDefinitions": [{"Name": "loss", "Regex": "loss=(.*)"}],
    },
}


def request(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "AlgorithmSpecification": {"AlgorithmName": "alg", "TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv"}],
        "HyperParameters": {"rate": "0.5"},
    }
    base.update(overrides)
    return base


def test_defaults_and_metric_definitions_are_filled_in() -> None:
    result = applied(request(), ALGORITHM)
    assert result["HyperParameters"] == {"rate": "0.5", "depth": "2"}
    assert result["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "loss", "Regex": "loss=(.*)"}
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"HyperParameters": {"rate": "2"}}, "Invalid value: 2 Supported range"),
        ({"HyperParameters": {"rate": "x"}}, "must be a number"),
        ({"HyperParameters": {"rate": "0.1", "depth": "1.5"}}, "must be an integer"),
        ({"HyperParameters": {}}, "Required hyperparameter: rate is not set"),
        (
            {"InputDataConfig": [{"ChannelName": "train", "CompressionType": "Bzip"}]},
            "Invalid compression type: Bzip",
        ),
        (
            {"InputDataConfig": [{"ChannelName": "train", "InputMode": "Pipe"}]},
            "Invalid input mode: Pipe",
        ),
        ({"InputDataConfig": []}, "Required input channel: train Was not provided."),
    ],
)
def test_requests_breaking_the_contract(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationException) as excinfo:
        applied(request(**overrides), ALGORITHM)
    assert message in excinfo.value.message


def test_free_text_takes_anything() -> None:
    result = applied(request(HyperParameters={"rate": "1", "note": "hello"}), ALGORITHM)
    assert result["HyperParameters"]["note"] == "hello"


@pytest.mark.parametrize(
    ("hyperparameter", "message"),
    [
        (
            {
                "Name": "h",
                "Type": "Integer",
                "Range": {"IntegerParameterRangeSpecification": {"MinValue": "5", "MaxValue": "1"}},
            },
            "greater than its MaxValue",
        ),
        (
            {
                "Name": "h",
                "Type": "Categorical",
                "Range": {"IntegerParameterRangeSpecification": {"MinValue": "1", "MaxValue": "2"}},
            },
            "Range must be CategoricalParameterRangeSpecification",
        ),
        (
            {
                "Name": "h",
                "Type": "Categorical",
                "Range": {"CategoricalParameterRangeSpecification": {"Values": ["a"]}},
                "DefaultValue": "b",
            },
            "Invalid value: b",
        ),
    ],
)
def test_malformed_hyperparameter_specifications(
    hyperparameter: dict[str, Any], message: str
) -> None:
    spec = {**ALGORITHM["TrainingSpecification"], "SupportedHyperParameters": [hyperparameter]}
    with pytest.raises(ValidationException) as excinfo:
        check_training_specification(spec)
    assert message in excinfo.value.message
