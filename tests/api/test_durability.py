"""State and tags survive a restart; reset exists only when allowed."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.api.test_models import create
from tests.conftest import make_client
from tests.support.server import ServerProcess


def test_models_configs_and_tags_survive_restart(data_dir: Path) -> None:
    first = ServerProcess(data_dir).start()
    try:
        client = make_client(first.url, "sagemaker")
        arn = create(client, "durable", Tags=[{"Key": "k", "Value": "v"}])["ModelArn"]
        client.create_endpoint_config(
            EndpointConfigName="durable-config",
            ProductionVariants=[
                {
                    "VariantName": "v",
                    "ModelName": "durable",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
        for index in range(3):
            create(client, f"page-{index}")
        token = client.list_models(MaxResults=2, SortBy="Name", SortOrder="Ascending")["NextToken"]
    finally:
        first.stop()
    second = ServerProcess(data_dir).start()
    try:
        client = make_client(second.url, "sagemaker")
        assert client.describe_model(ModelName="durable")["ModelArn"] == arn
        assert client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
        config = client.describe_endpoint_config(EndpointConfigName="durable-config")
        assert config["ProductionVariants"][0]["ModelName"] == "durable"
        rest = client.list_models(
            MaxResults=2, SortBy="Name", SortOrder="Ascending", NextToken=token
        )
        assert [m["ModelName"] for m in rest["Models"]] == ["page-1", "page-2"]
    finally:
        second.stop()


def test_reset_route_exists_only_when_allowed(data_dir: Path) -> None:
    server = ServerProcess(data_dir, extra_env={"SAGESTACK_ALLOW_RESET": "0"}).start()
    try:
        request = urllib.request.Request(f"{server.url}/_sagestack/reset", method="POST")
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            urllib.request.urlopen(request, timeout=5)
        assert excinfo.value.code == 404
    finally:
        server.stop()
