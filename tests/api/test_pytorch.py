"""PyTorch end to end, as the SDK's `PyTorch` estimator and `PyTorchModel` drive it: a script
trains with torch, two hosts rendezvous through torchrun (`torch_distributed`), and the model
serves predictions from the user's `model_fn` and from a TorchScript file with the default
handlers."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.api.test_hosting import create_config, tarball, wait_status
from tests.api.test_training_runs import create_job, wait_until
from tests.conftest import make_client
from tests.support.server import ServerProcess

TRAINING = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310"
INFERENCE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-cpu-py310"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"

TRAIN = """
import argparse, os
import torch
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
args, _ = parser.parse_known_args()
torch.manual_seed(0)
features = torch.randn(256, 3)
target = features @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
model = torch.nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(args.epochs):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(features), target)
    loss.backward()
    optimizer.step()
print(f"loss={loss.item():.6f}")
torch.save(model.state_dict(), os.path.join(os.environ["SM_MODEL_DIR"], "model.pth"))
"""

SERVE = """
import os
import torch

def model_fn(model_dir):
    model = torch.nn.Linear(3, 1)
    model.load_state_dict(torch.load(os.path.join(model_dir, "model.pth")))
    return model.eval()
"""

ALL_REDUCE = """
import json, os
import torch, torch.distributed as dist
dist.init_process_group(backend="gloo")
total = torch.tensor([float(dist.get_rank() + 1)])
dist.all_reduce(total)
print(f"rank={dist.get_rank()} world={dist.get_world_size()} sum={total.item()}")
if dist.get_rank() == 0:
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "sum.json"), "w") as f:
        json.dump(total.item(), f)
dist.destroy_process_group()
"""


@pytest.fixture
def clients(s3: Any, server: ServerProcess) -> tuple[Any, Any, Any]:
    s3.put_object(Bucket="bkt", Key="data/train/rows.csv", Body=b"1,2\n")
    return (
        make_client(server.url, "sagemaker"),
        s3,
        make_client(server.url, "sagemaker-runtime"),
    )


def pytorch_job(sagemaker: Any, s3: Any, name: str, script: str) -> dict[str, Any]:
    """The job the SDK's `PyTorch` estimator creates on one GPU instance type."""
    create_job(
        sagemaker,
        s3,
        name,
        script,
        AlgorithmSpecification={"TrainingInputMode": "File", "TrainingImage": TRAINING},
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    )
    return wait_until(sagemaker, name)


def artifact_members(s3: Any, job: dict[str, Any]) -> dict[str, bytes]:
    key = job["ModelArtifacts"]["S3ModelArtifacts"].removeprefix("s3://bkt/")
    body = s3.get_object(Bucket="bkt", Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def deploy(sagemaker: Any, name: str, container: dict[str, Any]) -> None:
    sagemaker.create_model(ModelName=name, PrimaryContainer=container, ExecutionRoleArn=ROLE)
    create_config(sagemaker, name, [("AllTraffic", name, 1.0, 1)])
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    endpoint = wait_status(sagemaker, name, ("InService", "Failed"))
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_a_pytorch_script_trains_then_serves_through_its_model_fn(
    clients: tuple[Any, Any, Any], tmp_path: Path
) -> None:
    sagemaker, s3, runtime = clients
    job = pytorch_job(sagemaker, s3, "torch-linear", TRAIN)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    weights = artifact_members(s3, job)["model.pth"]
    (tmp_path / "model.pth").write_bytes(weights)
    local = torch.nn.Linear(3, 1)
    local.load_state_dict(torch.load(tmp_path / "model.pth"))

    s3.put_object(
        Bucket="bkt", Key="serve/sourcedir.tar.gz", Body=tarball({"inference.py": SERVE.encode()})
    )
    deploy(
        sagemaker,
        "torch-linear",
        {
            "Image": INFERENCE,
            "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"],
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "s3://bkt/serve/sourcedir.tar.gz",
            },
        },
    )
    rows = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]], dtype=np.float32)
    reply = runtime.invoke_endpoint(
        EndpointName="torch-linear",
        Body=npy(rows),
        ContentType="application/x-npy",
        Accept="application/x-npy",
    )
    served = np.load(io.BytesIO(reply["Body"].read()))
    with torch.no_grad():
        expected = local(torch.from_numpy(rows)).numpy()
    assert np.allclose(served, expected, atol=1e-6)


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_a_torchscript_model_serves_through_the_default_handlers(
    clients: tuple[Any, Any, Any], tmp_path: Path
) -> None:
    sagemaker, s3, runtime = clients
    torch.manual_seed(3)
    module = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU()))
    torch.jit.save(module, str(tmp_path / "model.pt"))
    s3.put_object(
        Bucket="bkt",
        Key="scripted/model.tar.gz",
        Body=tarball({"model.pt": (tmp_path / "model.pt").read_bytes()}),
    )
    deploy(
        sagemaker,
        "torchscript",
        {"Image": INFERENCE, "ModelDataUrl": "s3://bkt/scripted/model.tar.gz"},
    )
    rows = [[0.25, -1.5], [2.0, 0.5]]
    reply = runtime.invoke_endpoint(
        EndpointName="torchscript",
        Body=json.dumps(rows),
        ContentType="application/json",
        Accept="application/json",
    )
    with torch.no_grad():
        expected = module(torch.tensor(rows)).numpy()
    assert np.allclose(json.loads(reply["Body"].read()), expected, atol=1e-6)


def test_torch_distributed_rendezvous_across_two_hosts(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    create_job(
        sagemaker,
        s3,
        "torch-ddp",
        ALL_REDUCE,
        AlgorithmSpecification={"TrainingInputMode": "File", "TrainingImage": TRAINING},
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 30},
        HyperParameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": json.dumps(s3_source(s3, "torch-ddp", ALL_REDUCE)),
            "sagemaker_torch_distributed_enabled": "true",
        },
    )
    job = wait_until(sagemaker, "torch-ddp")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert json.loads(artifact_members(s3, job)["sum.json"]) == 3.0  # ranks 0 and 1: 1 + 2
    lines = host_lines(make_client(sagemaker.meta.endpoint_url, "logs"), "torch-ddp")
    assert any("rank=1 world=2 sum=3.0" in line for line in lines["algo-2"])
    assert any("--node_rank 1" in line for line in lines["algo-2"])
    assert not any("--sagemaker_torch_distributed_enabled" in line for line in lines["algo-1"])


def s3_source(s3: Any, job: str, script: str) -> str:
    key = f"{job}/source/sourcedir.tar.gz"
    s3.put_object(Bucket="bkt", Key=key, Body=tarball({"train.py": script.encode()}))
    return f"s3://bkt/{key}"


def host_lines(logs: Any, job: str) -> dict[str, list[str]]:
    """Each host's log lines, by host (streams are `<job>/algo-N-<epoch>`)."""
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{job}/"
    )["logStreams"]
    lines = {}
    for stream in streams:
        host = stream["logStreamName"].split("/")[1].rsplit("-", 1)[0]
        events = logs.get_log_events(
            logGroupName="/aws/sagemaker/TrainingJobs",
            logStreamName=stream["logStreamName"],
            startFromHead=True,
        )["events"]
        lines[host] = [event["message"] for event in events]
    return lines
