"""Constraint checks from the model, in AWS's exact wording."""

from __future__ import annotations

from typing import Any

import pytest

from sagestack.spec.catalog import load_service
from sagestack.spec.errors import SerializationException, ValidationException
from sagestack.spec.validation import render, validate_input

SAGEMAKER = load_service("sagemaker")
PATTERN = "[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?"


def message_for(operation: str, params: dict[str, Any], service: str = "sagemaker") -> str:
    shape = load_service(service).operation_model(operation).input_shape
    with pytest.raises(ValidationException) as excinfo:
        validate_input(params, shape)
    return excinfo.value.message


def test_valid_request_passes() -> None:
    shape = SAGEMAKER.operation_model("CreateModel").input_shape
    validate_input(
        {
            "ModelName": "m-1",
            "PrimaryContainer": {"Image": "img", "Environment": {"A": "1"}},
            "Tags": [{"Key": "k", "Value": "v"}],
        },
        shape,
    )


def test_pattern_message() -> None:
    assert message_for("DescribeModel", {"ModelName": "bad name!"}) == (
        "1 validation error detected: Value 'bad name!' at 'modelName' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {PATTERN}"
    )


def test_several_problems_are_counted_in_member_order() -> None:
    message = message_for(
        "CreateEndpointConfig", {"EndpointConfigName": "bad name", "ProductionVariants": [{}]}
    )
    assert message == (
        "2 validation errors detected: Value 'bad name' at 'endpointConfigName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: "
        "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}; Value null at "
        "'productionVariants.1.member.variantName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_enum_and_nested_list_paths() -> None:
    message = message_for(
        "CreateModel",
        {
            "ModelName": "m",
            "Containers": [{"Image": "i"}, {"Image": "i", "Mode": "Sideways"}],
            "Tags": [{"Key": "k", "Value": "v"}, {"Value": "v"}],
        },
    )
    assert message == (
        "2 validation errors detected: Value 'Sideways' at 'containers.2.member.mode' failed to "
        "satisfy constraint: Member must satisfy enum value set: [SingleModel, MultiModel]; "
        "Value null at 'tags.2.member.key' failed to satisfy constraint: Member must not be null"
    )


def test_range_messages_quote_numbers() -> None:
    assert message_for("ListModels", {"MaxResults": 0}) == (
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    assert message_for("ListModels", {"MaxResults": 101}).endswith(
        "Member must have value less than or equal to 100"
    )


def test_map_keys_and_values_are_reported_at_the_map() -> None:
    environment = {"ok": "v" * 1025}
    message = message_for(
        "CreateModel",
        {"ModelName": "m", "PrimaryContainer": {"Image": "i", "Environment": environment}},
    )
    assert message.startswith("1 validation error detected: Value '{ok=vvv")
    assert (
        "at 'primaryContainer.environment' failed to satisfy constraint: Map value must " in message
    )
    assert "Member must have length less than or equal to 1024" in message


def test_list_length_uses_length_wording() -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    message = message_for("CreateModel", {"ModelName": "m", "Tags": tags})
    assert (
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
        in message
    )


def test_unknown_members_are_ignored() -> None:
    shape = SAGEMAKER.operation_model("DescribeModel").input_shape
    validate_input({"ModelName": "m", "Extra": 1}, shape)


def test_wrong_type_reaching_validation_is_a_serialization_exception() -> None:
    shape = SAGEMAKER.operation_model("DescribeModel").input_shape
    with pytest.raises(SerializationException):
        validate_input({"ModelName": 42}, shape)


def test_render() -> None:
    assert render(None) == "null"
    assert render("a") == "'a'"
    assert render(3) == "'3'"
    assert render(["a", "b"]) == "'[a, b]'"
    assert render({"k": "v"}) == "'{k=v}'"
    assert render("x" * 2000).endswith("...'")


@pytest.mark.parametrize(
    "service", ["sagemaker", "sagemaker-runtime", "s3", "sts", "logs", "iam", "events"]
)
def test_empty_input_reports_exactly_the_required_members(service: str) -> None:
    model = load_service(service)
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        if shape is None:
            continue
        required = shape.required_members
        if not required:
            validate_input({}, shape)
            continue
        with pytest.raises(ValidationException) as excinfo:
            validate_input({}, shape)
        assert excinfo.value.message.count("Member must not be null") == len(required), name
