"""Hosting benchmark: InvokeEndpoint through sagestack against the replica's own /invocations.

What it measures, for a scikit-learn model (LinearRegression on 4 features, CSV in and out):

* the limit: POST /invocations straight to one replica's model server (the same process that
  serves the endpoint), over one keep-alive connection per client;
* sagestack: POST /endpoints/<name>/invocations on sagestack's port (the sagemaker-runtime
  route boto3 uses), which routes to a variant and replica and proxies over pooled keep-alive
  connections;
* for one replica and for two, with 1 client and with 4 concurrent client processes: p50/p99
  latency and requests/s; and the time from CreateEndpoint to InService.

Clients are raw `http.client` loops (boto3's own ~1 ms per call would hide the difference).
Targets, reported and never asserted: added latency under 1 ms at p50, throughput within 80%
of direct, CreateEndpoint → InService under 3 s. Run from the repository root:

    .venv/bin/python bench/hosting/run.py [--seconds 3] [--readme]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from bench.peers import peer_venv  # noqa: E402
from tests.conftest import make_client  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
BODY = b"0.1,0.2,0.3,0.4\n"


def model_file() -> bytes:
    """The model, as joblib writes it: a LinearRegression on 4 features."""
    import joblib
    import numpy as np
    from sklearn.linear_model import LinearRegression

    features = np.random.default_rng(1).uniform(size=(100, 4))
    model = LinearRegression().fit(features, features.sum(axis=1))
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def model_archive(model: bytes) -> bytes:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(model)
        tar.addfile(info, io.BytesIO(model))
    return archive.getvalue()


@contextlib.contextmanager
def ray_serve(model: Path, replicas: int, scratch: Path) -> Iterator[tuple[str, int]]:
    """The same model in Ray Serve (bench/hosting/ray_peer.py in the Ray venv), N replicas."""
    python = peer_venv("ray") / "bin" / "python"
    port = free_port()
    peer = subprocess.Popen(
        [str(python), str(Path(__file__).with_name("ray_peer.py")), str(model), str(replicas),
         str(port), str(scratch)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert peer.stdout is not None
        if peer.stdout.readline().strip() != "ready":
            raise RuntimeError("Ray Serve did not start")
        yield ("127.0.0.1", port)
    finally:
        assert peer.stdin is not None
        peer.stdin.close()
        try:
            peer.wait(60)
        except subprocess.TimeoutExpired:
            peer.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def client_loop(
    address: tuple[str, int], path: str, seconds: float, out: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    connection = http.client.HTTPConnection(*address)
    headers = {"Content-Type": "text/csv", "Accept": "text/csv"}
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        connection.request("POST", path, body=BODY, headers=headers)
        reply = connection.getresponse()
        reply.read()
        if reply.status != 200:
            raise RuntimeError(f"{path}: HTTP {reply.status}")
        latencies.append(time.perf_counter() - started)
    out.put(latencies)


def measure(
    address: tuple[str, int], path: str, clients: int, seconds: float
) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, requests/s) of `clients` processes posting for `seconds`."""
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    workers = [
        multiprocessing.Process(target=client_loop, args=(address, path, seconds, queue))
        for _ in range(clients)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    latencies = [value for _ in workers for value in queue.get()]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return p50, p99, len(latencies) / elapsed


def replica_ports(data_dir: Path) -> list[int]:
    ports = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not os.readlink(entry / "cwd").startswith(str(data_dir)):
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in environ:
            if item.startswith(b"SAGEMAKER_BIND_TO_PORT="):
                ports.append(int(item.split(b"=", 1)[1]))
    return sorted(set(ports))


def deploy(url: str, name: str, replicas: int) -> float:
    sagemaker = make_client(url, "sagemaker")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "bench",
                "InitialInstanceCount": replicas,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    started = time.perf_counter()
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    while True:
        status = sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"]
        if status == "InService":
            return time.perf_counter() - started
        if status == "Failed":
            raise RuntimeError(f"{name} failed")
        time.sleep(0.02)


Measurement = tuple[float, float, float]
#: replicas, clients, CreateEndpoint → InService, sagestack, direct, Ray Serve (or None)
Row = tuple[int, int, float, Measurement, Measurement, Measurement | None]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--readme", action="store_true")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray Serve peer")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="sagestack-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        model = model_file()
        (Path(scratch) / "model.joblib").write_bytes(model)
        server = ServerProcess(data_dir, extra_env={"SAGESTACK_LOG_LEVEL": "warning"}).start()
        try:
            s3 = make_client(server.url, "s3")
            s3.create_bucket(Bucket="bench")
            s3.put_object(Bucket="bench", Key="model.tar.gz", Body=model_archive(model))
            make_client(server.url, "sagemaker").create_model(
                ModelName="bench",
                PrimaryContainer={"Image": SKLEARN, "ModelDataUrl": "s3://bench/model.tar.gz"},
                ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
            )
            host, port = server.url.removeprefix("http://").split(":")
            for replicas in (1, 2):
                before = set(replica_ports(data_dir))
                ready = deploy(server.url, f"bench-{replicas}", replicas)
                direct = sorted(set(replica_ports(data_dir)) - before)[0]
                for clients in (1, 4):
                    via = measure(
                        (host, int(port)),
                        f"/endpoints/bench-{replicas}/invocations",
                        clients,
                        args.seconds,
                    )
                    limit = measure((host, direct), "/invocations", clients, args.seconds)
                    rows.append((replicas, clients, ready, via, limit, None))
        finally:
            server.stop()
        if not args.no_ray:
            rows = with_ray(rows, Path(scratch), args.seconds)
    table = render(rows)
    print(table)
    if args.readme:
        readme = REPO_ROOT / "bench" / "README.md"
        text = readme.read_text()
        start, end = "<!-- hosting:results -->", "<!-- /hosting:results -->"
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        readme.write_text(f"{before}{start}\n{table}{end}{after}")
    return 0


def with_ray(rows: list[Row], scratch: Path, seconds: float) -> list[Row]:
    """The rows with Ray Serve measured alongside, on as many replicas and with as many
    clients, once sagestack has stopped (one Ray cluster per replica count)."""
    measured: list[Row] = []
    for replicas in sorted({row[0] for row in rows}):
        with ray_serve(scratch / "model.joblib", replicas, scratch) as address:
            for replica_count, clients, ready, via, limit, _ in rows:
                if replica_count == replicas:
                    ray = measure(address, "/invocations", clients, seconds)
                    measured.append((replica_count, clients, ready, via, limit, ray))
    return measured


def render(rows: list[Row]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {when} · {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}",
        "",
        "| replicas | clients | CreateEndpoint → InService | sagestack p50 / p99 "
        "| direct p50 / p99 | added p50 | sagestack req/s | direct req/s (one replica) | ratio "
        "| Ray Serve p50 / p99 | Ray Serve req/s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for replicas, clients, ready, via, limit, ray in rows:
        peer = f"{ray[0]:.2f} / {ray[1]:.2f} ms | {ray[2]:,.0f}" if ray else "not run | not run"
        lines.append(
            f"| {replicas} | {clients} | {ready:.2f} s | {via[0]:.2f} / {via[1]:.2f} ms "
            f"| {limit[0]:.2f} / {limit[1]:.2f} ms | {via[0] - limit[0]:+.2f} ms "
            f"| {via[2]:,.0f} | {limit[2]:,.0f} | {via[2] / limit[2]:.0%} | {peer} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
