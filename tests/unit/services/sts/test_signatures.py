"""Signature verification over requests signed by botocore's own client signers, turned into
what the server receives: header SigV4 (JSON, query and S3), presigned SigV4 and SigV2."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sagestack.api.context import SignedRequest
from sagestack.services.sts.sessions import Session
from sagestack.services.sts.signatures import (
    InvalidSignatureException,
    SignatureDoesNotMatch,
    client_path,
    query_pairs,
    signature_version,
    verify,
)

HOST = "127.0.0.1:6161"
SESSION = Session(
    access_key_id="ASIAEXAMPLE000000000",
    secret_access_key="s3cr3t/+" * 5,
    session_token="token+/=",
    expiration=time.time() + 3600,
    origin="AssumeRole",
    account="000000000000",
    principal_arn="arn:aws:sts::000000000000:assumed-role/R/s",
    user_id="AROA:s",
)


def credentials(secret: str = SESSION.secret_access_key) -> Credentials:
    return Credentials(SESSION.access_key_id, secret, SESSION.session_token)


def received(request: AWSRequest, body: bytes | None = b"") -> SignedRequest:
    """The signed request as the server sees it: raw path and query, lower-case headers."""
    url = urlsplit(request.url)
    headers = {k.lower(): str(v) for k, v in request.headers.items()}
    headers.setdefault("host", HOST)
    return SignedRequest(request.method, url.path, url.query.encode(), headers, body, url.path)


def test_query_pairs_and_client_path() -> None:
    assert query_pairs(b"a=1&uploads&b=x%2By+z&&c=") == [
        ("a", "1"),
        ("uploads", ""),
        ("b", "x+y+z"),
        ("c", ""),
    ]
    assert client_path("/bkt/a%20b/c%2Fd~e") == "/bkt/a%20b/c%2Fd~e"
    assert client_path("/bkt/a b/ü") == "/bkt/a%20b/%C3%BC"


def test_json_request_signed_with_its_body() -> None:
    body = b'{"ModelName": "m"}'
    request = AWSRequest("POST", f"http://{HOST}/", data=body, headers={"X-Amz-Target": "t"})
    SigV4Auth(credentials(), "sagemaker", "us-west-2").add_auth(request)
    assert signature_version(received(request, body)) == 4
    verify(received(request, body), SESSION)
    with pytest.raises(InvalidSignatureException) as refused:
        verify(received(request, body + b" "), SESSION)
    assert refused.value.status == 403
    assert "The Canonical String for this request should have been\n'POST\n/\n" in str(
        refused.value
    )
    forged = AWSRequest("POST", f"http://{HOST}/", data=body, headers={"X-Amz-Target": "t"})
    SigV4Auth(credentials("wrong"), "sts", "us-east-1").add_auth(forged)
    with pytest.raises(SignatureDoesNotMatch):
        verify(received(forged, body), SESSION)


def test_s3_request_with_query_and_streamed_body() -> None:
    url = f"http://{HOST}/bkt/dir/a%20b?uploadId=x%2By&partNumber=1"
    request = AWSRequest("PUT", url, data=b"part data")
    S3SigV4Auth(credentials(), "s3", "us-east-1").add_auth(request)
    verify(received(request, None), SESSION)  # the header carries the body's hash
    request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    with pytest.raises(SignatureDoesNotMatch) as refused:
        verify(received(request, None), SESSION)
    assert refused.value.fields["CanonicalRequest"].startswith(
        "PUT\n/bkt/dir/a%20b\npartNumber=1&uploadId=x%2By\n"
    )


def test_presigned_sigv4_and_sigv2() -> None:
    request = AWSRequest("GET", f"http://{HOST}/bkt/k%20ey")
    S3SigV4QueryAuth(credentials(), "s3", "us-east-1", expires=60).add_auth(request)
    verify(received(request), SESSION)
    with pytest.raises(SignatureDoesNotMatch):
        verify(received(AWSRequest("GET", request.url.replace("k%20ey", "other"))), SESSION)
    v2 = AWSRequest("GET", f"http://{HOST}/bkt/k%20ey")
    HmacV1QueryAuth(credentials(), expires=60).add_auth(v2)
    assert signature_version(received(v2)) == 2
    verify(received(v2), SESSION)
    with pytest.raises(SignatureDoesNotMatch):
        verify(received(AWSRequest("GET", v2.url.replace("k%20ey", "other"))), SESSION)
