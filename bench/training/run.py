"""Training benchmark: a job through sagestack against the same script run directly, one run.

What it measures, for a trivial script and for an XGBoost fit on 100,000 rows:

* the limit: the script run directly with this Python (`python train.py`, channel and model
  directories given through the same SM_* variables), timed to its first output line and to
  its exit;
* sagestack: CreateTrainingJob through boto3 against a live server (data in its S3), timed
  from the call to the script's first log line (the line's CloudWatch Logs timestamp) and to
  DescribeTrainingJob answering Completed (polled every 20 ms), model.tar.gz uploaded.

The difference is the platform's overhead per job (target: under 1 s). Each row is the median
of `--repeat` runs. Run from the repository root:

    .venv/bin/python bench/training/run.py [--repeat 3] [--readme]

It prints the table, and with --readme writes it into bench/README.md between the
`<!-- training:results -->` markers.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from tests.conftest import make_client  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
MARKER = "first line of the script"

TRIVIAL = f"""
import os
print({MARKER!r}, flush=True)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("trained")
"""

XGBOOST = f"""
import os
print({MARKER!r}, flush=True)
import numpy as np, xgboost as xgb
data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv"), delimiter=",")
booster = xgb.train({{"objective": "reg:squarederror", "max_depth": 6, "nthread": 2}},
                    xgb.DMatrix(data[:, 1:], label=data[:, 0]), num_boost_round=50)
booster.save_model(os.path.join(os.environ["SM_MODEL_DIR"], "xgboost-model"))
print("done", flush=True)
"""


def rows_csv(count: int) -> bytes:
    lines = []
    for index in range(count):
        features = [((index * 7919 + k * 104729) % 1000) / 1000 for k in range(10)]
        label = 3 * features[0] - 2 * features[1] + features[2] * features[3]
        lines.append(",".join(f"{v:.4f}" for v in [label, *features]))
    return ("\n".join(lines) + "\n").encode()


def direct(script: str, data: bytes, scratch: Path) -> tuple[float, float]:
    """Seconds to the first output line and to the exit of `python train.py`."""
    channel, model = scratch / "train", scratch / "model"
    channel.mkdir(parents=True, exist_ok=True)
    model.mkdir(exist_ok=True)
    (channel / "rows.csv").write_bytes(data)
    (scratch / "train.py").write_text(script)
    env = {**os.environ, "SM_CHANNEL_TRAIN": str(channel), "SM_MODEL_DIR": str(model)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "train.py"], cwd=scratch, env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    first_at = time.perf_counter() - started
    assert MARKER in first
    process.stdout.read()
    assert process.wait() == 0
    return first_at, time.perf_counter() - started


def source(script: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = script.encode()
        info = tarfile.TarInfo("train.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def through_sagestack(url: str, name: str, script: str) -> tuple[float, float]:
    sagemaker, s3, logs = (make_client(url, s) for s in ("sagemaker", "s3", "logs"))
    s3.put_object(Bucket="bench", Key=f"{name}/source/sourcedir.tar.gz", Body=source(script))
    started = time.time()
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": SKLEARN, "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
        OutputDataConfig={"S3OutputPath": "s3://bench/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://bench/data/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
        HyperParameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"s3://bench/{name}/source/sourcedir.tar.gz"',
        },
    )
    while True:
        job = sagemaker.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] != "InProgress":
            break
        time.sleep(0.02)
    completed = time.time() - started
    if job["TrainingJobStatus"] != "Completed":
        raise RuntimeError(f"{name}: {job['TrainingJobStatus']} {job.get('FailureReason')}")
    stream = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/"
    )["logStreams"][0]["logStreamName"]
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream, startFromHead=True
    )["events"]
    first = next(e["timestamp"] for e in events if MARKER in e["message"]) / 1000
    return first - started, completed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args()
    data = rows_csv(args.rows)
    rows: list[tuple[str, list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="sagestack-bench-") as scratch:
        server = ServerProcess(Path(scratch) / "data").start()
        try:
            s3 = make_client(server.url, "s3")
            s3.create_bucket(Bucket="bench")
            s3.put_object(Bucket="bench", Key="data/rows.csv", Body=data)
            for label, script in (
                ("trivial script", TRIVIAL),
                (f"XGBoost, {args.rows:,} rows", XGBOOST),
            ):
                samples: dict[str, list[float]] = {k: [] for k in ("df", "dt", "sf", "st")}
                for attempt in range(args.repeat + 1):  # the first run warms caches, not counted
                    first, total = direct(script, data, Path(scratch) / f"direct-{attempt}")
                    job = (
                        f"bench-{label.split()[0].lower().strip(',')}-{attempt}-{int(time.time())}"
                    )
                    s_first, s_total = through_sagestack(server.url, job, script)
                    if attempt:
                        for key, value in zip(
                            ("df", "dt", "sf", "st"), (first, total, s_first, s_total), strict=True
                        ):
                            samples[key].append(value)
                medians = [statistics.median(samples[k]) for k in ("df", "dt", "sf", "st")]
                rows.append((label, medians))
        finally:
            server.stop()
    table = render(rows, args.repeat)
    print(table)
    if args.readme:
        write_readme(table)
    return 0


def render(rows: list[tuple[str, list[float]]], repeat: int) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {when} · {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()} · median of {repeat} runs",
        "",
        "| job | first line: python | first line: sagestack | done: python "
        "| done: sagestack (Completed, model uploaded) | overhead | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, (df, dt, sf, st) in rows:
        overhead = st - dt
        met = "met (< 1 s)" if overhead < 1 else "not met (< 1 s)"
        lines.append(
            f"| {label} | {df * 1000:.0f} ms | {sf * 1000:.0f} ms | {dt * 1000:.0f} ms | "
            f"{st * 1000:.0f} ms | {overhead * 1000:+.0f} ms | {met} |"
        )
    return "\n".join(lines) + "\n"


def write_readme(table: str) -> None:
    readme = REPO_ROOT / "bench" / "README.md"
    text = readme.read_text()
    start, end = "<!-- training:results -->", "<!-- /training:results -->"
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    readme.write_text(f"{before}{start}\n{table}{end}{after}")


if __name__ == "__main__":
    raise SystemExit(main())
