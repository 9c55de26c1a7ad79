"""STS through real boto3 clients: identities, temporary credentials that every service accepts,
their refusal with a wrong token, and their survival across a restart."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.test_models import create
from tests.conftest import CLIENT_CONFIG, make_client
from tests.support.server import ServerProcess

ACCOUNT = "000000000000"  # sagestack's default account
ROLE_ARN = "arn:aws:iam::210987654321:role/service/DataReader"


@pytest.fixture
def sts(server: ServerProcess) -> Any:
    server.reset()
    return make_client(server.url, "sts")


def client_for(url: str, service: str, credentials: dict[str, Any], **config: Any) -> Any:
    """A client signing with temporary credentials as AssumeRole/GetSessionToken return them."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        config=CLIENT_CONFIG.merge(Config(**config)) if config else CLIENT_CONFIG,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_static_key_is_the_account_root(sts: Any) -> None:
    identity = sts.get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert identity["UserId"] == ACCOUNT


def test_assume_role_returns_credentials_of_aws_form(sts: Any) -> None:
    before = datetime.now(UTC)
    result = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="alice@example.com")
    credentials = result["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"])
    assert len(credentials["SecretAccessKey"]) == 40
    assert credentials["SessionToken"]
    lifetime = (credentials["Expiration"] - before).total_seconds()
    assert 3599 <= lifetime <= 3601
    user = result["AssumedRoleUser"]
    assert user["Arn"] == "arn:aws:sts::210987654321:assumed-role/DataReader/alice@example.com"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:alice@example\.com", user["AssumedRoleId"])
    assert "PackedPolicySize" not in result
    assert "SourceIdentity" not in result
    again = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="bob")
    assert again["Credentials"]["AccessKeyId"] != credentials["AccessKeyId"]
    assert (
        again["AssumedRoleUser"]["AssumedRoleId"].split(":")[0]
        == user["AssumedRoleId"].split(":")[0]
    )


def test_assumed_role_credentials_work_on_every_service(sts: Any, server: ServerProcess) -> None:
    result = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="reader", DurationSeconds=900)
    credentials = result["Credentials"]
    identity = client_for(server.url, "sts", credentials).get_caller_identity()
    assert identity == {
        "UserId": result["AssumedRoleUser"]["AssumedRoleId"],
        "Account": "210987654321",
        "Arn": result["AssumedRoleUser"]["Arn"],
        "ResponseMetadata": identity["ResponseMetadata"],
    }
    sagemaker = client_for(server.url, "sagemaker", credentials)
    assert sagemaker.list_models()["Models"] == []


def test_wrong_or_missing_session_token_is_refused(sts: Any, server: ServerProcess) -> None:
    credentials = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="s0")["Credentials"]
    wrong = {**credentials, "SessionToken": credentials["SessionToken"][:-4] + "AAAA"}
    with pytest.raises(ClientError) as excinfo:
        client_for(server.url, "sts", wrong).get_caller_identity()
    assert error_of(excinfo) == (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
    )
    missing = boto3.client(
        "sagemaker",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=CLIENT_CONFIG,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
    )
    with pytest.raises(ClientError) as excinfo:
        missing.list_models()
    assert error_of(excinfo)[0] == "InvalidClientTokenId"
    assert error_of(excinfo)[2] == 403


def test_unknown_temporary_key_is_treated_like_any_other_key(server: ServerProcess) -> None:
    foreign = {
        "AccessKeyId": "ASIAFOREIGN000000000",
        "SecretAccessKey": "x" * 40,
        "SessionToken": "issued-by-someone-else",
    }
    identity = client_for(server.url, "sts", foreign).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


@pytest.mark.parametrize(
    ("operation", "duration", "constraint"),
    [
        ("assume_role", 43201, "less than or equal to 43200"),
        ("get_session_token", 129601, "less than or equal to 129600"),
        ("assume_role", 899, "greater than or equal to 900"),
    ],
)
def test_duration_out_of_range_is_a_validation_error(
    server: ServerProcess, operation: str, duration: int, constraint: str
) -> None:
    unchecked = boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=CLIENT_CONFIG.merge(Config(parameter_validation=False)),
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    kwargs: dict[str, Any] = {"DurationSeconds": duration}
    if operation == "assume_role":
        kwargs.update(RoleArn=ROLE_ARN, RoleSessionName="s0")
    with pytest.raises(ClientError) as excinfo:
        getattr(unchecked, operation)(**kwargs)
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationError", 400)
    assert message == (
        f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy"
        f" constraint: Member must have value {constraint}"
    )


