"""Training jobs that really run: script mode, failures, stops, time limits, logs and metrics,
through boto3 against a live server, as the SageMaker SDK drives them."""

from __future__ import annotations

import io
import json
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_client
from tests.support.server import ServerProcess

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
ENDED = ("Completed", "Failed", "Stopped")


@pytest.fixture
def clients(s3: Any, server: ServerProcess) -> tuple[Any, Any, Any]:
    """sagemaker, s3 and logs clients on a reset server with bucket `bkt` and a train channel."""
    s3.put_object(Bucket="bkt", Key="data/train/rows.csv", Body=b"1,2\n3,4\n5,6\n")
    return make_client(server.url, "sagemaker"), s3, make_client(server.url, "logs")


def source_archive(s3: Any, job: str, script: str, **files: str) -> str:
    """Upload a sourcedir.tar.gz with `train.py` (and `files`), as the SDK does."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in {"train.py": script, **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    key = f"{job}/source/sourcedir.tar.gz"
    s3.put_object(Bucket="bkt", Key=key, Body=buffer.getvalue())
    return f"s3://bkt/{key}"


def create_job(
    sagemaker: Any,
    s3: Any,
    name: str,
    script: str,
    *,
    files: dict[str, str] | None = None,
    **overrides: Any,
) -> None:
    """CreateTrainingJob with the body SDK 2.x's SKLearn estimator sends; `files` go into the
    source archive beside train.py."""
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": SKLEARN},
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://bkt/"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://bkt/data/train",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
        "HyperParameters": {
            "n-estimators": "5",
            "sagemaker_submit_directory": json.dumps(
                source_archive(s3, name, script, **(files or {}))
            ),
            "sagemaker_program": '"train.py"',
            "sagemaker_container_log_level": "20",
            "sagemaker_job_name": json.dumps(name),
            "sagemaker_region": '"us-east-1"',
        },
    }
    request.update(overrides)
    sagemaker.create_training_job(**request)


def wait_until(sagemaker: Any, name: str, statuses: tuple[str, ...] = ENDED) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in statuses:
            return job
        assert time.monotonic() < deadline, f"{name} is still {job['TrainingJobStatus']}"
        time.sleep(0.05)


def wait_for_line(logs: Any, name: str, text: str) -> None:
    deadline = time.monotonic() + 60
    while text not in log_lines(logs, name):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {name}'s log"
        time.sleep(0.05)


def log_lines(logs: Any, name: str) -> list[str]:
    """The job's log as SDK 2.x reads it: DescribeLogStreams by prefix, then GetLogEvents."""
    try:
        streams = logs.describe_log_streams(
            logGroupName="/aws/sagemaker/TrainingJobs",
            logStreamNamePrefix=f"{name}/",
            orderBy="LogStreamName",
            limit=1,
        ).get("logStreams", [])
    except logs.exceptions.ResourceNotFoundException:
        return []  # the group appears with the first line any job writes
    if not streams:
        return []
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamName=streams[0]["logStreamName"],
        startFromHead=True,
    )["events"]
    return [event["message"] for event in events]


TRAIN = """
import json, os, sys
print("args", sys.argv[1:])
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv")).read().split()
print("rows", len(rows), "hps", os.environ["SM_HPS"])
assert os.path.exists(os.path.join(os.environ["SAGEMAKER_BASE_DIR"], "input/config"))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump({"rows": len(rows)}, f)
os.makedirs(os.environ["SM_OUTPUT_DATA_DIR"], exist_ok=True)
open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w").write("ok")
print("train-loss=0.125")
print("train-loss=0.0625")
"""


