"""Shared fixtures: a live sagestack server per test session (per xdist worker) and real boto3
clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.server import ServerProcess

CLIENT_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"})
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("sagestack") / "data").start()
    yield process
    process.stop()


def make_client(
    url: str, service: str, region: str = "us-east-1", config: Config | None = None
) -> Any:
    merged = CLIENT_CONFIG.merge(config) if config is not None else CLIENT_CONFIG
    return boto3.client(service, endpoint_url=url, region_name=region, config=merged, **CREDENTIALS)


@pytest.fixture
def sagemaker(server: ServerProcess) -> Any:
    server.reset()
    return make_client(server.url, "sagemaker")


@pytest.fixture
def s3(server: ServerProcess) -> Any:
    """An S3 client on a freshly reset server, with bucket `bkt` created."""
    server.reset()
    client = make_client(server.url, "s3")
    client.create_bucket(Bucket="bkt")
    return client


@pytest.fixture
def unchecked_sagemaker(sagemaker: Any, server: ServerProcess) -> Any:
    """A sagemaker client that skips botocore's client-side validation, so the server's runs."""
    config = CLIENT_CONFIG.merge(Config(parameter_validation=False))
    return boto3.client(
        "sagemaker", endpoint_url=server.url, region_name="us-east-1", config=config, **CREDENTIALS
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
