"""Processing jobs that really run, through boto3 against a live server: the requests the
SageMaker SDK 2.x sends for SKLearnProcessor, ScriptProcessor and FrameworkProcessor replayed
as it sends them, failures, stops, time limits, multi-host sharding, logs, validation and a
restart."""

from __future__ import annotations

import io
import json
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sagestack.resources.images import LocalImage, parse_registry, render_registry
from tests.conftest import make_client
from tests.support.server import ServerProcess

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
ENDED = ("Completed", "Failed", "Stopped")
GROUP = "/aws/sagemaker/ProcessingJobs"
CLUSTER = {
    "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}
}


@pytest.fixture
def clients(s3: Any, server: ServerProcess) -> tuple[Any, Any, Any]:
    """sagemaker, s3 and logs clients on a reset server with bucket `bkt` and a data file."""
    s3.put_object(Bucket="bkt", Key="raw/rows.csv", Body=b"1,2\n3,4\n5,6\n7,8\n")
    return make_client(server.url, "sagemaker"), s3, make_client(server.url, "logs")


def s3_input(name: str, uri: str, local: str, **extra: str) -> dict[str, Any]:
    """A ProcessingInput as SDK 2.x's ProcessingInput renders it."""
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
            **extra,
        },
    }


def s3_output(name: str, uri: str, local: str, mode: str = "EndOfJob") -> dict[str, Any]:
    return {
        "OutputName": name,
        "AppManaged": False,
        "S3Output": {"S3Uri": uri, "LocalPath": local, "S3UploadMode": mode},
    }


def script_job(sagemaker: Any, s3: Any, name: str, script: str, **overrides: Any) -> dict[str, Any]:
    """CreateProcessingJob as SKLearnProcessor.run(code=...) sends it: the script uploaded
    alone and given as input `code`, run by `python3` (the request is returned)."""
    key = f"{name}/input/code/process.py"
    s3.put_object(Bucket="bkt", Key=key, Body=script.encode())
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingInputs": [
            s3_input("input-1", "s3://bkt/raw/rows.csv", "/opt/ml/processing/input/data"),
            s3_input("code", f"s3://bkt/{key}", "/opt/ml/processing/input/code"),
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                s3_output("train", f"s3://bkt/{name}/output/train", "/opt/ml/processing/train")
            ]
        },
        "ProcessingResources": CLUSTER,
        "AppSpecification": {
            "ImageUri": SKLEARN,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/process.py"],
        },
        "RoleArn": ROLE,
    }
    request.update(overrides)
    sagemaker.create_processing_job(**request)
    return request


def wait_until(sagemaker: Any, name: str, statuses: tuple[str, ...] = ENDED) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = sagemaker.describe_processing_job(ProcessingJobName=name)
        if job["ProcessingJobStatus"] in statuses:
            return job
        assert time.monotonic() < deadline, f"{name} is still {job['ProcessingJobStatus']}"
        time.sleep(0.05)


def log_lines(logs: Any, name: str) -> list[str]:
    """Every line of the job's streams, as SDK 2.x reads them (streams by prefix)."""
    try:
        streams = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=f"{name}/")
    except logs.exceptions.ResourceNotFoundException:
        return []
    lines = []
    for stream in streams["logStreams"]:
        events = logs.get_log_events(
            logGroupName=GROUP, logStreamName=stream["logStreamName"], startFromHead=True
        )["events"]
        lines += [event["message"] for event in events]
    return lines


def wait_for_line(logs: Any, name: str, text: str) -> None:
    deadline = time.monotonic() + 60
    while text not in log_lines(logs, name):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {name}'s log"
        time.sleep(0.05)


def body(s3: Any, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket="bkt", Key=key)["Body"].read()
    return data


SPLIT = """
import csv, os, sys, sklearn
rows = list(csv.reader(open("/opt/ml/processing/input/data/rows.csv")))
print("args", sys.argv[1:], "stage", os.environ.get("STAGE"))
with open("/opt/ml/processing/train/train.csv", "w") as f:
    f.write("".join(",".join(r) + "\\n" for r in rows[:2]))
open("/opt/ml/output/message", "w").write("split 2 rows")
"""


