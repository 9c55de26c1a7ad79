"""Batch transform benchmark: a 1,000,000-row CSV through a transform job against the same
rows predicted in one process, in one run.

What it measures:

* the limit: one Python process reads the CSV file, decodes it, calls `model.predict` on every
  row and encodes the predictions, with the very codecs sagestack's model server uses
  (`np.loadtxt` in, `np.savetxt` out): the work a transform cannot avoid, with no splitting,
  no HTTP, no object store and no second process;
* sagestack: CreateTransformJob through boto3 against a live server (the CSV in its S3,
  SplitType Line, BatchStrategy MultiRecord, everything else left to the defaults: the model
  server's /execution-parameters), timed from the call to DescribeTransformJob answering
  Completed (replica start-up included) and, separately, over the records alone (the data log's
  first and last line); the output is checked against the in-process predictions.

Target, reported and never asserted: at least half the limit's records/s. Run from the
repository root:

    .venv/bin/python bench/transform/run.py [--rows 1000000] [--readme]

It prints the table, and with --readme writes it into bench/README.md between the
`<!-- transform:results -->` markers.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LinearRegression

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "src"))

from tests.conftest import make_client  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

from sagestack.containers.serving import codecs  # noqa: E402

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
FEATURES = 5
INFERENCE = b"""
import os, joblib
def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_data(scratch: Path, rows: int) -> tuple[LinearRegression, Path]:
    rng = np.random.default_rng(3)
    features = np.round(rng.uniform(size=(rows, FEATURES)), 4)
    weights = np.arange(1, FEATURES + 1, dtype=float)
    model = LinearRegression().fit(features[:1000], features[:1000] @ weights + 0.5)
    path = scratch / "rows.csv"
    with path.open("w") as handle:
        for start in range(0, rows, 100_000):
            np.savetxt(handle, features[start : start + 100_000], delimiter=",", fmt="%.4f")
    return model, path


def in_process(model: LinearRegression, path: Path) -> tuple[float, bytes]:
    """Seconds to read, decode, predict and encode every row in this process."""
    started = time.perf_counter()
    data = path.read_bytes()
    predictions = model.predict(codecs.decode(data, "text/csv", np.float32))
    encoded = codecs.encode(predictions, "text/csv")
    return time.perf_counter() - started, encoded


def through_sagestack(
    url: str, scratch: Path, model: LinearRegression, path: Path
) -> dict[str, float]:
    sagemaker, s3, logs = (make_client(url, s) for s in ("sagemaker", "s3", "logs"))
    s3.create_bucket(Bucket="bench")
    joblib.dump(model, scratch / "model.joblib")
    s3.put_object(
        Bucket="bench",
        Key="model/model.tar.gz",
        Body=tarball({"model.joblib": (scratch / "model.joblib").read_bytes()}),
    )
    s3.put_object(
        Bucket="bench", Key="model/sourcedir.tar.gz", Body=tarball({"inference.py": INFERENCE})
    )
    s3.upload_file(str(path), "bench", "input/rows.csv")
    sagemaker.create_model(
        ModelName="bench",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": SKLEARN,
            "ModelDataUrl": "s3://bench/model/model.tar.gz",
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "s3://bench/model/sourcedir.tar.gz",
            },
        },
    )
    started = time.time()
    sagemaker.create_transform_job(
        TransformJobName="bench",
        ModelName="bench",
        BatchStrategy="MultiRecord",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench/input/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={
            "S3OutputPath": "s3://bench/output/",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    while True:
        job = sagemaker.describe_transform_job(TransformJobName="bench")
        if job["TransformJobStatus"] not in ("InProgress", "Stopping"):
            break
        time.sleep(0.02)
    total = time.time() - started
    if job["TransformJobStatus"] != "Completed":
        raise RuntimeError(f"transform {job['TransformJobStatus']}: {job.get('FailureReason')}")
    group = "/aws/sagemaker/TransformJobs"
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="bench/")
    data_log = next(
        s["logStreamName"] for s in streams["logStreams"] if s["logStreamName"].endswith("data-log")
    )
    events = logs.get_log_events(logGroupName=group, logStreamName=data_log, startFromHead=True)
    stamps = [e["timestamp"] / 1000 for e in events["events"]]
    got = s3.get_object(Bucket="bench", Key="output/rows.csv.out")["Body"].read()
    return {
        "total": total,
        "records": stamps[-1] - stamps[0],
        "concurrency": float(job["MaxConcurrentTransforms"]),
        "payload": float(job["MaxPayloadInMB"]),
        "output": float(len(got.split())),
        "correct": float(
            np.allclose(
                np.array(got.split(), dtype=float),
                model.predict(np.loadtxt(path, delimiter=",", dtype=np.float32)),
                atol=1e-3,
            )
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sagestack-bench-") as name:
        scratch = Path(name)
        model, path = make_data(scratch, args.rows)
        limit, _ = in_process(model, path)
        server = ServerProcess(scratch / "data").start()
        try:
            result = through_sagestack(server.url, scratch, model, path)
        finally:
            server.stop()
        size_mb = path.stat().st_size / 1e6
    table = render(args.rows, size_mb, limit, result)
    print(table)
    if args.readme:
        write_readme(table)
    return 0


def render(rows: int, size_mb: float, limit: float, result: dict[str, float]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ratio = (rows / result["total"]) / (rows / limit)
    records_ratio = limit / result["records"]
    met = "met (≥ 50%)" if ratio >= 0.5 else "not met (≥ 50%)"
    return "\n".join(
        [
            f"Run {when} · {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()} · {rows:,} rows x {FEATURES} features, "
            f"{size_mb:.0f} MB of CSV, scikit-learn LinearRegression",
            "",
            "| path | seconds | records/s | share of the limit | target |",
            "| --- | ---: | ---: | ---: | --- |",
            f"| in one process: read, decode, `model.predict`, encode (the limit) | {limit:.2f} | "
            f"{rows / limit:,.0f} | 100% | |",
            f"| transform job: CreateTransformJob → Completed | {result['total']:.2f} | "
            f"{rows / result['total']:,.0f} | {ratio:.0%} | {met} |",
            f"| transform job: the records alone (data log, first to last line) | "
            f"{result['records']:.2f} | {rows / result['records']:,.0f} | {records_ratio:.0%} | |",
            "",
            f"- Defaults as the job resolved them: MaxConcurrentTransforms "
            f"{result['concurrency']:.0f} (one model-server worker per vCPU of ml.m5.large), "
            f"MaxPayloadInMB {result['payload']:.0f}, BatchStrategy MultiRecord; 1 instance. "
            f"Output: {result['output']:,.0f} predictions, "
            f"{'equal to' if result['correct'] else 'DIFFERENT from'} the in-process ones.",
            "",
        ]
    )


def write_readme(table: str) -> None:
    readme = REPO_ROOT / "bench" / "README.md"
    text = readme.read_text()
    start, end = "<!-- transform:results -->", "<!-- /transform:results -->"
    if start not in text:
        raise SystemExit("bench/README.md has no transform markers")
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    readme.write_text(f"{before}{start}\n{table}{end}{after}")


if __name__ == "__main__":
    raise SystemExit(main())
