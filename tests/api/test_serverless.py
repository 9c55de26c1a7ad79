"""Serverless variants scale to zero when idle and start again on the next request."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_hosting import ROLE
from tests.api.test_multi_container import adder, call, serve
from tests.conftest import make_client
from tests.support.server import ServerProcess

SLOW = """
import time

def model_fn(model_dir):
    return None

def transform_fn(model, body, content_type, accept):
    time.sleep(0.5)
    return body, "text/csv"
"""


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Any:
    process = ServerProcess(
        tmp_path_factory.mktemp("sls") / "data",
        extra_env={"SAGESTACK_SERVERLESS_IDLE_SECONDS": "1"},
    ).start()
    yield process
    process.stop()


def clients(server: ServerProcess) -> tuple[Any, Any, Any]:
    server.reset()
    s3 = make_client(server.url, "s3")
    s3.create_bucket(Bucket="bkt")
    return make_client(server.url, "sagemaker"), s3, make_client(server.url, "sagemaker-runtime")


def replica_processes(server: ServerProcess) -> int:
    return sum(1 for _ in (server.data_dir / "endpoints").iterdir())


def test_idle_replica_goes_and_the_next_request_waits_for_a_new_one(quick: ServerProcess) -> None:
    sm, s3, runtime = clients(quick)
    sm.create_model(ModelName="sls", ExecutionRoleArn=ROLE, PrimaryContainer=adder(s3, "s", 5))
    serve(sm, "sls", {"ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}})
    assert call(runtime, "sls") == "6,7"
    deadline = time.monotonic() + 20
    while replica_processes(quick) > 0:
        assert time.monotonic() < deadline, "the idle replica was not stopped"
        time.sleep(0.1)
    assert call(runtime, "sls") == "6,7"  # cold start: waits for a new replica


def test_max_concurrency_throttles(quick: ServerProcess) -> None:
    sm, s3, runtime = clients(quick)
    container = adder(s3, "slow", 0)
    s3.put_object(Bucket="bkt", Key="slow/model.tar.gz", Body=_slow())
    sm.create_model(ModelName="slow", ExecutionRoleArn=ROLE, PrimaryContainer=container)
    serve(sm, "slow", {"ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}})
    errors: list[str] = []

    def one() -> None:
        try:
            call(runtime, "slow")
        except ClientError as error:
            errors.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "ThrottlingException" in errors
    assert len(errors) < 3


def _slow() -> bytes:
    from tests.api.test_hosting import tarball

    return tarball({"add.txt": b"0", "code/inference.py": SLOW.encode()})
