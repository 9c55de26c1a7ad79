"""The STS operations SageMaker clients call: GetCallerIdentity (the SDK's default bucket name
and telemetry), AssumeRole (OpenMetadata's `assumeRoleArn`, any `role_arn` profile),
GetSessionToken and GetAccessKeyInfo.

sagestack has no IAM yet, so any well-formed role ARN may be assumed and nothing is denied; what
STS *does* promise is kept: keys, secrets and tokens of AWS's form, expirations, the
assumed-role identity, role-chaining limits, and SourceIdentity and session tags stored with the
session for the audit trail.

Every session acts in the account sagestack serves (`ctx.account`), whatever account the role ARN
names: a single-account server should show an assumed role the same models it shows the root
user. GetCallerIdentity still reports the role's own account, as AWS does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.services.sts.sessions import Session, SessionBook
from sagestack.spec.errors import ServiceError, ValidationException
from sagestack.store.base import ResourceStore

#: Role chaining (assuming a role with an assumed role's credentials) is capped at one hour.
_CHAINED_MAX_SECONDS = 3600
#: What PackedPolicySize counts against: the plain-text budget of a session policy.
_PACKED_BUDGET = 2048
#: Request members kept with an AssumeRole session, for the audit trail.
_KEPT_MEMBERS = (
    "RoleArn",
    "RoleSessionName",
    "ExternalId",
    "Policy",
    "PolicyArns",
    "Tags",
    "TransitiveTagKeys",
)


class StsApi:
    """The STS handlers; sessions are minted into, and looked up in, a `SessionBook`."""

    def __init__(self, store: ResourceStore | SessionBook) -> None:
        self._book = store if isinstance(store, SessionBook) else SessionBook(store)

    @operation("GetCallerIdentity")
    def get_caller_identity(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        del request
        principal_arn, user_id = _principal(ctx)
        return {"UserId": user_id, "Account": _account_of(principal_arn), "Arn": principal_arn}

    @operation("GetAccessKeyInfo")
    def get_access_key_info(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        session = self._book.find(ctx.account, request["AccessKeyId"], ctx.now)
        return {"Account": session.account if session is not None else ctx.account}

    @operation("AssumeRole")
    def assume_role(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        partition, role_account, role_name = _role_arn_parts(request["RoleArn"])
        session_name = request["RoleSessionName"]
        duration: int = request.get("DurationSeconds", 3600)
        parent = self._calling_session(ctx)
        chained = parent is not None and parent.origin == "AssumeRole"
        if chained and duration > _CHAINED_MAX_SECONDS:
            raise ValidationException(
                "The requested DurationSeconds exceeds the 1 hour session limit"
                " for roles assumed by role chaining."
            )
        source_identity = _source_identity(request.get("SourceIdentity"), parent)
        packed = _packed_policy_size(request)
        role_id = f"{_role_unique_id(request['RoleArn'])}:{session_name}"
        assumed_arn = f"arn:{partition}:sts::{role_account}:assumed-role/{role_name}/{session_name}"
        caller_arn, _ = _principal(ctx)
        details = {key: request[key] for key in _KEPT_MEMBERS if key in request}
        session = self._book.issue(
            home_account=ctx.account,
            now=ctx.now,
            duration=duration,
            origin="AssumeRole",
            account=role_account,
            principal_arn=assumed_arn,
            user_id=role_id,
            source_identity=source_identity,
            transitive_tags=_transitive_tags(request, parent),
            details={**details, "IssuedTo": caller_arn},
        )
        output: dict[str, Any] = {
            "Credentials": _credentials(session),
            "AssumedRoleUser": {"AssumedRoleId": role_id, "Arn": assumed_arn},
        }
        if packed is not None:
            output["PackedPolicySize"] = packed
        if source_identity is not None:
            output["SourceIdentity"] = source_identity
        return output

    @operation("GetSessionToken")
    def get_session_token(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        if self._calling_session(ctx) is not None:
            raise ServiceError(
                "Cannot call GetSessionToken with session credentials",
                code="AccessDenied",
                status=403,
            )
        principal_arn, user_id = _principal(ctx)
        session = self._book.issue(
            home_account=ctx.account,
            now=ctx.now,
            duration=request.get("DurationSeconds", 43200),
            origin="GetSessionToken",
            account=_account_of(principal_arn),
            principal_arn=principal_arn,
            user_id=user_id,
            details={"IssuedTo": principal_arn},
        )
        return {"Credentials": _credentials(session)}

    def _calling_session(self, ctx: RequestContext) -> Session | None:
        """The session whose temporary credentials signed this request, if any."""
        return self._book.find(ctx.account, ctx.access_key_id, ctx.now)


def _principal(ctx: RequestContext) -> tuple[str, str]:
    """The caller's (ARN, user id); a request nobody authenticated is the account root."""
    if ctx.principal_arn:
        return ctx.principal_arn, ctx.user_id
    return f"arn:aws:iam::{ctx.account}:root", ctx.account


