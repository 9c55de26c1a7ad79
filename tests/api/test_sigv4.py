"""Signatures of requests made with credentials sagestack issued are verified, on every service:
real clients signing with a real AssumeRole's credentials succeed; the same calls with a wrong
secret (same key id and token) get each protocol's signature error; tampered presigned URLs too."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.api.test_aws_cli import AWS
from tests.api.test_s3_wire import raw
from tests.api.test_sts import client_for, error_of
from tests.conftest import make_client
from tests.support.server import ServerProcess

ROLE_ARN = "arn:aws:iam::000000000000:role/Signer"
GENERIC = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
S3_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


@pytest.fixture
def issued(server: ServerProcess) -> dict[str, Any]:
    server.reset()
    sts = make_client(server.url, "sts")
    credentials: dict[str, Any] = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="signer")[
        "Credentials"
    ]
    return credentials


@pytest.fixture
def forged(issued: dict[str, Any]) -> dict[str, Any]:
    """The issued key id and token with a secret that is not theirs."""
    return {**issued, "SecretAccessKey": "W" * 40}


def s3_for(server: ServerProcess, credentials: dict[str, Any], **config: Any) -> Any:
    return client_for(server.url, "s3", credentials, **config)


def test_s3_calls_with_issued_credentials(server: ServerProcess, issued: dict[str, Any]) -> None:
    s3 = s3_for(server, issued)
    s3.create_bucket(Bucket="signed")
    s3.put_object(Bucket="signed", Key="dir/a b+c.txt", Body=b"hello")
    assert s3.get_object(Bucket="signed", Key="dir/a b+c.txt")["Body"].read() == b"hello"
    listed = s3.list_objects_v2(Bucket="signed", Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/a b+c.txt"]
    upload = s3.create_multipart_upload(Bucket="signed", Key="multi")
    part = s3.upload_part(
        Bucket="signed", Key="multi", UploadId=upload["UploadId"], PartNumber=1, Body=b"p" * 1024
    )
    s3.complete_multipart_upload(
        Bucket="signed",
        Key="multi",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    assert s3.head_object(Bucket="signed", Key="multi")["ContentLength"] == 1024


def test_s3_with_a_wrong_secret_is_refused(
    server: ServerProcess, issued: dict[str, Any], forged: dict[str, Any]
) -> None:
    s3_for(server, issued).create_bucket(Bucket="signed")
    bad = s3_for(server, forged)
    with pytest.raises(ClientError) as excinfo:
        bad.put_object(Bucket="signed", Key="k", Body=b"x")
    assert error_of(excinfo) == ("SignatureDoesNotMatch", S3_MESSAGE, 403)
    error = excinfo.value.response["Error"]
    assert error["AWSAccessKeyId"] == issued["AccessKeyId"]
    assert error["CanonicalRequest"].startswith("PUT\n/signed/k\n")
    with pytest.raises(ClientError) as excinfo:
        bad.list_objects_v2(Bucket="signed")
    assert error_of(excinfo) == ("SignatureDoesNotMatch", S3_MESSAGE, 403)
    with pytest.raises(ClientError) as excinfo:
        bad.create_multipart_upload(Bucket="signed", Key="m")
    assert error_of(excinfo)[0] == "SignatureDoesNotMatch"
    assert "Contents" not in s3_for(server, issued).list_objects_v2(Bucket="signed")


@pytest.mark.parametrize("signature_version", ["s3", "s3v4"])
def test_presigned_urls_are_verified(
    server: ServerProcess, issued: dict[str, Any], forged: dict[str, Any], signature_version: str
) -> None:
    s3 = s3_for(server, issued, signature_version=signature_version)
    s3.create_bucket(Bucket="signed")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "signed", "Key": "p q"})
    # SigV2 signs Content-Type: urllib would add one that the URL was not signed with
    parts = urllib.parse.urlsplit(put_url)
    status, _, text = raw(server, "PUT", f"{parts.path}?{parts.query}", b"presigned")
    assert status == 200, text
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "signed", "Key": "p q"})
    with urllib.request.urlopen(get_url, timeout=10) as reply:
        assert reply.read() == b"presigned"
    with_type = raw(server, "PUT", f"{parts.path}?{parts.query}", b"x", **{"Content-Type": "a/b"})
    assert with_type[0] == (403 if signature_version == "s3" else 200)
    other = s3.generate_presigned_url("get_object", Params={"Bucket": "signed", "Key": "other"})
    bad_signer = s3_for(server, forged, signature_version=signature_version)
    wrong_secret = bad_signer.generate_presigned_url(
        "get_object", Params={"Bucket": "signed", "Key": "p q"}
    )
    tampered = get_url.replace("/p%20q", "/other")
    for url in (wrong_secret, tampered, _swap_signature(get_url, other)):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        assert refused.value.code == 403
        body = refused.value.read().decode()
        assert "<Code>SignatureDoesNotMatch</Code>" in body and S3_MESSAGE in body


def _swap_signature(url: str, donor: str) -> str:
    """`url` carrying the signature of `donor` (a valid URL for another object)."""
    names = ("Signature", "X-Amz-Signature")
    donor_query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(donor).query))
    parts = urllib.parse.urlsplit(url)
    pairs = [
        (k, donor_query[k] if k in names else v) for k, v in urllib.parse.parse_qsl(parts.query)
    ]
    return parts._replace(query=urllib.parse.urlencode(pairs)).geturl()


def test_virtual_hosted_and_aws_chunked_requests(
    server: ServerProcess, issued: dict[str, Any]
) -> None:
    """Requests signed by hand the way other SDKs send them: a virtual-hosted host, and an
    aws-chunked body with a seed signature (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)."""
    s3_for(server, issued).create_bucket(Bucket="signed")
    port = urllib.parse.urlsplit(server.url).port
    host = f"signed.localhost:{port}"
    for secret, status in ((issued["SecretAccessKey"], 200), ("W" * 40, 403)):
        headers = _signed_headers(host, "/?list-type=2", issued, secret)
        assert raw(server, "GET", "/?list-type=2", **headers)[0] == status
        data = b"chunk data " * 1000
        body, headers = _aws_chunked("/signed/streamed", server, data, issued, secret)
        replied, _, text = raw(server, "PUT", "/signed/streamed", body, **headers)
        assert replied == status, text
    got = s3_for(server, issued).get_object(Bucket="signed", Key="streamed")
    assert got["Body"].read() == b"chunk data " * 1000


def _signed_headers(host: str, path: str, issued: dict[str, Any], secret: str) -> dict[str, str]:
    """Headers of a GET of `path` on `host`, signed as botocore signs S3 requests."""
    credentials = Credentials(issued["AccessKeyId"], secret, issued["SessionToken"])
    request = AWSRequest(method="GET", url=f"http://{host}{path}")
    request.headers["Host"] = host
    S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _aws_chunked(
    path: str, server: ServerProcess, data: bytes, issued: dict[str, Any], secret: str
) -> tuple[bytes, dict[str, str]]:
    host = urllib.parse.urlsplit(server.url).netloc
    framing = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "X-Amz-Decoded-Content-Length": str(len(data)),
    }
    credentials = Credentials(issued["AccessKeyId"], secret, issued["SessionToken"])
    request = AWSRequest(method="PUT", url=f"http://{host}{path}", headers=framing)
    timestamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    request.context["timestamp"] = timestamp
    request.headers["Host"] = host
    request.headers["X-Amz-Date"] = timestamp
    request.headers["X-Amz-Security-Token"] = issued["SessionToken"]
    signer = S3SigV4Auth(credentials, "s3", "us-east-1")
    canonical = signer.canonical_request(request)  # its payload line: the STREAMING marker
    seed = signer.signature(signer.string_to_sign(request, canonical), request)
    signed_names = signer.signed_headers(signer.headers_to_sign(request))
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, "
        f"SignedHeaders={signed_names}, Signature={seed}"
    )
    key = _signing_key(secret, timestamp[:8])
    scope = f"{timestamp[:8]}/us-east-1/s3/aws4_request"
    body, previous = b"", seed
    for chunk in (data[:4096], data[4096:], b""):
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                timestamp,
                scope,
                previous,
                hashlib.sha256(b"").hexdigest(),
                hashlib.sha256(chunk).hexdigest(),
            ]
        )
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + b"\r\n"
    return body, dict(request.headers.items())


def _signing_key(secret: str, day: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def test_json_and_query_services(
    server: ServerProcess, issued: dict[str, Any], forged: dict[str, Any]
) -> None:
    sagemaker = client_for(server.url, "sagemaker", issued)
    sagemaker.create_model(
        ModelName="signed-model",
        ExecutionRoleArn="arn:aws:iam::000000000000:role/r",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
    )
    assert sagemaker.describe_model(ModelName="signed-model")["ModelName"] == "signed-model"
    logs = client_for(server.url, "logs", issued)
    logs.create_log_group(logGroupName="/signed")
    assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == ["/signed"]
    identity = client_for(server.url, "sts", issued).get_caller_identity()
    assert identity["Arn"].endswith(":assumed-role/Signer/signer")
    runtime = client_for(server.url, "sagemaker-runtime", issued)
    with pytest.raises(ClientError) as excinfo:  # authenticated: the endpoint is what is missing
        runtime.invoke_endpoint(EndpointName="absent", Body=b"1,2")
    assert error_of(excinfo)[0] == "ValidationError"

    def refused(call: Any, **params: Any) -> tuple[str, str, int]:
        with pytest.raises(ClientError) as excinfo:
            call(**params)
        return error_of(excinfo)

    bad_sagemaker = client_for(server.url, "sagemaker", forged)
    code, message, status = refused(bad_sagemaker.describe_model, ModelName="signed-model")
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith(GENERIC + "\n\nThe Canonical String for this request should have")
    code, _, status = refused(bad_sagemaker.delete_model, ModelName="signed-model")
    assert (code, status) == ("InvalidSignatureException", 403)
    assert sagemaker.describe_model(ModelName="signed-model")["ModelName"] == "signed-model"
    bad_logs = client_for(server.url, "logs", forged)
    code, _, status = refused(bad_logs.create_log_group, logGroupName="/forged")
    assert (code, status) == ("InvalidSignatureException", 403)
    bad_sts = client_for(server.url, "sts", forged)
    assert refused(bad_sts.get_caller_identity) == ("SignatureDoesNotMatch", GENERIC, 403)
    bad_runtime = client_for(server.url, "sagemaker-runtime", forged)
    code, _, status = refused(bad_runtime.invoke_endpoint, EndpointName="absent", Body=b"1")
    assert (code, status) == ("InvalidSignatureException", 403)


def test_static_keys_are_still_not_checked(server: ServerProcess) -> None:
    server.reset()
    for secret in ("test", "anything else"):
        sts = client_for(
            server.url,
            "sts",
            {"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": secret, "SessionToken": None},
        )
        assert sts.get_caller_identity()["Arn"].endswith(":root")


def test_aws_cli_with_issued_credentials(
    server: ServerProcess, issued: dict[str, Any], forged: dict[str, Any], tmp_path: Path
) -> None:
    s3_for(server, issued).create_bucket(Bucket="signed")
    source = tmp_path / "f.txt"
    source.write_text("from the cli")

    def cli(credentials: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1",
        }
        return subprocess.run(
            [AWS, "--endpoint-url", server.url, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    copied = cli(issued, "s3", "cp", str(source), "s3://signed/cli.txt")
    assert copied.returncode == 0, copied.stderr
    assert s3_for(server, issued).get_object(Bucket="signed", Key="cli.txt")["Body"].read() == (
        b"from the cli"
    )
    refused = cli(forged, "s3", "cp", str(source), "s3://signed/forged.txt")
    assert refused.returncode != 0 and "SignatureDoesNotMatch" in refused.stderr
