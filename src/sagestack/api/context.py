"""Who is calling and where (Caller); what a handler knows of its request (RequestContext)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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
