"""The authenticator that makes every service accept the temporary credentials STS issued.

It runs before every request, so its common case — a long-term key, or a session already in
memory — must stay a few dict and string operations: keys that do not start with ASIA were never
issued here and go straight to `accept_any`; issued sessions are cached by `SessionBook`.

Only the access key and session token are checked. Verifying the SigV4 signature against the
session's secret key is later work (it needs the canonical request, which the server builds).
"""

from __future__ import annotations

import hmac

from sagestack.api.context import Caller, accept_any
from sagestack.services.sts.sessions import TEMPORARY_KEY_PREFIX, SessionBook
from sagestack.spec.errors import ServiceError
from sagestack.store.base import ResourceStore


class InvalidClientTokenId(ServiceError):
    code = "InvalidClientTokenId"
    status = 403


class ExpiredToken(ServiceError):
    code = "ExpiredToken"
    status = 400


class SessionAuthenticator:
    """An `Authenticator`: issued keys need their token and must not be expired; any other key
    is the account root, as with `accept_any`."""

    def __init__(self, store: ResourceStore | SessionBook) -> None:
        self._book = store if isinstance(store, SessionBook) else SessionBook(store)

    def __call__(self, caller: Caller, now: float) -> Caller:
        key = caller.access_key_id
        if not key.startswith(TEMPORARY_KEY_PREFIX):
            return accept_any(caller, now)
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
        return Caller(
            key,
            caller.account,
            caller.region,
            token,
            principal_arn=session.principal_arn,
            user_id=session.user_id,
        )
