"""Error responses: status from the error, else the model, else 400; each protocol's error
document as botocore reads it."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest

from sagestack.protocol.messages import HttpResponse
from sagestack.protocol.wire import protocol_for
from sagestack.spec.errors import InternalFailure, ServiceError, ValidationException
from tests.unit.protocol.botocore_wire import parse_response, service


def _error(
    service_name: str, operation: str, error: ServiceError, method: str = "POST"
) -> tuple[HttpResponse, dict[str, Any]]:
    model = service(service_name)
    protocol = protocol_for(model)
    op = model.operation_model(operation)
    response = protocol.serialize_error(error, op, "req-9", method=method)
    return response, parse_response(op, response, model)


def test_model_error_is_424_with_its_original_status_in_the_body() -> None:
    error = ServiceError(
        "Received client error (400) from model",
        code="ModelError",
        fields={"OriginalStatusCode": 400, "OriginalMessage": "bad input"},
    )
    response, parsed = _error("sagemaker-runtime", "InvokeEndpoint", error)
    assert response.status == 424
    assert ("X-Amzn-ErrorType", "ModelError") in response.headers
    assert parsed["Error"]["Code"] == "ModelError"
    assert parsed["OriginalStatusCode"] == 400
    assert parsed["Message"] == "Received client error (400) from model"
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"


def test_status_comes_from_the_error_then_the_model_then_400() -> None:
    response, _ = _error("sagemaker", "DescribeModel", InternalFailure("boom"))
    assert response.status == 500
    response, parsed = _error("sagemaker", "DescribeModel", ServiceError("x", code="Unmodelled"))
    assert (response.status, parsed["Error"]["Code"]) == (400, "Unmodelled")
    response, _ = _error("s3", "GetObject", ServiceError("gone", code="NoSuchKey"))
    assert response.status == 404


def test_awsjson_error_body() -> None:
    response, parsed = _error("sagemaker", "DescribeModel", ValidationException("no model"))
    assert response.status == 400
    assert dict(response.headers)["x-amzn-RequestId"] == "req-9"
    assert parsed["Error"] == {"Code": "ValidationException", "Message": "no model"}


def test_head_errors_have_no_body_but_keep_status_and_request_id() -> None:
    error = ServiceError("The specified key does not exist.", code="NoSuchKey")
    response, parsed = _error("s3", "HeadObject", error, method="HEAD")
    assert (response.status, response.body) == (404, b"")
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"
    assert parsed["Error"]["Code"] == "404"  # all a client can know without a body


def test_s3_error_document() -> None:
    error = ServiceError("no bucket", code="NoSuchBucket", fields={"BucketName": "b"})
    response, parsed = _error("s3", "ListObjects", error)
    assert response.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>')
    assert parsed["Error"] == {"Code": "NoSuchBucket", "Message": "no bucket", "BucketName": "b"}
    assert dict(response.headers)["x-amz-request-id"] == "req-9"
    assert dict(response.headers)["Content-Type"] == "application/xml"


@pytest.mark.parametrize(("sender", "kind"), [(True, "Sender"), (False, "Receiver")])
def test_query_error_document(sender: bool, kind: str) -> None:
    error = ServiceError("denied", code="AccessDenied", status=403)
    error.sender_fault = sender
    response, parsed = _error("sts", "GetCallerIdentity", error)
    root = ElementTree.fromstring(response.body)
    assert root.tag == "{https://sts.amazonaws.com/doc/2011-06-15/}ErrorResponse"
    assert parsed["Error"] == {"Type": kind, "Code": "AccessDenied", "Message": "denied"}
    assert (response.status, parsed["ResponseMetadata"]["RequestId"]) == (403, "req-9")


def test_query_errors_use_the_models_error_code() -> None:
    error = ServiceError("no such role", code="NoSuchEntityException")
    response, parsed = _error("iam", "GetRole", error)
    assert (response.status, parsed["Error"]["Code"]) == (404, "NoSuchEntity")


def test_query_compatible_json_names_the_query_code() -> None:
    error = ServiceError("gone", code="ResourceNotFound")
    response, parsed = _error("cloudwatch", "GetDashboard", error)
    assert parsed["Error"]["Code"] == "ResourceNotFound"
    assert dict(response.headers)["x-amzn-query-error"].endswith(";Sender")
