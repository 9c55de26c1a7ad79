"""The session authenticator against a real SQLite store: issued keys need their token and
expire at their expiration; any other key is the account root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sagestack.api.context import Caller, RequestContext
from sagestack.services.sts.api import StsApi
from sagestack.services.sts.authenticator import SessionAuthenticator
from sagestack.services.sts.sessions import Session, SessionBook
from sagestack.spec.errors import ServiceError
from sagestack.store.sqlite import SqliteResourceStore

ACCOUNT = "123456789012"
NOW = 1_700_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteResourceStore]:
    store = SqliteResourceStore(tmp_path / "store.db")
    yield store
    store.close()


def context(caller: Caller, operation: str, now: float = NOW) -> RequestContext:
    return RequestContext(
        request_id="r",
        service="sts",
        operation=operation,
        account=caller.account,
        region=caller.region,
        access_key_id=caller.access_key_id,
        now=now,
        principal_arn=caller.principal_arn,
        user_id=caller.user_id,
    )


def caller(key: str, token: str | None = None) -> Caller:
    return Caller(key, ACCOUNT, "us-west-2", token)


def assume(store: SqliteResourceStore, **extra: Any) -> dict[str, Any]:
    root = SessionAuthenticator(store)(caller("AKIAEXAMPLE"), NOW)
    request = {"RoleArn": "arn:aws:iam::111122223333:role/Reader", "RoleSessionName": "s1"}
    return StsApi(store).assume_role(context(root, "AssumeRole"), {**request, **extra})


def refusal(excinfo: pytest.ExceptionInfo[ServiceError]) -> tuple[str, int | None, str]:
    return excinfo.value.code, excinfo.value.status, excinfo.value.message


def test_a_key_not_issued_here_is_the_account_root(store: SqliteResourceStore) -> None:
    authenticate = SessionAuthenticator(store)
    for key, token in [("AKIAEXAMPLE", None), ("test", "any"), ("ASIAFOREIGN000000000", "t")]:
        found = authenticate(caller(key, token), NOW)
        assert found.principal_arn == f"arn:aws:iam::{ACCOUNT}:root"
        assert found.user_id == ACCOUNT
        assert (found.access_key_id, found.region, found.session_token) == (key, "us-west-2", token)


def test_an_issued_key_with_its_token_acts_as_the_assumed_role(store: SqliteResourceStore) -> None:
    result = assume(store)
    credentials = result["Credentials"]
    found = SessionAuthenticator(store)(
        caller(credentials["AccessKeyId"], credentials["SessionToken"]), NOW + 1
    )
    assert found.principal_arn == "arn:aws:sts::111122223333:assumed-role/Reader/s1"
    assert found.user_id == result["AssumedRoleUser"]["AssumedRoleId"]
    assert found.account == ACCOUNT  # sessions act in the account sagestack serves


@pytest.mark.parametrize("token", [None, "", "wrong", "ümlaut"])
def test_a_missing_or_wrong_token_is_an_invalid_client_token(
    store: SqliteResourceStore, token: str | None
) -> None:
    key = assume(store)["Credentials"]["AccessKeyId"]
    with pytest.raises(ServiceError) as excinfo:
        SessionAuthenticator(store)(caller(key, token), NOW)
    assert refusal(excinfo) == (
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
    )


def test_a_session_expires_at_its_expiration(store: SqliteResourceStore) -> None:
    credentials = assume(store, DurationSeconds=900)["Credentials"]
    expiration = credentials["Expiration"]
    assert expiration == NOW + 900
    authenticate = SessionAuthenticator(store)
    key, token = credentials["AccessKeyId"], credentials["SessionToken"]
    assert authenticate(caller(key, token), expiration - 0.001).principal_arn.endswith("/s1")
    for now in (expiration, expiration + 86_400):
        with pytest.raises(ServiceError) as excinfo:
            authenticate(caller(key, token), now)
        assert refusal(excinfo) == (
            "ExpiredToken",
            400,
            "The security token included in the request is expired",
        )
    with pytest.raises(ServiceError) as excinfo:  # a wrong token is refused as such, even late
        authenticate(caller(key, "wrong"), expiration + 1)
    assert excinfo.value.code == "InvalidClientTokenId"


def test_sessions_are_found_by_a_new_process(tmp_path: Path) -> None:
    first = SqliteResourceStore(tmp_path / "store.db")
    credentials = assume(first, SourceIdentity="alice")["Credentials"]
    first.close()
    reopened = SqliteResourceStore(tmp_path / "store.db")
    try:
        session = SessionBook(reopened).find(ACCOUNT, credentials["AccessKeyId"], NOW)
        assert isinstance(session, Session)
        assert session.source_identity == "alice"
        assert session.secret_access_key == credentials["SecretAccessKey"]
        assert session.expiration == NOW + 3600
        found = SessionAuthenticator(reopened)(
            caller(credentials["AccessKeyId"], credentials["SessionToken"]), NOW
        )
        assert found.principal_arn.endswith("assumed-role/Reader/s1")
    finally:
        reopened.close()


def test_the_session_record_keeps_the_audit_details_and_its_event_no_secrets(
    store: SqliteResourceStore,
) -> None:
    result = assume(store, SourceIdentity="alice", ExternalId="ext-id")
    key = result["Credentials"]["AccessKeyId"]
    record = store.get("sts-session", ACCOUNT, "", key)
    assert record is not None
    assert record.spec["SourceIdentity"] == "alice"
    assert record.spec["ExternalId"] == "ext-id"
    assert record.spec["IssuedTo"] == f"arn:aws:iam::{ACCOUNT}:root"
    (event,) = store.events(arn=record.arn)
    assert event.type == "Created"
    assert event.detail["PrincipalArn"] == result["AssumedRoleUser"]["Arn"]
    assert "SecretAccessKey" not in event.detail
    assert "SessionToken" not in event.detail


def test_session_token_credentials_keep_the_requesters_identity(
    store: SqliteResourceStore,
) -> None:
    authenticate = SessionAuthenticator(store)
    root = authenticate(caller("AKIAEXAMPLE"), NOW)
    credentials = StsApi(store).get_session_token(context(root, "GetSessionToken"), {})[
        "Credentials"
    ]
    assert credentials["Expiration"] == NOW + 43200
    found = authenticate(caller(credentials["AccessKeyId"], credentials["SessionToken"]), NOW)
    assert (found.principal_arn, found.user_id) == (f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)