def test_script_mode_job_completes_with_artifacts_logs_and_metrics(
    clients: tuple[Any, Any, Any], tmp_path: Path
) -> None:
    sagemaker, s3, logs = clients
    metrics = [{"Name": "train:loss", "Regex": "train-loss=([0-9.]+)"}]
    create_job(
        sagemaker,
        s3,
        "script-mode",
        TRAIN,
        AlgorithmSpecification={
            "TrainingInputMode": "File",
            "TrainingImage": SKLEARN,
            "MetricDefinitions": metrics,
        },
    )
    job = wait_until(sagemaker, "script-mode")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Completed", "Completed")
    steps = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert steps == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert job["TrainingStartTime"] <= job["TrainingEndTime"]
    assert job["TrainingTimeInSeconds"] >= 1 and job["BillableTimeInSeconds"] >= 1
    artifacts = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts == "s3://bkt/script-mode/output/model.tar.gz"
    model = s3.get_object(Bucket="bkt", Key="script-mode/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(model)) as tar:
        assert tar.getnames() == ["model.json"]
        member = tar.extractfile("model.json")
        assert member is not None and json.load(member) == {"rows": 3}
    s3.head_object(Bucket="bkt", Key="script-mode/output/output.tar.gz")
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert final == {"train:loss": 0.0625}
    lines = log_lines(logs, "script-mode")
    assert "args ['--n-estimators', '5']" in lines
    assert 'rows 3 hps {"n-estimators":5}' in lines


def test_a_failing_script_fails_the_job_with_its_error(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    create_job(sagemaker, s3, "fails", "raise ValueError('n-estimators must be positive')\n")
    job = wait_until(sagemaker, "fails")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Failed", "Failed")
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError:")
    assert "ValueError: n-estimators must be positive" in reason
    assert reason.endswith("exit code: 1")


def test_output_failure_file_becomes_the_reason(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    script = (
        "import os, sys\n"
        "open(os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), 'w').write('bad data')\n"
        "sys.exit(3)\n"
    )
    create_job(sagemaker, s3, "failure-file", script)
    job = wait_until(sagemaker, "failure-file")
    assert job["FailureReason"] == "bad data, exit code: 3"


SLEEPER = """
import os, signal, sys, time
def stop(*_):
    open(os.path.join(os.environ["SM_MODEL_DIR"], "partial.bin"), "w").write("saved")
    print("saved on SIGTERM", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("sleeping", flush=True)
time.sleep(120)
"""


def test_stop_training_job_stops_and_keeps_artifacts(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, logs = clients
    create_job(sagemaker, s3, "stopped", SLEEPER)
    wait_for_line(logs, "stopped", "sleeping")
    sagemaker.stop_training_job(TrainingJobName="stopped")
    job = wait_until(sagemaker, "stopped")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]][-2:] == ["Stopping", "Stopped"]
    model = s3.get_object(Bucket="bkt", Key="stopped/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(model)) as tar:
        assert tar.getnames() == ["partial.bin"]


def test_max_runtime_stops_the_job(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    create_job(sagemaker, s3, "too-long", SLEEPER, StoppingCondition={"MaxRuntimeInSeconds": 1})
    job = wait_until(sagemaker, "too-long")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")


def test_unknown_image_fails_as_an_unpullable_image(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/does-not-exist:1"
    create_job(
        sagemaker,
        s3,
        "no-image",
        TRAIN,
        AlgorithmSpecification={"TrainingInputMode": "File", "TrainingImage": image},
    )
    job = wait_until(sagemaker, "no-image")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: Cannot pull algorithm container.")


def test_an_empty_channel_fails_before_training(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    channel = {
        "ChannelName": "train",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": "s3://bkt/nothing/here",
                "S3DataDistributionType": "FullyReplicated",
            }
        },
    }
    create_job(sagemaker, s3, "no-data", TRAIN, InputDataConfig=[channel])
    job = wait_until(sagemaker, "no-data")
    assert job["TrainingJobStatus"] == "Failed"
    assert "No S3 objects found under S3 URL" in job["FailureReason"]
    assert "Training" not in [t["Status"] for t in job["SecondaryStatusTransitions"]]


def test_container_entrypoint_job_sees_opt_ml(clients: tuple[Any, Any, Any]) -> None:
    """SDK 3.x's ModelTrainer: the code arrives as a channel and a shell entrypoint runs it."""
    sagemaker, s3, logs = clients
    driver = "echo driver on $SM_CURRENT_HOST; python /opt/ml/input/data/code/train.py\n"
    s3.put_object(Bucket="bkt", Key="v3/code/train.py", Body=TRAIN.encode())
    s3.put_object(Bucket="bkt", Key="v3/sm_drivers/sm_train.sh", Body=driver.encode())
    channels = [
        {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": uri,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "InputMode": "File",
        }
        for name, uri in (
            ("train", "s3://bkt/data/train"),
            ("code", "s3://bkt/v3/code"),
            ("sm_drivers", "s3://bkt/v3/sm_drivers"),
        )
    ]
    sagemaker.create_training_job(
        TrainingJobName="model-trainer",
        AlgorithmSpecification={
            "TrainingImage": SKLEARN,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["/bin/bash"],
            "ContainerArguments": [
                "-c",
                "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh && "
                "/opt/ml/input/data/sm_drivers/sm_train.sh",
            ],
        },
        RoleArn=ROLE,
        InputDataConfig=channels,
        OutputDataConfig={"S3OutputPath": "s3://bkt/base", "CompressionType": "GZIP"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    job = wait_until(sagemaker, "model-trainer")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert "driver on algo-1" in log_lines(logs, "model-trainer")
    s3.head_object(Bucket="bkt", Key="base/model-trainer/output/model.tar.gz")


def test_a_restart_never_leaves_a_job_in_progress(data_dir: Path, tmp_path: Path) -> None:
    first = ServerProcess(data_dir).start()
    sagemaker, s3 = make_client(first.url, "sagemaker"), make_client(first.url, "s3")
    logs = make_client(first.url, "logs")
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="data/train/rows.csv", Body=b"1\n")
    create_job(sagemaker, s3, "interrupted", SLEEPER)
    wait_for_line(logs, "interrupted", "sleeping")
    first.kill()
    second = ServerProcess(data_dir).start()
    try:
        sagemaker = make_client(second.url, "sagemaker")
        job = wait_until(sagemaker, "interrupted")
        assert job["TrainingJobStatus"] == "Failed"
        assert "restarted" in job["FailureReason"]
    finally:
        second.stop()


def test_requirements_are_installed_into_a_cached_environment(
    clients: tuple[Any, Any, Any],
) -> None:
    """requirements.txt goes into a virtual environment of its own (satisfied here from the
    packages beside sagestack, so nothing is downloaded), never into sagestack's own."""
    sagemaker, s3, logs = clients
    script = "import sys, six, sklearn, sagestack\nprint('prefix', sys.prefix)\n"
    create_job(sagemaker, s3, "with-requirements", script, files={"requirements.txt": "six\n"})
    job = wait_until(sagemaker, "with-requirements")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    prefix = next(
        line for line in log_lines(logs, "with-requirements") if line.startswith("prefix")
    )
    assert "/environments/" in prefix and sys.prefix not in prefix.split()[1:]


def test_network_isolation_leaves_the_job_no_network(
    clients: tuple[Any, Any, Any], server: ServerProcess
) -> None:
    sagemaker, s3, _ = clients
    port = server.url.rsplit(":", 1)[1]
    script = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    print('reached the server')\n"
        "except OSError as error:\n"
        "    raise SystemExit(f'no network: {error}')\n"
    )
    create_job(sagemaker, s3, "isolated", script, EnableNetworkIsolation=True)
    job = wait_until(sagemaker, "isolated")
    assert job["TrainingJobStatus"] == "Failed"
    assert "no network" in job["FailureReason"]


def test_checkpoints_sync_both_ways(clients: tuple[Any, Any, Any]) -> None:
    """Checkpoints go up while the job trains and come back down for the next job."""
    sagemaker, s3, logs = clients
    checkpoint = {"S3Uri": "s3://bkt/checkpoints/run"}
    writer = (
        "import os, time\n"
        "open('/opt/ml/checkpoints/epoch-1.ckpt', 'w').write('state 1')\n"
        "print('checkpointed', flush=True)\n"
        "time.sleep(120)\n"
    )
    create_job(sagemaker, s3, "writes-checkpoints", writer, CheckpointConfig=checkpoint)
    wait_for_line(logs, "writes-checkpoints", "checkpointed")
    deadline = time.monotonic() + 30
    while "Contents" not in s3.list_objects_v2(Bucket="bkt", Prefix="checkpoints/run/"):
        assert time.monotonic() < deadline, "the checkpoint never reached S3 during training"
        time.sleep(0.05)
    job = sagemaker.describe_training_job(TrainingJobName="writes-checkpoints")
    assert job["TrainingJobStatus"] == "InProgress"
    sagemaker.stop_training_job(TrainingJobName="writes-checkpoints")
    wait_until(sagemaker, "writes-checkpoints")
    reader = "print('resumed from', open('/opt/ml/checkpoints/epoch-1.ckpt').read())\n"
    create_job(sagemaker, s3, "reads-checkpoints", reader, CheckpointConfig=checkpoint)
    job = wait_until(sagemaker, "reads-checkpoints")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert "resumed from state 1" in log_lines(logs, "reads-checkpoints")
