"""Rolling updates: instances replaced batch by batch under continuous load with no failed
request; a new config that cannot start rolls back. DeleteEndpoint refuses an endpoint in
progress."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_hosting import ROLE, SKLEARN, wait_status
from tests.api.test_multi_container import adder, call
from tests.conftest import make_client
from tests.support.server import ServerProcess


@pytest.fixture
def clients(s3: Any, server: ServerProcess) -> tuple[Any, Any, Any]:
    return make_client(server.url, "sagemaker"), s3, make_client(server.url, "sagemaker-runtime")


def config(sm: Any, name: str, model: str, count: int) -> None:
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": count,
                "InstanceType": "ml.m5.large",
            }
        ],
    )


ROLLING = {
    "RollingUpdatePolicy": {
        "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
        "WaitIntervalInSeconds": 0,
        "RollbackMaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 100},
    }
}


def test_rolling_update_under_load_loses_nothing(clients: tuple[Any, Any, Any]) -> None:
    sm, s3, runtime = clients
    sm.create_model(ModelName="old", ExecutionRoleArn=ROLE, PrimaryContainer=adder(s3, "o", 1))
    sm.create_model(ModelName="new", ExecutionRoleArn=ROLE, PrimaryContainer=adder(s3, "n", 2))
    config(sm, "old", "old", 2)
    config(sm, "new", "new", 2)
    sm.create_endpoint(EndpointName="roll", EndpointConfigName="old")
    wait_status(sm, "roll", ("InService",))
    answers: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                answers.append(call(runtime, "roll"))
            except ClientError as error:
                failures.append(str(error))

    thread = threading.Thread(target=load)
    thread.start()
    try:
        sm.update_endpoint(EndpointName="roll", EndpointConfigName="new", DeploymentConfig=ROLLING)
        with pytest.raises(ClientError) as busy:
            sm.delete_endpoint(EndpointName="roll")
        assert busy.value.response["Error"]["Message"].startswith(
            'Cannot delete in-progress endpoint "arn:aws:sagemaker:'
        )
        done = wait_status(sm, "roll", ("InService",))
        assert len(answers) > 0
        answers.clear()
        deadline = time.monotonic() + 30
        while len(answers) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert done["EndpointConfigName"] == "new"
    assert done["LastDeploymentConfig"] == ROLLING
    assert set(answers[-3:]) == {"3,4"}


def test_a_broken_rolling_update_rolls_back(clients: tuple[Any, Any, Any]) -> None:
    sm, s3, runtime = clients
    sm.create_model(ModelName="good", ExecutionRoleArn=ROLE, PrimaryContainer=adder(s3, "g", 1))
    s3.put_object(Bucket="bkt", Key="bad/model.tar.gz", Body=b"not a tarball")
    sm.create_model(
        ModelName="bad",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": SKLEARN, "ModelDataUrl": "s3://bkt/bad/model.tar.gz"},
    )
    config(sm, "good", "good", 2)
    config(sm, "bad", "bad", 2)
    sm.create_endpoint(EndpointName="rb", EndpointConfigName="good")
    wait_status(sm, "rb", ("InService",))
    sm.update_endpoint(EndpointName="rb", EndpointConfigName="bad", DeploymentConfig=ROLLING)
    seen = set()
    deadline = time.monotonic() + 60
    while True:
        described = sm.describe_endpoint(EndpointName="rb")
        seen.add(described["EndpointStatus"])
        if described["EndpointStatus"] == "InService":
            break
        assert time.monotonic() < deadline, f"still {described['EndpointStatus']}"
        time.sleep(0.02)
    assert "RollingBack" in seen or "Updating" in seen
    assert described["EndpointConfigName"] == "good"
    assert described["FailureReason"].startswith("Rolling update failed:")
    assert call(runtime, "rb") == "2,3"
