"""What goes over the wire when input is bad, the operation is unknown or not built yet, and
how one port tells the services apart — raw HTTP and real boto3 clients."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_models import error_of
from tests.conftest import make_client
from tests.support.server import ServerProcess

AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/sagemaker/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def post(server: ServerProcess, target: str | None, body: bytes) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/x-amz-json-1.1", "Authorization": AUTH}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = urllib.request.Request(server.url + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


def test_malformed_json_is_serialization_exception(server: ServerProcess, sagemaker: Any) -> None:
    status, _, body = post(server, "SageMaker.CreateModel", b'{"ModelName": "x",')
    assert status == 400
    assert body["__type"] == "SerializationException"
    assert sagemaker.list_models()["Models"] == []


def test_wrong_json_type_is_serialization_exception(server: ServerProcess, sagemaker: Any) -> None:
    body = json.dumps({"ModelName": 123, "PrimaryContainer": {"Image": "i"}}).encode()
    status, _, reply = post(server, "SageMaker.CreateModel", body)
    assert (status, reply["__type"]) == (400, "SerializationException")
    body = json.dumps({"ModelName": "m", "PrimaryContainer": ["not", "a", "structure"]}).encode()
    status, _, reply = post(server, "SageMaker.CreateModel", body)
    assert (status, reply["__type"]) == (400, "SerializationException")
    assert sagemaker.list_models()["Models"] == []


def test_missing_required_member_is_validation_exception(unchecked_sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        unchecked_sagemaker.describe_model()
    assert error_of(excinfo) == (
        "ValidationException",
        "1 validation error detected: Value null at 'modelName' failed to satisfy constraint: "
        "Member must not be null",
        400,
    )


def test_several_violations_are_counted(unchecked_sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        unchecked_sagemaker.create_model(
            ModelName="x" * 64, PrimaryContainer={"Image": "i", "Mode": "Bad"}
        )
    message = error_of(excinfo)[1]
    assert message.startswith("2 validation errors detected: ")
    assert "at 'modelName'" in message
    assert "at 'primaryContainer.mode'" in message
    assert unchecked_sagemaker.list_models()["Models"] == []


@pytest.mark.parametrize("target", ["SageMaker.NoSuchOperation", "NoSuchService.ListModels", ""])
def test_unknown_operation(server: ServerProcess, target: str) -> None:
    status, _, body = post(server, target, b"{}")
    assert status == 400
    assert body["__type"] == "UnknownOperationException"


def test_unimplemented_operation_answers_501_naming_it(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_notebook_instances()
    code, message, status = error_of(excinfo)
    assert (code, status) == ("NotImplemented", 501)
    assert "ListNotebookInstances" in message


def test_oversized_body_is_refused(server: ServerProcess) -> None:
    body = b'{"ModelName": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    status, _, reply = post(server, "SageMaker.DescribeModel", body)
    assert status == 413
    assert reply["__type"] == "RequestEntityTooLarge"


def test_request_id_header_is_present(server: ServerProcess) -> None:
    status, headers, _ = post(server, "SageMaker.ListModels", b"{}")
    assert status == 200
    assert {k.lower() for k in headers} >= {"x-amzn-requestid"}


NOT_IMPLEMENTED = ("NotImplemented", 501)


@pytest.mark.parametrize(
    ("service", "call", "answer"),
    [
        ("s3", lambda c: c.get_bucket_website(Bucket="b"), NOT_IMPLEMENTED),
        ("sts", lambda c: c.decode_authorization_message(EncodedMessage="x"), NOT_IMPLEMENTED),
        ("logs", lambda c: c.describe_destinations(), NOT_IMPLEMENTED),
        (
            "sagemaker-runtime",
            lambda c: c.invoke_endpoint_async(EndpointName="e", InputLocation="s3://b/k"),
            ("ValidationError", 400),  # every runtime operation exists: the endpoint does not
        ),
    ],
)
def test_every_served_service_is_routed_on_one_port(
    server: ServerProcess, service: str, call: Any, answer: tuple[str, int]
) -> None:
    with pytest.raises(ClientError) as excinfo:
        call(make_client(server.url, service))
    code, _, status = error_of(excinfo)
    assert (code, status) == answer


def test_health(server: ServerProcess) -> None:
    with urllib.request.urlopen(server.url + "/_sagestack/health", timeout=5) as reply:
        body = json.loads(reply.read())
    assert body["status"] == "ok"
    assert "sagemaker" in body["services"]