def test_malformed_role_arn_is_refused(sts: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:user/alice", RoleSessionName="s0")
    assert error_of(excinfo) == ("ValidationError", "Request ARN is invalid", 400)


def test_session_token_keeps_the_requesters_identity(sts: Any, server: ServerProcess) -> None:
    before = datetime.now(UTC)
    credentials = sts.get_session_token()["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"])
    assert 43199 <= (credentials["Expiration"] - before).total_seconds() <= 43201
    client = client_for(server.url, "sts", credentials)
    identity = client.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert identity["UserId"] == ACCOUNT
    with pytest.raises(ClientError) as excinfo:
        client.get_session_token()
    assert error_of(excinfo) == (
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
        403,
    )
    shorter = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert (shorter["Expiration"] - before).total_seconds() <= 901


def test_source_identity_and_tags_are_kept_and_chained(sts: Any, server: ServerProcess) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    result = sts.assume_role(
        RoleArn=ROLE_ARN,
        RoleSessionName="first",
        SourceIdentity="alice",
        Tags=[{"Key": "team", "Value": "ml"}, {"Key": "env", "Value": "dev"}],
        TransitiveTagKeys=["team"],
        ExternalId="shared-secret",
        Policy=policy,
    )
    assert result["SourceIdentity"] == "alice"
    assert 0 < result["PackedPolicySize"] <= 100
    chained_sts = client_for(server.url, "sts", result["Credentials"])
    second_role = "arn:aws:iam::123456789012:role/Writer"
    chained = chained_sts.assume_role(RoleArn=second_role, RoleSessionName="second")
    assert chained["SourceIdentity"] == "alice"
    assert chained["AssumedRoleUser"]["Arn"] == (
        "arn:aws:sts::123456789012:assumed-role/Writer/second"
    )
    with pytest.raises(ClientError) as excinfo:
        chained_sts.assume_role(RoleArn=second_role, RoleSessionName="x0", SourceIdentity="mallory")
    assert error_of(excinfo)[0] == "AccessDenied"
    with pytest.raises(ClientError) as excinfo:
        chained_sts.assume_role(RoleArn=second_role, RoleSessionName="x0", DurationSeconds=3601)
    assert error_of(excinfo) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit"
        " for roles assumed by role chaining.",
        400,
    )


def test_malformed_session_policy_is_refused(sts: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="s0", Policy="{not json")
    assert error_of(excinfo)[:2] == (
        "MalformedPolicyDocument",
        "The policy is not in the valid JSON format.",
    )


def test_access_key_info_names_the_keys_account(sts: Any) -> None:
    credentials = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="s0")["Credentials"]
    assert sts.get_access_key_info(AccessKeyId=credentials["AccessKeyId"])["Account"] == (
        "210987654321"
    )
    assert sts.get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")["Account"] == ACCOUNT


def test_openmetadata_style_assume_role_then_sagemaker(sts: Any, server: ServerProcess) -> None:
    """OpenMetadata's AWSClient: a boto3 Session, sts.assume_role, a new Session with the
    temporary credentials, then the sagemaker client its connector lists models with."""
    create(make_client(server.url, "sagemaker"), "om-model")
    base = boto3.Session(
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region_name="us-east-1",
    )
    assumed = base.client("sts", endpoint_url=server.url).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/OpenMetadataRole",
        RoleSessionName="OpenMetadataSession",
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=assumed["AccessKeyId"],
        aws_secret_access_key=assumed["SecretAccessKey"],
        aws_session_token=assumed["SessionToken"],
        region_name="us-east-1",
    )
    sagemaker = session.client("sagemaker", endpoint_url=server.url)
    models = sagemaker.list_models(MaxResults=100)["Models"]
    assert [m["ModelName"] for m in models] == ["om-model"]
    assert isinstance(models[0]["CreationTime"], datetime)


def test_credentials_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir).start()
    try:
        credentials = make_client(first.url, "sts").assume_role(
            RoleArn=ROLE_ARN, RoleSessionName="durable", SourceIdentity="alice"
        )["Credentials"]
        assert (
            client_for(first.url, "sts", credentials)
            .get_caller_identity()["Arn"]
            .endswith("/durable")
        )
    finally:
        first.stop()
    second = ServerProcess(data_dir).start()
    try:
        identity = client_for(second.url, "sts", credentials).get_caller_identity()
        assert identity["Arn"] == "arn:aws:sts::210987654321:assumed-role/DataReader/durable"
        assert client_for(second.url, "sagemaker", credentials).list_models()["Models"] == []
        wrong = {**credentials, "SessionToken": "not-the-token"}
        with pytest.raises(ClientError) as excinfo:
            client_for(second.url, "sagemaker", wrong).list_models()
        assert error_of(excinfo)[0] == "InvalidClientTokenId"
    finally:
        second.stop()