def test_sklearn_processor_job_completes_with_outputs_logs_and_fields(
    clients: tuple[Any, Any, Any],
) -> None:
    sagemaker, s3, logs = clients
    request = script_job(
        sagemaker,
        s3,
        "sklearn-split",
        SPLIT,
        AppSpecification={
            "ImageUri": SKLEARN,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/process.py"],
            "ContainerArguments": ["--ratio", "0.5"],
        },
        Environment={"STAGE": "dev"},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        NetworkConfig={"EnableNetworkIsolation": False},
        ExperimentConfig={"ExperimentName": "exp", "TrialName": "trial"},
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    job = wait_until(sagemaker, "sklearn-split")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ExitMessage"] == "split 2 rows"
    assert "FailureReason" not in job
    assert job["CreationTime"] <= job["ProcessingStartTime"] <= job["ProcessingEndTime"]
    assert job["ProcessingJobArn"].endswith(":processing-job/sklearn-split")
    for member in ("Environment", "ExperimentConfig", "NetworkConfig", "RoleArn"):
        assert job[member] == request[member]
    assert job["ProcessingInputs"] == request["ProcessingInputs"]
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 600}
    assert body(s3, "sklearn-split/output/train/train.csv") == b"1,2\n3,4\n"
    streams = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert [s["logStreamName"].rsplit("-", 1)[0] for s in streams] == ["sklearn-split/algo-1"]
    assert "args ['--ratio', '0.5'] stage dev" in log_lines(logs, "sklearn-split")
    summary = sagemaker.list_processing_jobs()["ProcessingJobSummaries"][0]
    assert summary["ProcessingJobStatus"] == "Completed"
    assert summary["ExitMessage"] == "split 2 rows"
    tags = sagemaker.list_tags(ResourceArn=job["ProcessingJobArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]


RUNPROC = """#!/bin/bash

cd /opt/ml/processing/input/code/
tar -xzf sourcedir.tar.gz

# Exit on any error. SageMaker uses error code to mark failed job.
set -e

if [[ -f 'requirements.txt' ]]; then
    # Some py3 containers has typing, which may breaks pip install
    pip uninstall --yes typing

    python -m pip install -r requirements.txt
fi

python process.py "$@"
"""

FRAMEWORK_SCRIPT = """
import sys, six, sklearn
print("prefix", sys.prefix)
print("args", sys.argv[1:])
open("/opt/ml/processing/train/done.txt", "w").write("framework")
"""


def test_framework_processor_runs_runproc_with_its_own_pip(
    clients: tuple[Any, Any, Any],
) -> None:
    """FrameworkProcessor: sourcedir.tar.gz as input `code`, the generated runproc.sh as input
    `entrypoint`, run by /bin/bash; its `pip install -r requirements.txt` goes into the host's
    own environment (satisfied here by the packages beside sagestack), never sagestack's."""
    sagemaker, s3, logs = clients
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in (("process.py", FRAMEWORK_SCRIPT), ("requirements.txt", "six\n")):
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    s3.put_object(Bucket="bkt", Key="fw/source/sourcedir.tar.gz", Body=buffer.getvalue())
    s3.put_object(Bucket="bkt", Key="fw/source/runproc.sh", Body=RUNPROC.encode())
    sagemaker.create_processing_job(
        ProcessingJobName="framework",
        ProcessingInputs=[
            s3_input("input-1", "s3://bkt/raw/rows.csv", "/opt/ml/processing/input/data"),
            s3_input(
                "code", "s3://bkt/fw/source/sourcedir.tar.gz", "/opt/ml/processing/input/code/"
            ),
            s3_input(
                "entrypoint", "s3://bkt/fw/source/runproc.sh", "/opt/ml/processing/input/entrypoint"
            ),
        ],
        ProcessingOutputConfig={
            "Outputs": [s3_output("train", "s3://bkt/fw/output/train", "/opt/ml/processing/train")]
        },
        ProcessingResources=CLUSTER,
        AppSpecification={
            "ImageUri": SKLEARN,
            "ContainerEntrypoint": ["/bin/bash", "/opt/ml/processing/input/entrypoint/runproc.sh"],
            "ContainerArguments": ["--ratio", "0.25"],
        },
        RoleArn=ROLE,
    )
    job = wait_until(sagemaker, "framework")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert body(s3, "fw/output/train/done.txt") == b"framework"
    lines = log_lines(logs, "framework")
    assert "args ['--ratio', '0.25']" in lines
    prefix = next(line for line in lines if line.startswith("prefix "))
    assert sys.prefix not in prefix.split()[1:]


def test_a_failing_script_fails_the_job_as_an_algorithm_error(
    clients: tuple[Any, Any, Any],
) -> None:
    sagemaker, s3, _ = clients
    script_job(sagemaker, s3, "fails", "raise ValueError('no rows to split')\n")
    job = wait_until(sagemaker, "fails")
    assert job["ProcessingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: ")
    assert "ValueError: no rows to split" in reason
    assert reason.endswith(", exit code: 1")
    script = "import sys\nopen('/opt/ml/output/message', 'w').write('bad schema')\nsys.exit(3)\n"
    script_job(sagemaker, s3, "fails-with-message", script)
    job = wait_until(sagemaker, "fails-with-message")
    assert job["FailureReason"] == "AlgorithmError: bad schema, exit code: 3"
    assert job["ExitMessage"] == "bad schema"


SLEEPER = """
import os, signal, sys, time
def stop(*_):
    print("stopping on SIGTERM", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
os.makedirs("/opt/ml/processing/live", exist_ok=True)
open("/opt/ml/processing/live/progress.txt", "w").write("half way")
print("sleeping", flush=True)
time.sleep(120)
"""


def test_stop_processing_job_stops_it_and_continuous_outputs_go_up_while_it_runs(
    clients: tuple[Any, Any, Any],
) -> None:
    sagemaker, s3, logs = clients
    outputs = [s3_output("live", "s3://bkt/live", "/opt/ml/processing/live", "Continuous")]
    script_job(sagemaker, s3, "stopped", SLEEPER, ProcessingOutputConfig={"Outputs": outputs})
    wait_for_line(logs, "stopped", "sleeping")
    deadline = time.monotonic() + 30
    while "Contents" not in s3.list_objects_v2(Bucket="bkt", Prefix="live/"):
        assert time.monotonic() < deadline, "the Continuous output never reached S3"
        time.sleep(0.05)
    assert body(s3, "live/progress.txt") == b"half way"
    job = sagemaker.describe_processing_job(ProcessingJobName="stopped")
    assert job["ProcessingJobStatus"] == "InProgress"
    sagemaker.stop_processing_job(ProcessingJobName="stopped")
    status = sagemaker.describe_processing_job(ProcessingJobName="stopped")["ProcessingJobStatus"]
    assert status in ("Stopping", "Stopped")
    job = wait_until(sagemaker, "stopped")
    assert job["ProcessingJobStatus"] == "Stopped"
    assert "ProcessingEndTime" in job
    assert "stopping on SIGTERM" in log_lines(logs, "stopped")
    with pytest.raises(ClientError) as error:
        sagemaker.stop_processing_job(ProcessingJobName="stopped")
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "status Stopped" in error.value.response["Error"]["Message"]


def test_max_runtime_stops_the_job(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    outputs = [s3_output("live", "s3://bkt/late", "/opt/ml/processing/live")]
    script_job(
        sagemaker,
        s3,
        "too-long",
        SLEEPER,
        ProcessingOutputConfig={"Outputs": outputs},
        StoppingCondition={"MaxRuntimeInSeconds": 1},
    )
    job = wait_until(sagemaker, "too-long")
    assert job["ProcessingJobStatus"] == "Stopped"
    assert job["FailureReason"].startswith("MaxRuntimeExceeded")


SHARD = """
import json, os
config = json.load(open("/opt/ml/config/resourceconfig.json"))
host = config["current_host"]
job = json.load(open("/opt/ml/config/processingjobconfig.json"))
assert job["ProcessingJobName"] == "sharded", job
out = "/opt/ml/processing/out"
report = {
    "hosts": config["hosts"],
    "sharded": sorted(os.listdir("/opt/ml/processing/input/parts")),
    "replicated": sorted(os.listdir("/opt/ml/processing/input/all")),
}
open(os.path.join(out, host + ".json"), "w").write(json.dumps(report))
"""


def test_instances_run_one_process_each_and_sharded_inputs_are_split(
    clients: tuple[Any, Any, Any],
) -> None:
    sagemaker, s3, _ = clients
    for index in range(4):
        s3.put_object(Bucket="bkt", Key=f"parts/part-{index}.csv", Body=b"1\n")
    script_job(
        sagemaker,
        s3,
        "sharded",
        SHARD,
        ProcessingInputs=[
            s3_input(
                "parts",
                "s3://bkt/parts/",
                "/opt/ml/processing/input/parts",
                S3DataDistributionType="ShardedByS3Key",
            ),
            s3_input("all", "s3://bkt/parts/", "/opt/ml/processing/input/all"),
            s3_input(
                "code", "s3://bkt/sharded/input/code/process.py", "/opt/ml/processing/input/code"
            ),
        ],
        ProcessingOutputConfig={
            "Outputs": [s3_output("out", "s3://bkt/sharded/out", "/opt/ml/processing/out")]
        },
        ProcessingResources={
            "ClusterConfig": {
                "InstanceCount": 2,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 5,
            }
        },
    )
    job = wait_until(sagemaker, "sharded")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    reports = {h: json.loads(body(s3, f"sharded/out/{h}.json")) for h in ("algo-1", "algo-2")}
    everything = [f"part-{i}.csv" for i in range(4)]
    assert reports["algo-1"]["sharded"] == ["part-0.csv", "part-2.csv"]
    assert reports["algo-2"]["sharded"] == ["part-1.csv", "part-3.csv"]
    assert all(r["replicated"] == everything for r in reports.values())
    assert all(r["hosts"] == ["algo-1", "algo-2"] for r in reports.values())


def test_manifest_input_and_an_empty_prefix(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, logs = clients
    manifest = b'[{"prefix": "s3://bkt/raw/"}, "rows.csv"]'
    s3.put_object(Bucket="bkt", Key="manifests/rows.json", Body=manifest)
    listing = "import os\nprint('files', sorted(os.listdir('/opt/ml/processing/input/m')))\n"
    script_job(
        sagemaker,
        s3,
        "manifest",
        listing,
        ProcessingInputs=[
            s3_input(
                "m",
                "s3://bkt/manifests/rows.json",
                "/opt/ml/processing/input/m",
                S3DataType="ManifestFile",
            ),
            s3_input(
                "code", "s3://bkt/manifest/input/code/process.py", "/opt/ml/processing/input/code"
            ),
        ],
    )
    assert wait_until(sagemaker, "manifest")["ProcessingJobStatus"] == "Completed"
    assert "files ['rows.csv']" in log_lines(logs, "manifest")
    script_job(
        sagemaker,
        s3,
        "no-data",
        listing,
        ProcessingInputs=[s3_input("m", "s3://bkt/nothing/", "/opt/ml/processing/input/m")],
    )
    job = wait_until(sagemaker, "no-data")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: No S3 objects found under S3 URL")


def test_unknown_image_and_a_framework_image_without_entrypoint_fail(
    clients: tuple[Any, Any, Any],
) -> None:
    sagemaker, s3, _ = clients
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/does-not-exist:1"
    script_job(sagemaker, s3, "no-image", SPLIT, AppSpecification={"ImageUri": image})
    job = wait_until(sagemaker, "no-image")
    assert job["FailureReason"].startswith("ClientError: Cannot pull algorithm container.")
    script_job(sagemaker, s3, "no-entrypoint", SPLIT, AppSpecification={"ImageUri": SKLEARN})
    job = wait_until(sagemaker, "no-entrypoint")
    assert job["ProcessingJobStatus"] == "Failed"
    assert "ContainerEntrypoint" in job["FailureReason"]


def test_network_isolation_leaves_the_job_no_network(
    clients: tuple[Any, Any, Any], server: ServerProcess
) -> None:
    sagemaker, s3, _ = clients
    port = server.url.rsplit(":", 1)[1]
    script = (
        "import socket\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "print('reached the server')\n"
    )
    script_job(sagemaker, s3, "isolated", script, NetworkConfig={"EnableNetworkIsolation": True})
    job = wait_until(sagemaker, "isolated")
    assert job["ProcessingJobStatus"] == "Failed"
    assert "[Errno 101] Network is unreachable" in job["FailureReason"]


def invalid(sagemaker: Any, s3: Any, **overrides: Any) -> str:
    with pytest.raises(ClientError) as error:
        script_job(sagemaker, s3, "bad", SPLIT, **overrides)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    return str(error.value.response["Error"]["Message"])


def test_bad_requests_are_refused_in_sagemakers_words_and_nothing_is_stored(
    clients: tuple[Any, Any, Any],
) -> None:
    sagemaker, s3, _ = clients
    code = s3_input("code", "s3://bkt/bad/input/code/process.py", "/opt/ml/processing/input/code")
    pipe = s3_input("d", "s3://bkt/raw/", "/opt/ml/processing/input/d", S3InputMode="Pipe")
    assert "Pipe input mode" in invalid(sagemaker, s3, ProcessingInputs=[pipe, code])
    gzip = s3_input("d", "s3://bkt/raw/", "/opt/ml/processing/input/d", S3CompressionType="Gzip")
    message = invalid(sagemaker, s3, ProcessingInputs=[gzip, code])
    assert "Gzip can only be used when Pipe mode is specified" in message
    athena = {
        "InputName": "q",
        "DatasetDefinition": {
            "AthenaDatasetDefinition": {
                "Catalog": "c",
                "Database": "d",
                "QueryString": "select 1",
                "OutputS3Uri": "s3://bkt/q/",
                "OutputFormat": "PARQUET",
            },
            "LocalPath": "/opt/ml/processing/input/q",
        },
    }
    assert "not available" in invalid(sagemaker, s3, ProcessingInputs=[athena, code])
    outside = s3_input("d", "s3://bkt/raw/", "/tmp/data")
    assert "must begin with /opt/ml/processing/" in invalid(
        sagemaker, s3, ProcessingInputs=[outside, code]
    )
    twice = s3_input("code", "s3://bkt/raw/", "/opt/ml/processing/input/other")
    assert "InputName must be unique" in invalid(sagemaker, s3, ProcessingInputs=[twice, code])
    same_path = s3_input("d", "s3://bkt/raw/", "/opt/ml/processing/input/code/")
    assert "LocalPath must be unique" in invalid(sagemaker, s3, ProcessingInputs=[same_path, code])
    bad_bucket = s3_output("o", "s3://B/x", "/opt/ml/processing/o")
    assert "Invalid S3 URI" in invalid(
        sagemaker, s3, ProcessingOutputConfig={"Outputs": [bad_bucket]}
    )
    assert sagemaker.list_processing_jobs()["ProcessingJobSummaries"] == []


def test_describe_list_delete_and_duplicate_names(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    with pytest.raises(ClientError) as error:
        sagemaker.describe_processing_job(ProcessingJobName="missing")
    assert error.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Could not find requested job with name missing",
    }
    script_job(sagemaker, s3, "slow", SLEEPER)
    with pytest.raises(ClientError) as error:
        script_job(sagemaker, s3, "slow", SPLIT)
    assert error.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError) as error:
        sagemaker.delete_processing_job(ProcessingJobName="slow")
    assert error.value.response["Error"]["Code"] == "ResourceInUse"
    script_job(sagemaker, s3, "quick", "print('done')\n")
    wait_until(sagemaker, "quick")
    page = sagemaker.list_processing_jobs(StatusEquals="InProgress")["ProcessingJobSummaries"]
    assert [job["ProcessingJobName"] for job in page] == ["slow"]
    page = sagemaker.list_processing_jobs(SortBy="Name", SortOrder="Ascending", MaxResults=1)
    assert [job["ProcessingJobName"] for job in page["ProcessingJobSummaries"]] == ["quick"]
    sagemaker.delete_processing_job(ProcessingJobName="quick")
    with pytest.raises(ClientError) as error:
        sagemaker.delete_processing_job(ProcessingJobName="quick")
    assert error.value.response["Error"]["Code"] == "ResourceNotFound"
    sagemaker.stop_processing_job(ProcessingJobName="slow")
    wait_until(sagemaker, "slow")


def test_a_restart_never_leaves_a_job_in_progress(data_dir: Path) -> None:
    first = ServerProcess(data_dir).start()
    sagemaker, s3 = make_client(first.url, "sagemaker"), make_client(first.url, "s3")
    logs = make_client(first.url, "logs")
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="raw/rows.csv", Body=b"1\n")
    script_job(sagemaker, s3, "interrupted", SLEEPER)
    wait_for_line(logs, "interrupted", "sleeping")
    first.kill()
    second = ServerProcess(data_dir).start()
    try:
        job = wait_until(make_client(second.url, "sagemaker"), "interrupted")
        assert job["ProcessingJobStatus"] == "Failed"
        assert "restarted" in job["FailureReason"]
    finally:
        second.stop()


def test_a_registered_image_runs_its_own_command_with_the_arguments(
    clients: tuple[Any, Any, Any], server: ServerProcess, tmp_path: Path
) -> None:
    sagemaker, s3, logs = clients
    entry = tmp_path / "entry.py"
    entry.write_text(
        "import os, sys\n"
        "print('own image', sys.argv[1:], os.getcwd())\n"
        "open('/opt/ml/processing/train/own.txt', 'w').write('mine')\n"
    )
    images = server.data_dir / "images.json"
    before = images.read_text() if images.exists() else None
    registered = parse_registry(before or "")
    registered["my-processor:1"] = LocalImage((sys.executable, str(entry)), str(tmp_path))
    images.write_text(render_registry(registered))
    try:
        script_job(
            sagemaker,
            s3,
            "own-image",
            SPLIT,
            AppSpecification={"ImageUri": "my-processor:1", "ContainerArguments": ["--x", "1"]},
        )
        job = wait_until(sagemaker, "own-image")
    finally:
        if before is None:
            images.unlink()
        else:
            images.write_text(before)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert f"own image ['--x', '1'] {tmp_path}" in log_lines(logs, "own-image")
    assert body(s3, "own-image/output/train/own.txt") == b"mine"
