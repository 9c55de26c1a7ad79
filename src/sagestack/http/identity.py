"""The caller's access key, region and signing service, read from the SigV4 credential scope.

Both forms carry it: the `Authorization` header (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`)
and a presigned URL's `X-Amz-Credential` query parameter.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass

from sagestack.protocol.messages import HttpRequest


@dataclass(frozen=True, slots=True)
class CredentialScope:
    access_key_id: str
    region: str
    service: str


def credential_scope(request: HttpRequest) -> CredentialScope | None:
    credential = None
    authorization = request.headers.get("authorization", "")
    if authorization:
        start = authorization.find("Credential=")
        if start >= 0:
            credential = authorization[start + 11 :].split(",", 1)[0].strip()
    else:
        credential = request.query_value("X-Amz-Credential")
    if not credential:
        return None
    parts = credential.split("/")
    if len(parts) != 5:
        return None
    return CredentialScope(access_key_id=parts[0], region=parts[2], service=parts[3])


def presign_expiry(request: HttpRequest) -> float | None:
    """When a presigned URL stops working, epoch seconds: X-Amz-Date + X-Amz-Expires (SigV4),
    or Expires (the SigV2 form boto3 presigns S3 URLs in by default); None for a request that
    is not presigned or names no readable lifetime."""
    signed_at, lifetime = request.query_value("X-Amz-Date"), request.query_value("X-Amz-Expires")
    if not signed_at or not lifetime:
        expires = request.query_value("Expires")
        if expires is None or request.query_value("Signature") is None:
            return None
        try:
            return float(expires)
        except ValueError:
            return None
    try:
        start = calendar.timegm(time.strptime(signed_at, "%Y%m%dT%H%M%SZ"))
        return start + int(lifetime)
    except ValueError:
        return None
