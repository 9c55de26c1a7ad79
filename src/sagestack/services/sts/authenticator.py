"""The authenticator that makes every service accept the temporary credentials STS issued.

It runs before every request, so its common case — a long-term key, or a session already in
memory — must stay a few dict and string operations: keys that do not start with ASIA were never
issued here and go straight to `accept_any`; issued sessions are cached by `SessionBook`.

For an issued key the session token, the expiry and then the signature are checked: sagestack
knows the session's secret key, so `signatures.verify` recomputes the SigV4 (or S3 SigV2)
signature over the request as received. Other keys' signatures cannot be checked (no secret is
known for them) and are not: that is what keeps their path free of any hashing. A SigV2 request
names its key outside the SigV4 credential scope, so an unscoped request is looked at once more
for a SigV2 key, which costs a substring search only on requests with no SigV4 credential.
"""

from __future__ import annotations

import hmac
from dataclasses import replace

from sagestack.api.context import Caller, accept_any
from sagestack.services.sts.sessions import TEMPORARY_KEY_PREFIX, SessionBook
from sagestack.services.sts.signatures import (
    signature_version,
    sigv2_access_key,
    sigv2_session_token,
    verify,
)
from sagestack.spec.errors import ServiceError
from sagestack.store.base import ResourceStore


class InvalidClientTokenId(ServiceError):
    code = "InvalidClientTokenId"
    status = 403


class ExpiredToken(ServiceError):
    code = "ExpiredToken"
    status = 400


class SessionAuthenticator:
    """An `Authenticator`: issued keys need their token, must not be expired and must have
    signed the request with their secret; any other key is the account root, as with
    `accept_any`."""

    def __init__(self, store: ResourceStore | SessionBook) -> None:
        self._book = store if isinstance(store, SessionBook) else SessionBook(store)

    def __call__(self, caller: Caller, now: float) -> Caller:
        key = caller.access_key_id
        if not key.startswith(TEMPORARY_KEY_PREFIX):
            if key or caller.request is None or signature_version(caller.request) != 2:
                return accept_any(caller, now)
            key = sigv2_access_key(caller.request)
            if not key.startswith(TEMPORARY_KEY_PREFIX):
                return accept_any(caller, now)
            caller = replace(
                caller, access_key_id=key, session_token=sigv2_session_token(caller.request)
            )
        session = self._book.find(caller.account, key, now)
        if session is None:
            return accept_any(caller, now)
        token = caller.session_token
        # compare_digest refuses non-ASCII str; a header may carry any latin-1 text
        expected = session.session_token.encode()
        if token is None or not hmac.compare_digest(token.encode(), expected):
            raise InvalidClientTokenId("The security token included in the request is invalid.")
        if now >= session.expiration:
            raise ExpiredToken("The security token included in the request is expired")
        if caller.request is not None:
            verify(caller.request, session)
        return Caller(
            key,
            caller.account,
            caller.region,
            token,
            principal_arn=session.principal_arn,
            user_id=session.user_id,
        )
