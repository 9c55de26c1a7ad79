"""Who is calling and where (Caller); what a handler knows of its request (RequestContext)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(slots=True)
class SignedRequest:
    """The request as its signature covers it, for an authenticator that verifies signatures:
    everything as received, before sagestack rewrites anything (S3's virtual-hosted path)."""

    method: str
    #: The raw (percent-encoded) path as sent, and the query string's raw bytes.
    path: str
    query: bytes
    #: Lower-case header names.
    headers: Mapping[str, str]
    #: The body, or None when the operation streams it (S3 signs its hash in a header).
    body: bytes | None
    #: The path-style path (`/bucket/key`) that S3's SigV2 signs for a virtual-hosted request.
    resource_path: str


@dataclass(frozen=True, slots=True)
class Caller:
    """The identity a request carries: its access key, and the account and region it acts in."""

    access_key_id: str
    account: str
    region: str
    #: X-Amz-Security-Token (header or presigned query), sent with temporary credentials.
    session_token: str | None = None
    #: Filled in by the authenticator: the IAM/STS ARN and user id of the key's principal.
    principal_arn: str = ""
    user_id: str = ""
    #: What the signature covers; None where no request backs the caller (tests, internal).
    request: SignedRequest | None = None


#: Checks a request's caller (its key, token) at time `now` and returns it with its principal
#: filled in, or raises a ServiceError (InvalidClientTokenId, ExpiredToken, ...).
Authenticator = Callable[[Caller, float], Caller]


def accept_any(caller: Caller, now: float) -> Caller:
    """Every key is the account's root user (sagestack's behaviour with no IAM configured)."""
    del now
    return Caller(
        caller.access_key_id,
        caller.account,
        caller.region,
        caller.session_token,
        principal_arn=f"arn:aws:iam::{caller.account}:root",
        user_id=caller.account,
    )


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str
    service: str
    operation: str
    account: str
    region: str
    access_key_id: str
    #: Wall-clock time the request arrived, epoch seconds: one "now" per request.
    now: float
    principal_arn: str = ""
    user_id: str = ""
