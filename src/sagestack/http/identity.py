"""The caller's access key, region and signing service, read from the SigV4 credential scope.

Both forms carry it: the `Authorization` header (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`)
and a presigned URL's `X-Amz-Credential` query parameter.
"""

from __future__ import annotations

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
