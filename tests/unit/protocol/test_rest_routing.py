"""REST routing: S3 keys decoded exactly once whatever they hold, and the right operation among
those that share a method and path."""

from __future__ import annotations

from typing import Any

import pytest

from sagestack.protocol.messages import HttpRequest
from sagestack.protocol.wire import protocol_for
from sagestack.spec.errors import ServiceError, UnknownOperationException
from tests.unit.protocol.botocore_wire import request_for, service

S3 = protocol_for(service("s3"))

KEYS = [
    "plain.txt",
    "a/b/c.txt",
    "dir/",
    "/leading-slash",
    "../../etc/passwd",
    "literal%2Fpercent",
    "%41 is not A",
    "ünïcödé ✓ 日本",
    "a+b c=d&e?f#g;h",
    "double//slash",
]


@pytest.mark.parametrize("key", KEYS)
def test_s3_keys_come_back_exactly_as_boto3_sent_them(key: str) -> None:
    for name in ("PutObject", "GetObject", "DeleteObject", "HeadObject"):
        operation = S3.service_model.operation_model(name)
        request = request_for(operation, {"Bucket": "my-bucket", "Key": key})
        assert S3.resolve(request).name == name
        parsed = S3.parse(request, operation)
        assert (parsed["Bucket"], parsed["Key"]) == ("my-bucket", key)


def test_raw_path_labels_are_percent_decoded_once() -> None:
    request = HttpRequest("GET", "/bucket/a%2Fb/%2541%20x")
    operation = S3.resolve(request)
    assert operation.name == "GetObject"
    assert S3.parse(request, operation) == {"Bucket": "bucket", "Key": "a/b/%41 x"}


def _resolve(name: str, params: dict[str, Any]) -> str:
    operation = S3.service_model.operation_model(name)
    return S3.resolve(request_for(operation, {"Bucket": "b", **params})).name


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("ListObjects", {}),
        ("ListObjectsV2", {}),
        ("ListObjectsV2", {"Prefix": "p", "MaxKeys": 5}),
        ("CreateMultipartUpload", {"Key": "k"}),
        ("CompleteMultipartUpload", {"Key": "k", "UploadId": "u"}),
        ("PutObject", {"Key": "k", "Body": b"data"}),
        ("UploadPart", {"Key": "k", "UploadId": "u", "PartNumber": 1, "Body": b"x"}),
        ("CopyObject", {"Key": "k", "CopySource": "src/key"}),
        ("UploadPartCopy", {"Key": "k", "CopySource": "s/k", "UploadId": "u", "PartNumber": 2}),
        ("GetObject", {"Key": "k"}),
        ("ListParts", {"Key": "k", "UploadId": "u"}),
        ("DeleteObject", {"Key": "k"}),
        ("AbortMultipartUpload", {"Key": "k", "UploadId": "u"}),
        ("GetObjectTagging", {"Key": "k"}),
        ("PutBucketTagging", {"Tagging": {"TagSet": [{"Key": "a", "Value": "b"}]}}),
        ("GetBucketLifecycleConfiguration", {}),
        ("GetBucketAnalyticsConfiguration", {"Id": "x"}),
        ("ListBucketAnalyticsConfigurations", {}),
    ],
)
def test_the_most_specific_operation_wins(name: str, params: dict[str, Any]) -> None:
    assert _resolve(name, params) == name


def test_bucket_path_with_trailing_slash_is_the_bucket() -> None:
    assert S3.resolve(HttpRequest("GET", "/bucket/")).name == "ListObjects"
    assert S3.resolve(HttpRequest("GET", "/")).name == "ListBuckets"


def test_s3_unroutable_request_is_method_not_allowed() -> None:
    with pytest.raises(ServiceError) as caught:
        S3.resolve(HttpRequest("PATCH", "/bucket/key"))
    assert (caught.value.code, caught.value.status) == ("MethodNotAllowed", 405)


def test_rest_json_unroutable_request_is_unknown_operation_404() -> None:
    runtime = protocol_for(service("sagemaker-runtime"))
    with pytest.raises(UnknownOperationException) as caught:
        runtime.resolve(HttpRequest("POST", "/endpoints/x/nowhere"))
    assert caught.value.status == 404


def test_rest_bindings_convert_and_reject_bad_values() -> None:
    operation = S3.service_model.operation_model("ListObjectsV2")
    request = HttpRequest("GET", "/b", (("list-type", "2"), ("max-keys", "abc")))
    with pytest.raises(ServiceError) as caught:
        S3.parse(request, operation)
    assert caught.value.code == "ValidationException"
    assert "max-keys" in caught.value.message


def test_malformed_xml_body_is_malformed_xml() -> None:
    operation = S3.service_model.operation_model("PutBucketTagging")
    request = HttpRequest("PUT", "/b", (("tagging", ""),), body=b"<Tagging><TagSet>")
    with pytest.raises(ServiceError) as caught:
        S3.parse(request, operation)
    assert (caught.value.code, caught.value.status) == ("MalformedXML", 400)
