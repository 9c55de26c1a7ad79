"""awsJson: operation by X-Amz-Target, strict typing of request JSON, epoch timestamps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sagestack.protocol.messages import HttpRequest
from sagestack.protocol.wire import protocol_for
from sagestack.spec.errors import SerializationException, UnknownOperationException
from tests.unit.protocol.botocore_wire import service

SAGEMAKER = protocol_for(service("sagemaker"))


def _request(operation: str, body: bytes | str) -> HttpRequest:
    data = body.encode() if isinstance(body, str) else body
    return HttpRequest("POST", "/", headers={"x-amz-target": f"SageMaker.{operation}"}, body=data)


def _parse(operation: str, body: bytes | str) -> dict[str, object]:
    request = _request(operation, body)
    return SAGEMAKER.parse(request, SAGEMAKER.resolve(request))


@pytest.mark.parametrize(
    ("body", "member"),
    [
        ('{"ModelName": 5}', "ModelName"),
        ('{"ModelName": "m", "PrimaryContainer": "x"}', "PrimaryContainer"),
        ('{"ModelName": "m", "Containers": {"Image": "i"}}', "Containers"),
        ('{"ModelName": "m", "Containers": [{"Image": 1}]}', "Containers[0].Image"),
        ('{"ModelName": "m", "PrimaryContainer": {"Environment": {"K": 1}}}', "Environment.K"),
        ('{"ModelName": "m", "EnableNetworkIsolation": "true"}', "EnableNetworkIsolation"),
        ('{"ModelName": "m", "Tags": [null]}', "Tags[0]"),
        ("[1, 2]", "the request body"),
    ],
)
def test_wrong_json_types_are_serialization_exceptions(body: str, member: str) -> None:
    with pytest.raises(SerializationException) as caught:
        _parse("CreateModel", body)
    assert member in caught.value.message


def test_integer_members_reject_strings_and_booleans() -> None:
    for value in ('"10"', "true", "1.5"):
        with pytest.raises(SerializationException, match="MaxResults"):
            _parse("ListModels", f'{{"MaxResults": {value}}}')


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"a": }', b"\xff\xfe"])
def test_malformed_json_is_a_serialization_exception(body: bytes) -> None:
    with pytest.raises(SerializationException):
        _parse("DescribeModel", body)


def test_unknown_members_are_ignored_and_empty_body_is_no_params() -> None:
    assert _parse("DescribeModel", '{"ModelName": "m", "Extra": [1]}') == {"ModelName": "m"}
    assert _parse("ListModels", b"") == {}


def test_timestamps_parse_as_aware_utc_datetimes() -> None:
    params = _parse("ListModels", '{"CreationTimeAfter": 1795428000.5}')
    assert params["CreationTimeAfter"] == datetime(2026, 11, 23, 10, 0, 0, 500000, tzinfo=UTC)
    assert params["CreationTimeAfter"].tzinfo is not None


def test_timestamps_serialize_as_epoch_seconds_from_datetime_or_number() -> None:
    operation = SAGEMAKER.service_model.operation_model("DescribeModel")
    output = {"ModelName": "m", "ModelArn": "arn", "CreationTime": 1795428000.123}
    assert json.loads(SAGEMAKER.serialize(operation, output, "r").body)["CreationTime"] == (
        1795428000.123
    )
    output["CreationTime"] = datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)
    assert json.loads(SAGEMAKER.serialize(operation, output, "r").body)["CreationTime"] == (
        1795428000.123
    )


@pytest.mark.parametrize("target", ["SageMaker.NoSuchThing", "Other.DescribeModel", None])
def test_unknown_or_missing_target_is_unknown_operation(target: str | None) -> None:
    headers = {"x-amz-target": target} if target else {}
    with pytest.raises(UnknownOperationException, match="is not supported"):
        SAGEMAKER.resolve(HttpRequest("POST", "/", headers=headers, body=b"{}"))


def test_awsjson_versions_and_request_id_headers() -> None:
    cloudwatch = protocol_for(service("cloudwatch"))
    operation = cloudwatch.service_model.operation_model("ListDashboards")
    headers = dict(cloudwatch.serialize(operation, {}, "rid").headers)
    assert headers == {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "rid"}
    describe = SAGEMAKER.service_model.operation_model("DescribeModel")
    headers = dict(SAGEMAKER.serialize(describe, {}, "rid").headers)
    assert headers["Content-Type"] == "application/x-amz-json-1.1"


def test_protocol_falls_back_to_a_listed_protocol_it_speaks() -> None:
    from sagestack.protocol.json_rpc import JsonRpcProtocol
    from sagestack.spec.catalog import load_service

    assert isinstance(protocol_for(load_service("cloudwatch")), JsonRpcProtocol)


def test_recursive_shapes_parse_at_any_depth() -> None:
    leaf = {"Filters": [{"Name": "ModelName", "Operator": "Equals", "Value": "m"}]}
    expression = {"SubExpressions": [{"SubExpressions": [leaf], "Operator": "Or"}]}
    body = json.dumps({"Resource": "Model", "SearchExpression": expression})
    assert _parse("Search", body)["SearchExpression"] == expression
    deep = {"SubExpressions": [{"SubExpressions": [1]}]}
    with pytest.raises(SerializationException) as caught:
        _parse("Search", json.dumps({"Resource": "Model", "SearchExpression": deep}))
    assert "SearchExpression.SubExpressions[0].SubExpressions[0] " in caught.value.message
