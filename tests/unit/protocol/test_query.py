"""The query protocol's flattened params, in a form body or a GET query string."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from sagestack.protocol.messages import HttpRequest
from sagestack.protocol.wire import protocol_for
from sagestack.spec.errors import ServiceError, ValidationException
from tests.unit.protocol.botocore_wire import service

STS = protocol_for(service("sts"))
FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}


def test_get_with_action_in_the_query_string() -> None:
    query = (("Action", "GetCallerIdentity"), ("Version", "2011-06-15"))
    request = HttpRequest("GET", "/", query)
    operation = STS.resolve(request)
    assert operation.name == "GetCallerIdentity"
    assert STS.parse(request, operation) == {}


def test_lists_and_nested_structures_in_a_form_body() -> None:
    form = {
        "Action": "AssumeRole",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "RoleSessionName": "s",
        "DurationSeconds": "900",
        "Tags.member.2.Key": "b",
        "Tags.member.2.Value": "2",
        "Tags.member.1.Key": "a",
        "Tags.member.1.Value": "1",
        "TransitiveTagKeys": "",
    }
    request = HttpRequest("POST", "/", headers=FORM, body=urlencode(form).encode())
    params = STS.parse(request, STS.resolve(request))
    assert params == {
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "RoleSessionName": "s",
        "DurationSeconds": 900,
        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
        "TransitiveTagKeys": [],
    }


def test_unconvertible_values_are_validation_errors() -> None:
    body = urlencode({"Action": "GetSessionToken", "DurationSeconds": "abc"}).encode()
    request = HttpRequest("POST", "/", headers=FORM, body=body)
    with pytest.raises(ValidationException, match="DurationSeconds"):
        STS.parse(request, STS.resolve(request))


@pytest.mark.parametrize("body", [b"Action=Nope&Version=2011-06-15", b"Version=2011-06-15"])
def test_unknown_or_missing_action_is_invalid_action(body: bytes) -> None:
    with pytest.raises(ServiceError, match="Could not find operation") as excinfo:
        STS.resolve(HttpRequest("POST", "/", headers=FORM, body=body))
    assert (excinfo.value.code, excinfo.value.status) == ("InvalidAction", 400)


def test_response_wraps_the_result_and_request_id() -> None:
    operation = STS.service_model.operation_model("GetCallerIdentity")
    output = {"UserId": "u", "Account": "123456789012", "Arn": "arn:aws:iam::1:root"}
    body = STS.serialize(operation, output, "rid").body.decode()
    assert body.startswith(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetCallerIdentityResult><UserId>u</UserId>"
    )
    assert body.endswith(
        "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )


def test_validation_errors_are_spelled_validation_error() -> None:
    response = STS.serialize_error(ValidationException("bad"), None, "rid")
    assert b"<Code>ValidationError</Code>" in response.body
    assert response.status == 400
