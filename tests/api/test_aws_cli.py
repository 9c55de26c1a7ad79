"""The AWS CLI (run as a subprocess: it vendors its own botocore) against a live server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.server import ServerProcess

AWS = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"


def aws(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }
    return subprocess.run(
        [AWS, "--endpoint-url", server.url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_cli_model_lifecycle(server: ServerProcess, sagemaker: Any) -> None:
    assert json.loads(aws(server, "sagemaker", "list-models").stdout) == {"Models": []}
    created = aws(
        server,
        "sagemaker",
        "create-model",
        "--model-name",
        "cli-model",
        "--execution-role-arn",
        "arn:aws:iam::123456789012:role/R",
        "--primary-container",
        "Image=123.dkr.ecr.us-east-1.amazonaws.com/kmeans:1",
        "--tags",
        "Key=owner,Value=cli",
    )
    assert created.returncode == 0, created.stderr
    arn = json.loads(created.stdout)["ModelArn"]
    described = json.loads(
        aws(server, "sagemaker", "describe-model", "--model-name", "cli-model").stdout
    )
    assert described["ModelArn"] == arn
    # Timestamps are epoch seconds on the wire; the CLI prints them as numbers.
    assert abs(described["CreationTime"] - time.time()) < 300
    tags = json.loads(aws(server, "sagemaker", "list-tags", "--resource-arn", arn).stdout)
    assert tags["Tags"] == [{"Key": "owner", "Value": "cli"}]
    assert aws(server, "sagemaker", "delete-model", "--model-name", "cli-model").returncode == 0
    missing = aws(server, "sagemaker", "describe-model", "--model-name", "cli-model")
    assert missing.returncode != 0
    assert "ValidationException" in missing.stderr
    assert "Could not find model" in missing.stderr
