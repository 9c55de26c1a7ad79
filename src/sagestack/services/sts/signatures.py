"""Verifying the signature of a request made with credentials whose secret sagestack knows.

The server-side half of SigV4 (and of S3's SigV2) is the client's half run again over the request
as received: the canonical request, string to sign and signature are built by botocore's own
signers (`SigV4Auth` and its S3 and presigned variants, `HmacV1Auth`) from an `AWSRequest` that
reproduces what the client signed, then compared in constant time. What is rebuilt here is only
the client's view of its request:

- the path: each segment decoded and re-encoded the way botocore encodes it (so `%2F` inside a
  segment stays a `%2F`); the signers then apply their service's rule (S3 as is, others encoded
  again) exactly as on the client;
- the query: decoded pairs handed to the signer, which encodes and sorts them (AWS's canonical
  form, whatever encoding the client used on the wire); X-Amz-Signature itself is left out;
- the headers the client listed as signed, with the values received; the host as received;
- the payload hash: `x-amz-content-sha256` when signed (a hex digest, UNSIGNED-PAYLOAD or one of
  the aws-chunked STREAMING-* markers), else the hash of the body. A streamed S3 body is never
  buffered to hash it: its header value is what the signature covers. Not verified: that a
  streamed body matches its declared hash, and the per-chunk signatures of aws-chunked uploads
  (the seed signature, over the headers, is).

A mismatch raises the error each protocol family gives: S3's `SignatureDoesNotMatch` with its
diagnostic members, the query services' `SignatureDoesNotMatch`, and the JSON services'
`InvalidSignatureException` whose message spells out the expected canonical request.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit

from botocore.auth import (
    HmacV1Auth,
    S3SigV4Auth,
    S3SigV4QueryAuth,
    SigV4Auth,
    SigV4QueryAuth,
)
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sagestack.api.context import SignedRequest
from sagestack.services.sts.sessions import Session
from sagestack.spec.errors import ServiceError

SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
_GENERIC_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_S3_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
#: Signing names of the query-protocol services: they answer SignatureDoesNotMatch.
_QUERY_SERVICES = frozenset({"sts", "iam"})


class SignatureDoesNotMatch(ServiceError):
    code = "SignatureDoesNotMatch"
    status = 403


class InvalidSignatureException(ServiceError):
    code = "InvalidSignatureException"
    status = 403


class _SigV2Auth(HmacV1Auth):  # type: ignore[misc]  # botocore is untyped
    """botocore's SigV2 signer with the date line the client sent (header Date, or a presigned
    URL's Expires) instead of the current time."""

    def __init__(self, credentials: Credentials, date: str) -> None:
        super().__init__(credentials)
        self._date = date

    def _get_date(self) -> str:
        return self._date


def signature_version(request: SignedRequest) -> int:
    """4 or 2 for the signing scheme the request uses, 0 when it carries no signature."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith(SIGV4_ALGORITHM) or b"X-Amz-Signature=" in request.query:
        return 4
    if authorization.startswith("AWS ") or b"Signature=" in request.query:
        return 2
    return 0


def sigv2_access_key(request: SignedRequest) -> str:
    """The access key id of a SigV2 request (`Authorization: AWS key:sig` or AWSAccessKeyId)."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("AWS "):
        return authorization[4:].rsplit(":", 1)[0].strip()
    return dict(query_pairs(request.query)).get("AWSAccessKeyId", "")


def sigv2_session_token(request: SignedRequest) -> str | None:
    """The session token of a SigV2 request: a header, or the lower-case query parameter."""
    token = request.headers.get("x-amz-security-token")
    if token is None:
        token = dict(query_pairs(request.query)).get("x-amz-security-token")
    return token


def query_pairs(raw: bytes) -> list[tuple[str, str]]:
    """The query string's pairs decoded (`+` is a literal plus, as AWS signs it)."""
    pairs = []
    for piece in raw.split(b"&"):
        if piece:
            key, _, value = piece.partition(b"=")
            pairs.append((_decode(key), _decode(value)))
    return pairs


def client_path(raw_path: str) -> str:
    """The path as botocore puts it on the wire: each segment percent-encoded once, keeping
    only the unreserved characters (and `/` between segments)."""
    return "/".join(quote(unquote(segment), safe="~") for segment in raw_path.split("/"))


def verify(request: SignedRequest, session: Session) -> None:
    """Raise the protocol's signature error unless `request` was signed with `session`'s
    secret key."""
    credentials = Credentials(
        session.access_key_id, session.secret_access_key, session.session_token
    )
    if signature_version(request) == 2:
        _verify_sigv2(request, credentials)
    else:
        _verify_sigv4(request, credentials)


