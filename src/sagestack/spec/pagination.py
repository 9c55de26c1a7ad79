"""Opaque, signed pagination tokens (NextToken).

A token is `base64url(mac || json)` without padding, where `mac` is the first 16 bytes of
HMAC-SHA256 over the compact JSON payload. Clients cannot read positions out of it in any useful
way nor forge one; the services layer puts the store cursor and a fingerprint of the list filters
in the payload, so a token only continues the listing it was issued for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

#: Far below the 8,192 characters SageMaker allows for NextToken.
MAX_TOKEN_LENGTH = 2048

_MAC_BYTES = 16
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")


class InvalidToken(ValueError):
    """The token is malformed, tampered with, or was signed with another secret."""


class TokenCodec:
    """Encodes JSON-able payloads into signed tokens and checks and decodes them back."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("The token secret must not be empty")
        self._secret = secret

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, payload: Mapping[str, Any]) -> str:
        """A URL-safe token for `payload`; ValueError if it would exceed MAX_TOKEN_LENGTH."""
        body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
        token = base64.urlsafe_b64encode(self._mac(body) + body).rstrip(b"=").decode("ascii")
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError(f"Pagination payload too large ({len(token)} characters encoded)")
        return token

    def decode(self, token: str) -> dict[str, Any]:
        """The payload of a token this codec issued; InvalidToken for anything else."""
        if (
            not isinstance(token, str)
            or len(token) > MAX_TOKEN_LENGTH
            or _TOKEN_CHARS.fullmatch(token) is None
        ):
            raise InvalidToken("Malformed pagination token")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise InvalidToken("Malformed pagination token") from None
        if base64.urlsafe_b64encode(raw).rstrip(b"=") != token.encode("ascii"):
            raise InvalidToken("Malformed pagination token")  # stray bits in the last character
        mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidToken("Pagination token signature does not match")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise InvalidToken("Malformed pagination token payload") from None
        if not isinstance(payload, dict):
            raise InvalidToken("Malformed pagination token payload")
        return payload
