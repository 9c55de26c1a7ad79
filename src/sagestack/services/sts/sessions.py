"""Temporary-credential sessions: minted by STS, kept in the resource store, found by access key.

A session is a record of kind `sts-session` named by its access key id. Storing it as a record
(rather than in a table of its own) means every store implementation — SQLite today, PostgreSQL
later — keeps sessions with no schema of their own, and a restart does not invalidate credentials
that were issued before it. STS keys are global, not regional, so sessions live under the empty
region of the account that sagestack serves; the account the *principal* belongs to (a role's
account can differ) is part of the session itself.

Sessions never change once issued, which is what makes caching them safe: `SessionBook` keeps
every session it has seen in a dict, and also remembers keys it looked up and did not find, so
that a request signed with a foreign temporary key costs one store read per process, not one
per request. Both caches are bounded.
"""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sagestack.resources.arns import arn
from sagestack.resources.records import Event, ResourceRecord
from sagestack.store.base import RecordExists, ResourceStore

KIND = "sts-session"
#: STS keys are global: sessions are stored under no region.
REGION = ""
#: Temporary access key ids start with ASIA (long-term ones with AKIA), as AWS's do.
TEMPORARY_KEY_PREFIX = "ASIA"

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
_TOKEN_BYTES = 96
#: How many sessions (and unknown keys) a book keeps in memory before it prunes.
_CACHE_LIMIT = 100_000
_UNKNOWN_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Session:
    """One set of temporary credentials and the principal they act as."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    #: Epoch seconds after which the credentials are refused.
    expiration: float
    #: "AssumeRole" or "GetSessionToken": the operation that issued the session.
    origin: str
    #: The principal's account (for an assumed role, the role's account).
    account: str
    principal_arn: str
    user_id: str
    source_identity: str | None = None
    #: Session tags passed on to sessions this one assumes (role chaining), as (key, value).
    transitive_tags: tuple[tuple[str, str], ...] = ()


def new_access_key_id() -> str:
    """The prefix ASIA and 16 upper-case letters or digits: an AWS temporary key id's form."""
    return TEMPORARY_KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    """40 characters of the base64 alphabet, like an AWS secret access key."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def new_session_token() -> str:
    """An opaque bearer token; only its equality with the stored one matters."""
    return base64.b64encode(secrets.token_bytes(_TOKEN_BYTES)).decode("ascii")


def session_record_arn(account: str, access_key_id: str) -> str:
    """The store's handle on a session record (STS itself gives sessions no ARN)."""
    return arn("session", account, REGION, access_key_id, service="sts")


class SessionBook:
    """Issues sessions into the store and finds them again by access key, through a cache."""

    def __init__(self, store: ResourceStore) -> None:
        self._store = store
        self._sessions: dict[str, Session] = {}
        self._unknown: set[str] = set()

    def forget(self) -> None:
        """Drop the caches (after the store was reset underneath them)."""
        self._sessions.clear()
        self._unknown.clear()

    def issue(
        self,
        *,
        home_account: str,
        now: float,
        duration: int,
        origin: str,
        account: str,
        principal_arn: str,
        user_id: str,
        source_identity: str | None = None,
        transitive_tags: Sequence[tuple[str, str]] = (),
        details: Mapping[str, Any] | None = None,
    ) -> Session:
        """Mint new credentials valid for `duration` seconds from `now` and store them.

        `details` (the request's role ARN, tags, policy, requester, ...) are kept with the
        session for the audit trail; its Created event repeats them without the secrets.
        """
        while True:
            session = Session(
                access_key_id=new_access_key_id(),
                secret_access_key=new_secret_access_key(),
                session_token=new_session_token(),
                expiration=float(int(now) + duration),
                origin=origin,
                account=account,
                principal_arn=principal_arn,
                user_id=user_id,
                source_identity=source_identity,
                transitive_tags=tuple(transitive_tags),
            )
            record = _record(session, home_account, now, details or {})
            audit = {k: v for k, v in record.spec.items() if k not in _SECRET_MEMBERS}
            event = Event(
                arn=record.arn,
                kind=KIND,
                account=home_account,
                region=REGION,
                type="Created",
                time=now,
                detail=audit,
            )
            try:
                self._store.insert(record, event=event)
            except RecordExists:  # 36**16 keys: a clash is (nearly) impossible, but not wrong
                continue
            self._sessions[session.access_key_id] = session
            return session

    def find(self, home_account: str, access_key_id: str, now: float) -> Session | None:
        """The session issued under `access_key_id`, or None if this sagestack never issued it.

        Expired sessions are still returned: the caller must be told "expired", not "unknown".
        """
        session = self._sessions.get(access_key_id)
        if session is not None:
            return session
        if not access_key_id.startswith(TEMPORARY_KEY_PREFIX) or access_key_id in self._unknown:
            return None
        record = self._store.get(KIND, home_account, REGION, access_key_id)
        if record is None:
            if len(self._unknown) >= _UNKNOWN_LIMIT:
                self._unknown.clear()
            self._unknown.add(access_key_id)
            return None
        session = _session(record)
        if len(self._sessions) >= _CACHE_LIMIT:
            self._prune(now)
        self._sessions[access_key_id] = session
        return session

    def _prune(self, now: float) -> None:
        """Drop expired sessions from memory (they stay in the store); if none were, drop all."""
        live = {key: s for key, s in self._sessions.items() if s.expiration > now}
        self._sessions = live if len(live) < _CACHE_LIMIT else {}


_SECRET_MEMBERS = frozenset({"SecretAccessKey", "SessionToken"})


def _record(
    session: Session, home_account: str, now: float, details: Mapping[str, Any]
) -> ResourceRecord:
    spec: dict[str, Any] = {
        **details,
        "Origin": session.origin,
        "SecretAccessKey": session.secret_access_key,
        "SessionToken": session.session_token,
        "Expiration": session.expiration,
        "Account": session.account,
        "PrincipalArn": session.principal_arn,
        "UserId": session.user_id,
        "TransitiveTags": [{"Key": k, "Value": v} for k, v in session.transitive_tags],
    }
    if session.source_identity is not None:
        spec["SourceIdentity"] = session.source_identity
    return ResourceRecord(
        kind=KIND,
        account=home_account,
        region=REGION,
        name=session.access_key_id,
        arn=session_record_arn(home_account, session.access_key_id),
        spec=spec,
        creation_time=now,
        last_modified_time=now,
    )


def _session(record: ResourceRecord) -> Session:
    spec = record.spec
    return Session(
        access_key_id=record.name,
        secret_access_key=spec["SecretAccessKey"],
        session_token=spec["SessionToken"],
        expiration=float(spec["Expiration"]),
        origin=spec["Origin"],
        account=spec["Account"],
        principal_arn=spec["PrincipalArn"],
        user_id=spec["UserId"],
        source_identity=spec.get("SourceIdentity"),
        transitive_tags=tuple((t["Key"], t["Value"]) for t in spec.get("TransitiveTags", [])),
    )