def _verify_sigv4(request: SignedRequest, credentials: Credentials) -> None:
    pairs = query_pairs(request.query)
    authorization = request.headers.get("authorization", "")
    presigned = not authorization.startswith(SIGV4_ALGORITHM)
    if presigned:
        query = dict(pairs)
        credential = query.get("X-Amz-Credential", "")
        signed_names = query.get("X-Amz-SignedHeaders", "")
        provided = query.get("X-Amz-Signature", "")
        timestamp = query.get("X-Amz-Date", "")
        pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
    else:
        fields = _authorization_fields(authorization[len(SIGV4_ALGORITHM) :])
        credential = fields.get("Credential", "")
        signed_names = fields.get("SignedHeaders", "")
        provided = fields.get("Signature", "")
        timestamp = _header_timestamp(request.headers)
    scope = credential.split("/")
    region, service = (scope[2], scope[3]) if len(scope) == 5 else ("", "")
    s3 = service == "s3"
    signer_class = (
        (S3SigV4QueryAuth if s3 else SigV4QueryAuth)
        if presigned
        else (S3SigV4Auth if s3 else SigV4Auth)
    )
    signer = signer_class(credentials, service, region)
    signed = AWSRequest(
        method=request.method,
        url=f"http://{request.headers.get('host', '')}{client_path(request.path)}",
        headers={name: request.headers.get(name, "") for name in signed_names.split(";") if name},
        data=request.body or b"",
        params=pairs,
    )
    signed.context["timestamp"] = timestamp
    canonical = signer.canonical_request(signed)
    string_to_sign = signer.string_to_sign(signed, canonical)
    expected = signer.signature(string_to_sign, signed)
    if hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        return
    if s3:
        raise SignatureDoesNotMatch(
            _S3_MESSAGE,
            fields={
                "AWSAccessKeyId": credentials.access_key,
                "StringToSign": string_to_sign,
                "SignatureProvided": provided,
                "StringToSignBytes": _hex_bytes(string_to_sign),
                "CanonicalRequest": canonical,
                "CanonicalRequestBytes": _hex_bytes(canonical),
            },
        )
    if service in _QUERY_SERVICES:
        raise SignatureDoesNotMatch(_GENERIC_MESSAGE)
    raise InvalidSignatureException(
        f"{_GENERIC_MESSAGE}\n\nThe Canonical String for this request should have been\n"
        f"'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
    )


def _verify_sigv2(request: SignedRequest, credentials: Credentials) -> None:
    """S3's SigV2: `Authorization: AWS key:signature` with a Date, or a presigned URL with
    AWSAccessKeyId, Expires and Signature (its x-amz-* parameters count as headers)."""
    pairs = query_pairs(request.query)
    query = dict(pairs)
    authorization = request.headers.get("authorization", "")
    headers = {k: v for k, v in request.headers.items() if k != "date"}
    if authorization.startswith("AWS "):
        provided = authorization.rsplit(":", 1)[-1].strip()
        date = "" if "x-amz-date" in headers else request.headers.get("date", "")
    else:
        provided = query.get("Signature", "")
        date = query.get("Expires", "")
        for key, value in pairs:
            if key.lower().startswith("x-amz-"):
                headers.setdefault(key.lower(), value)
    host = request.headers.get("host", "")
    signed = AWSRequest(
        method=request.method,
        url=f"http://{host}{request.path}?{request.query.decode('latin-1')}",
        headers=headers,
    )
    resource = request.resource_path
    if resource.count("/") == 1 and len(resource) > 1:
        resource += "/"  # a bucket's resource is `/bucket/`, however its URL was written
    signer = _SigV2Auth(credentials, date)
    string_to_sign = signer.canonical_string(
        request.method, urlsplit(signed.url), signed.headers, auth_path=resource
    )
    expected = signer.sign_string(string_to_sign)
    if hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        return
    raise SignatureDoesNotMatch(
        _S3_MESSAGE,
        fields={
            "AWSAccessKeyId": credentials.access_key,
            "StringToSign": string_to_sign,
            "SignatureProvided": provided,
            "StringToSignBytes": _hex_bytes(string_to_sign),
        },
    )


def _authorization_fields(rest: str) -> dict[str, str]:
    """`Credential=..., SignedHeaders=..., Signature=...` as a dict."""
    fields = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value.strip()
    return fields


def _header_timestamp(headers: Mapping[str, str]) -> str:
    """X-Amz-Date, else the Date header in SigV4's basic ISO 8601 form."""
    stamp = headers.get("x-amz-date")
    if stamp:
        return stamp
    try:
        return parsedate_to_datetime(headers.get("date", "")).strftime("%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError):
        return ""


def _decode(raw: bytes) -> str:
    return unquote_to_bytes(raw).decode("utf-8", "replace")


def _hex_bytes(text: str) -> str:
    """S3's *Bytes diagnostic members: the UTF-8 bytes as space-separated hex pairs."""
    return " ".join(f"{byte:02x}" for byte in text.encode())
