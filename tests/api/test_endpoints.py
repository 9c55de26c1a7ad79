"""The endpoint API through real boto3 clients against a live server: what CreateEndpoint,
DescribeEndpoint, ListEndpoints, DeleteEndpoint, UpdateEndpoint and
UpdateEndpointWeightsAndCapacities accept, refuse and return.

The endpoint controller really deploys what is created here, so these tests assert only what
does not depend on how far a deployment has got: what the calls return at once, the refusals
and the listing. Two kinds of model keep that simple: one whose artifacts are missing (its
endpoint fails as soon as the controller looks at it, starting no process) and one whose
artifact is not a model (its endpoint stays Creating while a model server starts and then fails
the ping check). Tests of what happens after a failure skip where no controller acts.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_models import error_of
from tests.conftest import make_client
from tests.support.server import ServerProcess

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
ARN = "arn:aws:sagemaker:us-east-1:000000000000:"


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def sm(s3: Any, server: ServerProcess) -> Iterator[Any]:
    """A sagemaker client on a freshly reset server whose bucket `bkt` exists. Afterwards it
    waits (a while) for the deployments under way to end, so that no model server of this test
    still writes logs once the next one has reset the server."""
    client = make_client(server.url, "sagemaker")
    yield client
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = client.list_endpoints(MaxResults=100)["Endpoints"]
        if not any(e["EndpointStatus"] in ("Creating", "Updating", "Deleting") for e in listed):
            return
        time.sleep(0.05)


def model(sm: Any, name: str, *, loads: bool = False) -> None:
    """A model with the SDK's scikit-learn image. Its artifacts are missing, or with `loads`
    present but not a model (a model server starts, then fails to load it)."""
    key = f"models/{name}/model.tar.gz"
    if loads:
        s3 = make_client(sm.meta.endpoint_url, "s3")
        s3.put_object(Bucket="bkt", Key=key, Body=_tarball({"model.joblib": b"not a model"}))
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": SKLEARN, "ModelDataUrl": f"s3://bkt/{key}"},
    )


def config(sm: Any, name: str, variants: list[tuple[str, str, float, int]], **extra: Any) -> None:
    """An endpoint config with (variant, model, weight, instance count) variants."""
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model_name,
                "InitialVariantWeight": weight,
                "InitialInstanceCount": count,
                "InstanceType": "ml.m5.large",
            }
            for variant, model_name, weight, count in variants
        ],
        **extra,
    )


def endpoint(sm: Any, name: str, *, loads: bool = False, **extra: Any) -> str:
    """An endpoint `name` on config and model of the same name (one AllTraffic variant)."""
    model(sm, name, loads=loads)
    config(sm, name, [("AllTraffic", name, 1.0, 1)])
    arn: str = sm.create_endpoint(EndpointName=name, EndpointConfigName=name, **extra)[
        "EndpointArn"
    ]
    return arn


def refusal(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as excinfo:
        call(**params)
    return error_of(excinfo)


def not_found(name: str) -> str:
    return f'Could not find endpoint "{ARN}endpoint/{name}".'


def in_progress(name: str) -> str:
    return f'Cannot update in-progress endpoint "{ARN}endpoint/{name}".'


def wait_failed(sm: Any, name: str) -> dict[str, Any]:
    """The endpoint once Failed; skips when nothing deploys it (it stays Creating)."""
    deadline = time.monotonic() + 60
    while True:
        described: dict[str, Any] = sm.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] == "Failed":
            return described
        if time.monotonic() > deadline:
            pytest.skip(f"no controller moved {name} on from {described['EndpointStatus']}")
        time.sleep(0.05)


def wait_settled(sm: Any, name: str) -> dict[str, Any]:
    """The endpoint once it has left Updating."""
    deadline = time.monotonic() + 60
    while True:
        described: dict[str, Any] = sm.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] != "Updating":
            return described
        if time.monotonic() > deadline:
            pytest.skip(f"no controller moved {name} on from Updating")
        time.sleep(0.05)


# -- CreateEndpoint and DescribeEndpoint -------------------------------------------------------


def test_create_returns_the_lowercased_arn_and_describe_shows_it_creating(sm: Any) -> None:
    model(sm, "m", loads=True)
    config(sm, "two-variants", [("Blue", "m", 0.25, 1), ("Green", "m", 0.75, 1)])
    arn = sm.create_endpoint(EndpointName="My-Endpoint", EndpointConfigName="two-variants")[
        "EndpointArn"
    ]
    assert arn == ARN + "endpoint/my-endpoint"
    described = sm.describe_endpoint(EndpointName="My-Endpoint")
    assert described["EndpointName"] == "My-Endpoint"
    assert described["EndpointArn"] == arn
    assert described["EndpointConfigName"] == "two-variants"
    assert described["EndpointStatus"] == "Creating"
    assert isinstance(described["CreationTime"], datetime)
    assert described["CreationTime"] <= described["LastModifiedTime"]
    variants = described["ProductionVariants"]
    assert [v["VariantName"] for v in variants] == ["Blue", "Green"]
    assert [v["DesiredWeight"] for v in variants] == [0.25, 0.75]
    assert [v["DesiredInstanceCount"] for v in variants] == [1, 1]
    assert variants[0]["CurrentInstanceCount"] == 0
    assert variants[0]["VariantStatus"][0]["Status"] == "Creating"
    assert variants[0]["DeployedImages"][0]["SpecifiedImage"] == SKLEARN
    pending = described["PendingDeploymentSummary"]
    assert pending["EndpointConfigName"] == "two-variants"
    assert [v["VariantName"] for v in pending["ProductionVariants"]] == ["Blue", "Green"]
    assert pending["ProductionVariants"][1]["InstanceType"] == "ml.m5.large"
    assert pending["ProductionVariants"][1]["VariantStatus"][0]["Status"] == "Creating"
    for absent in ("FailureReason", "DataCaptureConfig", "AsyncInferenceConfig"):
        assert absent not in described
    assert "LastDeploymentConfig" not in described


def test_the_sdk_finds_the_models_through_the_endpoint_config(sm: Any) -> None:
    endpoint(sm, "sdk-flow")
    described = sm.describe_endpoint(EndpointName="sdk-flow")
    assert described["EndpointStatus"] in ("Creating", "Failed")
    config_name = described["EndpointConfigName"]
    variants = sm.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    assert [v["ModelName"] for v in variants] == ["sdk-flow"]


def test_describe_echoes_the_config_sections_and_the_deployment_config(sm: Any) -> None:
    model(sm, "m")
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 30,
        "DestinationS3Uri": "s3://bkt/capture",
        "KmsKeyId": "alias/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    asynchronous = {"OutputConfig": {"S3OutputPath": "s3://bkt/async"}}
    config(
        sm,
        "sections",
        [("AllTraffic", "m", 1.0, 1)],
        DataCaptureConfig=capture,
        AsyncInferenceConfig=asynchronous,
    )
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
        }
    }
    arn = sm.create_endpoint(
        EndpointName="sections",
        EndpointConfigName="sections",
        DeploymentConfig=deployment,
        Tags=[{"Key": "team", "Value": "ml"}],
    )["EndpointArn"]
    # What the endpoint was deployed with stays, whatever happens to the config and model.
    sm.delete_endpoint_config(EndpointConfigName="sections")
    sm.delete_model(ModelName="m")
    described = sm.describe_endpoint(EndpointName="sections")
    assert described["EndpointConfigName"] == "sections"
    assert described["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 30,
        "DestinationS3Uri": "s3://bkt/capture",
        "KmsKeyId": "alias/capture",
    }
    assert described["AsyncInferenceConfig"] == asynchronous
    assert (
        described["LastDeploymentConfig"]["BlueGreenUpdatePolicy"]
        == (deployment["BlueGreenUpdatePolicy"])
    )
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_create_refuses_a_missing_config(sm: Any) -> None:
    code, message, status = refusal(sm.create_endpoint, EndpointName="e", EndpointConfigName="nope")
    assert (code, status) == ("ValidationException", 400)
    assert message == f'Could not find endpoint configuration "{ARN}endpoint-config/nope".'
    assert sm.list_endpoints()["Endpoints"] == []


def test_create_refuses_a_config_whose_model_is_gone(sm: Any) -> None:
    model(sm, "present")
    model(sm, "gone")
    config(sm, "c", [("A", "present", 1.0, 1), ("B", "gone", 1.0, 1)])
    sm.delete_model(ModelName="gone")
    code, message, _ = refusal(sm.create_endpoint, EndpointName="e", EndpointConfigName="c")
    assert code == "ValidationException"
    assert message == f'Could not find model "{ARN}model/gone".'
    assert sm.list_endpoints()["Endpoints"] == []


@pytest.mark.parametrize("again", ["taken", "TAKEN"])
def test_create_refuses_a_name_in_use(sm: Any, again: str) -> None:
    endpoint(sm, "taken")
    code, message, status = refusal(
        sm.create_endpoint, EndpointName=again, EndpointConfigName="taken"
    )
    assert (code, status) == ("ValidationException", 400)
    assert message == f'Cannot create already existing endpoint "{ARN}endpoint/taken".'


# -- every operation on a missing endpoint -----------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("describe_endpoint", {}),
        ("delete_endpoint", {}),
        ("update_endpoint", {"EndpointConfigName": "c"}),
        (
            "update_endpoint_weights_and_capacities",
            {"DesiredWeightsAndCapacities": [{"VariantName": "AllTraffic", "DesiredWeight": 1}]},
        ),
    ],
)
def test_every_operation_on_a_missing_endpoint_says_so(
    sm: Any, operation: str, params: dict[str, Any]
) -> None:
    model(sm, "m")
    config(sm, "c", [("AllTraffic", "m", 1.0, 1)])
    code, message, status = refusal(getattr(sm, operation), EndpointName="Ghost", **params)
    assert (code, status) == ("ValidationException", 400)
    assert message == not_found("ghost")


def test_the_deleted_waiter_treats_a_missing_endpoint_as_deleted(sm: Any) -> None:
    sm.get_waiter("endpoint_deleted").wait(
        EndpointName="never-was", WaiterConfig={"Delay": 1, "MaxAttempts": 1}
    )


# -- DeleteEndpoint ----------------------------------------------------------------------------


def test_an_endpoint_being_created_cannot_be_deleted(sm: Any) -> None:
    endpoint(sm, "early", loads=True)
    code, message, status = refusal(sm.delete_endpoint, EndpointName="early")
    assert (code, status) == ("ValidationException", 400)
    assert message == f'Cannot delete in-progress endpoint "{ARN}endpoint/early".'
    wait_failed(sm, "early")
    sm.delete_endpoint(EndpointName="early")


def test_delete_marks_the_endpoint_deleting_until_it_is_gone(sm: Any) -> None:
    endpoint(sm, "doomed", loads=True)
    wait_failed(sm, "doomed")
    assert sm.delete_endpoint(EndpointName="doomed")["ResponseMetadata"]["HTTPStatusCode"] == 200
    try:
        assert sm.describe_endpoint(EndpointName="doomed")["EndpointStatus"] == "Deleting"
    except ClientError as error:
        assert error.response["Error"]["Message"] == not_found("doomed")
    listed = sm.list_endpoints()["Endpoints"]
    assert [e["EndpointStatus"] for e in listed] in ([], ["Deleting"])
    # Deleting again while it goes is no error (or, once gone, the usual not-found).
    try:
        sm.delete_endpoint(EndpointName="doomed")
    except ClientError as error:
        assert error.response["Error"]["Message"] == not_found("doomed")


def test_a_deleting_endpoint_cannot_be_updated(sm: Any) -> None:
    endpoint(sm, "leaving", loads=True)
    config(sm, "next", [("AllTraffic", "leaving", 1.0, 1)])
    wait_failed(sm, "leaving")
    sm.delete_endpoint(EndpointName="leaving")
    for call, params in (
        (sm.update_endpoint, {"EndpointConfigName": "next"}),
        (
            sm.update_endpoint_weights_and_capacities,
            {"DesiredWeightsAndCapacities": [{"VariantName": "AllTraffic", "DesiredWeight": 2}]},
        ),
    ):
        code, message, _ = refusal(call, EndpointName="leaving", **params)
        assert code == "ValidationException"
        assert message in (in_progress("leaving"), not_found("leaving"))


# -- UpdateEndpoint and UpdateEndpointWeightsAndCapacities -------------------------------------


def test_an_endpoint_being_created_cannot_be_updated(sm: Any) -> None:
    endpoint(sm, "busy", loads=True)
    config(sm, "next", [("AllTraffic", "busy", 1.0, 1)])
    code, message, status = refusal(
        sm.update_endpoint, EndpointName="busy", EndpointConfigName="next"
    )
    assert (code, status) == ("ValidationException", 400)
    assert message == in_progress("busy")
    described = sm.describe_endpoint(EndpointName="busy")
    assert described["EndpointConfigName"] == "busy"
    assert described["EndpointStatus"] in ("Creating", "Failed")


def test_update_refuses_a_missing_config_or_model(sm: Any) -> None:
    endpoint(sm, "e")
    config(sm, "orphan", [("AllTraffic", "e", 1.0, 1)])
    sm.delete_model(ModelName="e")
    code, message, _ = refusal(sm.update_endpoint, EndpointName="e", EndpointConfigName="nope")
    # In progress (still Creating) is checked first; a Failed endpoint gets to the config.
    assert code == "ValidationException"
    assert message in (
        in_progress("e"),
        f'Could not find endpoint configuration "{ARN}endpoint-config/nope".',
    )
    _, message, _ = refusal(sm.update_endpoint, EndpointName="e", EndpointConfigName="orphan")
    assert message in (in_progress("e"), f'Could not find model "{ARN}model/e".')


@pytest.mark.parametrize(
    ("entries", "fragment"),
    [
        (
            [{"VariantName": "Nope", "DesiredWeight": 1}],
            'The variant name(s) "Nope" is/are not present within endpoint configuration "w".',
        ),
        (
            [
                {"VariantName": "AllTraffic", "DesiredWeight": 1},
                {"VariantName": "AllTraffic", "DesiredInstanceCount": 2},
            ],
            'The variant name "AllTraffic" was non-unique within the request.',
        ),
        ([{"VariantName": "AllTraffic"}], "specify DesiredWeight, DesiredInstanceCount"),
        (
            [{"VariantName": "AllTraffic", "DesiredInstanceCount": 0}],
            "DesiredInstanceCount must be at least 1",
        ),
        (
            [{"VariantName": "AllTraffic", "DesiredWeight": 0}],
            "must be greater than 0",
        ),
        (
            [
                {
                    "VariantName": "AllTraffic",
                    "ServerlessUpdateConfig": {"MaxConcurrency": 2},
                }
            ],
            "is not serverless",
        ),
    ],
)
def test_weights_and_capacities_refuse_what_the_endpoint_cannot_take(
    sm: Any, entries: list[dict[str, Any]], fragment: str
) -> None:
    endpoint(sm, "w")
    code, message, status = refusal(
        sm.update_endpoint_weights_and_capacities,
        EndpointName="w",
        DesiredWeightsAndCapacities=entries,
    )
    assert (code, status) == ("ValidationException", 400)
    assert fragment in message


def test_weights_and_capacities_need_an_endpoint_in_service(sm: Any) -> None:
    endpoint(sm, "young", loads=True)
    code, message, _ = refusal(
        sm.update_endpoint_weights_and_capacities,
        EndpointName="young",
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredWeight": 2}],
    )
    assert code == "ValidationException"
    failed = (
        f'Cannot update weights and capacities of endpoint "{ARN}endpoint/young" in status '
        "Failed; only an InService endpoint can be updated this way."
    )
    assert message in (in_progress("young"), failed)
    assert sm.describe_endpoint(EndpointName="young")["EndpointStatus"] in ("Creating", "Failed")


def test_a_failed_endpoint_can_be_moved_to_another_config(sm: Any) -> None:
    model(sm, "m")
    config(sm, "first", [("AllTraffic", "m", 0.5, 2)])
    sm.create_endpoint(EndpointName="retry", EndpointConfigName="first")
    failed = wait_failed(sm, "retry")
    assert failed["FailureReason"]
    assert "PendingDeploymentSummary" not in failed
    _, message, _ = refusal(
        sm.update_endpoint_weights_and_capacities,
        EndpointName="retry",
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredWeight": 2}],
    )
    assert "in status Failed" in message
    _, message, _ = refusal(sm.update_endpoint, EndpointName="retry", EndpointConfigName="first")
    assert message == (
        'Cannot update endpoint with the currently in use endpoint configuration "first".'
    )

    config(sm, "second", [("AllTraffic", "m", 1.0, 1)])
    deployment = {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
            "WaitIntervalInSeconds": 0,
        }
    }
    arn = sm.update_endpoint(
        EndpointName="retry",
        EndpointConfigName="second",
        RetainAllVariantProperties=True,
        ExcludeRetainedVariantProperties=[{"VariantPropertyType": "DesiredWeight"}],
        DeploymentConfig=deployment,
    )["EndpointArn"]
    assert arn == ARN + "endpoint/retry"
    described = sm.describe_endpoint(EndpointName="retry")
    assert described["EndpointStatus"] in ("Updating", "Failed")
    assert described["EndpointConfigName"] == "second"
    assert described["LastDeploymentConfig"]["RollingUpdatePolicy"]["WaitIntervalInSeconds"] == 0
    if described["EndpointStatus"] == "Updating":
        assert described["PendingDeploymentSummary"]["EndpointConfigName"] == "second"
        assert "FailureReason" not in described
    settled = wait_settled(sm, "retry")
    assert settled["EndpointStatus"] == "Failed"
    (variant,) = settled["ProductionVariants"]
    # The instance count is kept from the endpoint; the weight, excluded, comes from "second".
    assert (variant["DesiredInstanceCount"], variant["DesiredWeight"]) == (2, 1.0)


# -- ListEndpoints -----------------------------------------------------------------------------


def names(page: dict[str, Any]) -> list[str]:
    return [e["EndpointName"] for e in page["Endpoints"]]


@pytest.fixture
def three(sm: Any) -> Any:
    """Endpoints ep-a, ep-b and other-c, created in that order."""
    for name in ("ep-a", "ep-b", "other-c"):
        endpoint(sm, name)
    return sm


def test_list_newest_first_with_summaries(three: Any) -> None:
    page = three.list_endpoints()
    assert names(page) == ["other-c", "ep-b", "ep-a"]
    assert "NextToken" not in page
    summary = page["Endpoints"][0]
    assert summary["EndpointArn"] == ARN + "endpoint/other-c"
    assert summary["EndpointStatus"] in ("Creating", "Failed")
    assert summary["CreationTime"] <= summary["LastModifiedTime"]


def test_list_filters_by_name_status_and_time(three: Any) -> None:
    assert names(three.list_endpoints(NameContains="ep-")) == ["ep-b", "ep-a"]
    created = {
        name: three.describe_endpoint(EndpointName=name)["CreationTime"]
        for name in ("ep-a", "ep-b", "other-c")
    }
    assert names(three.list_endpoints(CreationTimeAfter=created["ep-a"])) == ["other-c", "ep-b"]
    assert names(three.list_endpoints(CreationTimeBefore=created["other-c"])) == ["ep-b", "ep-a"]
    future = datetime.now().astimezone() + timedelta(hours=1)
    assert names(three.list_endpoints(LastModifiedTimeAfter=future)) == []
    assert len(names(three.list_endpoints(LastModifiedTimeBefore=future))) == 3
    assert names(three.list_endpoints(StatusEquals="InService")) == []
    for status in ("Creating", "Failed"):
        page = three.list_endpoints(StatusEquals=status)
        assert all(e["EndpointStatus"] == status for e in page["Endpoints"])


def test_list_sorts_and_pages(three: Any) -> None:
    first = three.list_endpoints(SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert names(first) == ["ep-a", "ep-b"]
    second = three.list_endpoints(
        SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=first["NextToken"]
    )
    assert names(second) == ["other-c"]
    assert "NextToken" not in second
    assert names(three.list_endpoints(SortBy="Name")) == ["other-c", "ep-b", "ep-a"]
    oldest_first = three.list_endpoints(SortBy="CreationTime", SortOrder="Ascending")
    assert names(oldest_first) == ["ep-a", "ep-b", "other-c"]
    for order in ("Ascending", "Descending"):
        page = three.list_endpoints(SortBy="Status", SortOrder=order)
        keys = [(e["EndpointStatus"], e["EndpointName"]) for e in page["Endpoints"]]
        assert {name for _, name in keys} == {"ep-a", "ep-b", "other-c"}
        assert [status for status, _ in keys] == sorted(
            (status for status, _ in keys), reverse=order == "Descending"
        )


def test_a_token_for_another_listing_is_refused(three: Any) -> None:
    token = three.list_endpoints(MaxResults=1)["NextToken"]
    code, _, _ = refusal(three.list_endpoints, MaxResults=1, NextToken=token, NameContains="ep")
    assert code == "ValidationException"
    models_token = three.list_models(MaxResults=1)["NextToken"]
    code, _, _ = refusal(three.list_endpoints, NextToken=models_token)
    assert code == "ValidationException"
