"""Constraint checks from the model, in AWS's exact wording."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.model import StructureShape

from sagestack.spec.catalog import load_service
from sagestack.spec.errors import ValidationException
from sagestack.spec.validation import render, validate_input, validation_error, violation

SAGEMAKER = load_service("sagemaker")
NAME_PATTERN = "[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?"
ENV_VALUE_TEXTS = (
    "Member must have length less than or equal to 1024, "
    "Member must have length greater than or equal to 0, "
    "Member must satisfy regular expression pattern: [\\S\\s]*"
)
CREATE_MODEL: dict[str, Any] = {
    "ModelName": "my-model-1",
    "PrimaryContainer": {
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7-1",
        "ModelDataUrl": "s3://bucket/path/model.tar.gz",
        "Environment": {f"KEY_{i}": f"value-{i}" for i in range(5)},
    },
    "ExecutionRoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "Tags": [{"Key": f"k{i}", "Value": f"v{i}"} for i in range(3)],
}


def input_shape(operation: str, service: str = "sagemaker") -> StructureShape:
    shape = load_service(service).operation_model(operation).input_shape
    assert shape is not None
    return shape


def message_for(operation: str, params: dict[str, Any], service: str = "sagemaker") -> str:
    with pytest.raises(ValidationException) as excinfo:
        validate_input(params, input_shape(operation, service))
    return excinfo.value.message


def create_model(**changes: Any) -> dict[str, Any]:
    return {**CREATE_MODEL, **changes}


def container(**changes: Any) -> dict[str, Any]:
    return {**CREATE_MODEL["PrimaryContainer"], **changes}


def test_a_request_that_satisfies_everything_passes() -> None:
    validate_input(CREATE_MODEL, input_shape("CreateModel"))


def test_pattern_message() -> None:
    assert message_for("DescribeModel", {"ModelName": "bad name!"}) == (
        "1 validation error detected: Value 'bad name!' at 'modelName' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}"
    )


def test_missing_member_and_too_long_name_are_counted_in_member_order() -> None:
    name = "e" * 64
    assert message_for("CreateModel", {"ModelName": name, "Tags": [{"Value": "v"}]}) == (
        f"2 validation errors detected: Value '{name}' at 'modelName' failed to satisfy "
        "constraint: Member must have length less than or equal to 63; Value null at "
        "'tags.1.member.key' failed to satisfy constraint: Member must not be null"
    )


def test_one_value_breaking_pattern_and_length_reports_both() -> None:
    assert message_for("DescribeEndpoint", {"EndpointName": "-" * 64}) == (
        f"2 validation errors detected: Value '{'-' * 64}' at 'endpointName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}; "
        f"Value '{'-' * 64}' at 'endpointName' failed to satisfy constraint: "
        "Member must have length less than or equal to 63"
    )


def test_enum_and_nested_list_paths() -> None:
    message = message_for(
        "CreateModel",
        create_model(
            Containers=[{"Image": "i"}, {"Image": "i", "Mode": "Sideways"}],
            Tags=[{"Key": "k", "Value": "v"}, {"Value": "v"}],
        ),
    )
    assert message == (
        "2 validation errors detected: Value 'Sideways' at 'containers.2.member.mode' failed to "
        "satisfy constraint: Member must satisfy enum value set: [SingleModel, MultiModel]; "
        "Value null at 'tags.2.member.key' failed to satisfy constraint: Member must not be null"
    )


def test_recursive_shapes_report_deep_paths() -> None:
    expression = {"SubExpressions": [{"Filters": [{"Name": "n", "Operator": "Near"}]}]}
    message = message_for("Search", {"Resource": "TrainingJob", "SearchExpression": expression})
    assert message.startswith(
        "1 validation error detected: Value 'Near' at "
        "'searchExpression.subExpressions.1.member.filters.1.member.operator' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Equals, NotEquals, "
    )


def test_range_messages_quote_numbers() -> None:
    assert message_for("ListModels", {"MaxResults": 0}) == (
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    assert message_for("ListModels", {"MaxResults": 101}) == (
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 100"
    )


def test_map_values_are_reported_once_at_the_map_with_all_their_constraints() -> None:
    environment = {"A": "v" * 1025, "B": "w" * 2000}
    message = message_for(
        "CreateModel", create_model(PrimaryContainer=container(Environment=environment))
    )
    rendered = render(environment)
    assert rendered == "'{A=" + "v" * 253 + "...'"
    assert message == (
        f"1 validation error detected: Value {rendered} at 'primaryContainer.environment' "
        f"failed to satisfy constraint: Map value must satisfy constraint: [{ENV_VALUE_TEXTS}]"
    )


def test_map_keys_are_reported_before_values() -> None:
    environment = {"1bad": "v" * 1025}
    message = message_for(
        "CreateModel", create_model(PrimaryContainer=container(Environment=environment))
    )
    where = f"Value {render(environment)} at 'primaryContainer.environment' failed to satisfy"
    assert message == (
        f"2 validation errors detected: {where} constraint: Map keys must satisfy constraint: "
        "[Member must have length less than or equal to 1024, Member must have length greater "
        "than or equal to 0, Member must satisfy regular expression pattern: "
        f"[a-zA-Z_][a-zA-Z0-9_]*]; {where} constraint: Map value must satisfy constraint: "
        f"[{ENV_VALUE_TEXTS}]"
    )


def test_map_null_value_adds_not_null_to_the_bracket() -> None:
    message = message_for(
        "CreateModel", create_model(PrimaryContainer=container(Environment={"A": None}))
    )
    assert message.endswith(
        f"Map value must satisfy constraint: [{ENV_VALUE_TEXTS}, Member must not be null]"
    )


def test_list_length_and_null_elements() -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    message = message_for("CreateModel", create_model(Tags=tags))
    assert message.endswith(
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    )
    assert message_for("CreateModel", create_model(Tags=[None])) == (
        "1 validation error detected: Value null at 'tags.1.member' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_sensitive_values_are_left_out() -> None:
    params = {"ModelCardName": "card", "Content": "x" * 100_001, "ModelCardStatus": "Draft"}
    assert message_for("CreateModelCard", params) == (
        "1 validation error detected: Value at 'content' failed to satisfy constraint: "
        "Member must have length less than or equal to 100000"
    )


def test_host_labels_must_not_be_empty() -> None:
    params = {"RequestRoute": "", "RequestToken": "t"}
    assert message_for("WriteGetObjectResponse", params, service="s3") == (
        "1 validation error detected: Value '' at 'requestRoute' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_unknown_members_are_ignored_and_none_is_absent() -> None:
    validate_input(
        {"ModelName": "m", "Extra": 1, "Nested": {"x": None}}, input_shape("DescribeModel")
    )
    assert message_for("DescribeModel", {"ModelName": None}).endswith(
        "Value null at 'modelName' failed to satisfy constraint: Member must not be null"
    )


def test_wrong_types_are_reported_in_botocore_words_after_aws_problems() -> None:
    message = message_for(
        "CreateModel", create_model(ModelName="bad name", EnableNetworkIsolation="yes")
    )
    assert message == (
        "2 validation errors detected: Value 'bad name' at 'modelName' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}; "
        "Invalid type for parameter EnableNetworkIsolation, value: yes, "
        "type: <class 'str'>, valid types: <class 'bool'>"
    )


def test_botocore_findings_with_aws_wording_are_not_repeated() -> None:
    params = {"ModelName": 7, "Tags": [None, {"Key": "k"}], "Unknown": 1}
    assert message_for("CreateModel", params) == (
        "3 validation errors detected: Value null at 'tags.1.member' failed to satisfy "
        "constraint: Member must not be null; Value null at 'tags.2.member.value' failed to "
        "satisfy constraint: Member must not be null; Invalid type for parameter ModelName, "
        "value: 7, type: <class 'int'>, valid types: <class 'str'>"
    )


def test_tagged_unions_take_exactly_one_member() -> None:
    union = SAGEMAKER.shape_for("AutoMLProblemTypeConfig")
    first, second = list(union.members)[:2]
    with pytest.raises(ValidationException) as excinfo:
        validate_input({first: {}, second: {}}, union)
    assert "Invalid number of parameters set for tagged union structure input" in str(
        excinfo.value.message
    )


def test_types_botocore_accepts_pass() -> None:
    shape = input_shape("ListModels")
    validate_input({"CreationTimeAfter": "2024-01-01T00:00:00Z", "MaxResults": True}, shape)


def test_render() -> None:
    assert render(None) == "null"
    assert render("a") == "'a'"
    assert render(3) == "'3'"
    assert render(1.5) == "'1.5'"
    assert render(False) == "'false'"
    assert render(["a", None]) == "'[a, null]'"
    assert render({"k": ["v"]}) == "'{k=[v]}'"
    assert render(b"abc") == "'java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]'"
    assert render("x" * 300) == "'" + "x" * 256 + "...'"


def test_helpers_for_handlers() -> None:
    problem = violation(5, "maxResults", "Member must have value less than or equal to 4")
    assert problem == (
        "Value '5' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 4"
    )
    assert violation("secret", "key", "Member must not be null", hidden=True).startswith("Value at")
    assert validation_error([problem, problem]).message.startswith("2 validation errors detected: ")


@pytest.mark.parametrize(
    "service",
    ["sagemaker", "sagemaker-runtime", "s3", "sts", "logs", "iam", "events", "cloudwatch"],
)
def test_empty_input_reports_exactly_the_required_members(service: str) -> None:
    model = load_service(service)
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        if shape is None:
            continue
        required = sorted(shape.required_members, key=list(shape.members).index)
        if not required:
            validate_input({}, shape)
            continue
        with pytest.raises(ValidationException) as excinfo:
            validate_input({}, shape)
        expected = [
            f"Value null at '{member[:1].lower() + member[1:]}' failed to satisfy constraint: "
            "Member must not be null"
            for member in required
        ]
        assert excinfo.value.message == validation_error(expected).message, name