def _account_of(principal_arn: str) -> str:
    """The account field of an ARN (`arn:aws:iam::123456789012:root` has no resource type,
    so `Arn.parse` would refuse it)."""
    return principal_arn.split(":", 5)[4]


def _role_arn_parts(role_arn: str) -> tuple[str, str, str]:
    """(partition, account, role name) of `arn:<partition>:iam::<account>:role/<path/>name`."""
    parts = role_arn.split(":", 5)
    if len(parts) == 6:
        _, partition, service, region, account, resource = parts
        kind, _, path_and_name = resource.partition("/")
        name = path_and_name.rsplit("/", 1)[-1]
        if (
            partition
            and service == "iam"
            and not region
            and len(account) == 12
            and account.isdigit()
            and kind == "role"
            and name
        ):
            return partition, account, name
    raise ValidationException("Request ARN is invalid")


def _role_unique_id(role_arn: str) -> str:
    """A stable "AROA" + 17-character id per role, as IAM gives every role one unique id."""
    digest = hashlib.sha256(role_arn.encode()).digest()
    return "AROA" + base64.b32encode(digest).decode("ascii")[:17]


def _source_identity(requested: str | None, parent: Session | None) -> str | None:
    """A source identity, once set, stays with every session chained from it."""
    inherited = parent.source_identity if parent is not None else None
    if inherited is None:
        return requested
    if requested is not None and requested != inherited:
        raise ServiceError(
            "SourceIdentity cannot be changed once it is set on a role session;"
            f" this session's source identity is {inherited!r}.",
            code="AccessDenied",
            status=403,
        )
    return inherited


def _transitive_tags(request: dict[str, Any], parent: Session | None) -> list[tuple[str, str]]:
    """The parent's transitive tags, then this request's tags marked transitive."""
    inherited = list(parent.transitive_tags) if parent is not None else []
    keys = set(request.get("TransitiveTagKeys", []))
    return inherited + [(t["Key"], t["Value"]) for t in request.get("Tags", []) if t["Key"] in keys]


def _packed_policy_size(request: dict[str, Any]) -> int | None:
    """The percentage of the session-policy budget the request's policies and tags use, or None
    when it passes neither (AWS leaves PackedPolicySize out then)."""
    policy, policy_arns, tags = (request.get(k) for k in ("Policy", "PolicyArns", "Tags"))
    if policy is None and not policy_arns and not tags:
        return None
    size = 0
    if policy is not None:
        try:
            size += len(json.dumps(json.loads(policy), separators=(",", ":")))
        except ValueError:
            raise ServiceError(
                "The policy is not in the valid JSON format.",
                code="MalformedPolicyDocumentException",
            ) from None
    size += sum(len(item.get("arn", "")) for item in policy_arns or [])
    size += sum(len(t["Key"]) + len(t["Value"]) for t in tags or [])
    percent = math.ceil(size * 100 / _PACKED_BUDGET)
    if percent > 100:
        raise ServiceError(
            f"Packed size of consolidated session policies and tags exceeds {percent}%.",
            code="PackedPolicyTooLargeException",
        )
    return percent


def _credentials(session: Session) -> dict[str, Any]:
    return {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "SessionToken": session.session_token,
        "Expiration": session.expiration,
    }
