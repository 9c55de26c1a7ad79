"""Object-store benchmark: sagestack's S3 API against moto_server's and the local disk, one run.

What it measures: PUT and GET throughput of 1 KiB, 1 MiB and 256 MiB objects against

* sagestack's S3 API (``sagestack serve``, durable: every body is fsynced before it is indexed);
* moto_server's S3 API (moto 5.2.5 in its own venv; it keeps objects in memory);
* the local disk with plain file I/O, the physical limit: ``open``/``write``/``fsync`` of a new
  file of that size (the durability sagestack gives) and reading back a file just written, on
  the same filesystem as sagestack's data dir.

Both servers run for the whole benchmark; each row measures the three sides in turn (for the
large rows, run 1 of every side, then run 2, ...). Clients, all in this process, one at a time:

* 1 KiB and 1 MiB: boto3 ``put_object`` / ``get_object`` (whole body read), back to back for a
  minimum duration; reported as operations/s and MiB/s. GET reads the objects the PUT wrote;
* 256 MiB: boto3's managed transfers, ``upload_file`` / ``download_file`` with a multipart
  ``TransferConfig`` (16 MiB parts, 8 threads), median MiB/s of 3 runs; plus one labelled row
  of a single raw ``http.client`` PUT / GET (unsigned: ``x-amz-content-sha256:
  UNSIGNED-PAYLOAD``), the server's own ceiling without boto3's signing and checksums;
* the servers' resident memory is sampled from ``/proc/<pid>/status`` during the 256 MiB runs.

Run with the project venv, from the repository root::

    .venv/bin/python bench/objectstore/run.py            # full run, a few minutes
    .venv/bin/python bench/objectstore/run.py --quick    # smoke run, well under a minute

The markdown table is printed and written to ``bench/objectstore/results.md`` (or ``--out``);
``--readme`` also replaces the table between the objectstore markers of ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.client
import importlib.metadata
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from bench.peers import peer_venv  # noqa: E402

PROJECT_VENV = REPO_ROOT / ".venv"
MOTO_VENV = REPO_ROOT / ".bench-venv" / "moto"
README = REPO_ROOT / "bench" / "README.md"
DEFAULT_OUT = REPO_ROOT / "bench" / "objectstore" / "results.md"
MARKER_BEGIN = "<!-- objectstore:results -->"
MARKER_END = "<!-- /objectstore:results -->"

SIDES = ("sagestack", "moto", "disk")
SERVERS = ("sagestack", "moto")
REGION = "us-east-1"
BUCKET = "bench-objects"
KIB = 1024
MIB = 1024 * 1024
PART_SIZE = 16 * MIB
TRANSFER_THREADS = 8
IO_CHUNK = MIB  # what the disk side and the raw HTTP client move per call
READY_TIMEOUT_S = 60.0
RSS_SAMPLE_S = 0.02
LARGE_TARGET = 0.7  # large objects: sagestack at this fraction of the disk figure or more
SMALL_TARGET = 2.0  # small objects: sagestack at this multiple of moto or more
LARGE_OPS = ("PUT", "GET", "raw PUT", "raw GET")


@dataclass(frozen=True)
class Plan:
    """Sizes and durations of one run."""

    small: int  # bytes of the "small" object
    medium: int
    large: int
    small_s: float  # minimum seconds of back-to-back calls per small row
    medium_s: float
    large_runs: int  # runs per large row; the median is reported


FULL = Plan(small=KIB, medium=MIB, large=256 * MIB, small_s=2.0, medium_s=3.0, large_runs=3)
QUICK = Plan(small=KIB, medium=MIB, large=64 * MIB, small_s=0.3, medium_s=0.5, large_runs=1)


def size_label(size: int) -> str:
    if size >= MIB:
        return f"{size // MIB} MiB"
    return f"{size // KIB} KiB"


# --------------------------------------------------------------------------- measurements


@dataclass
class Measurement:
    """One side's figure for one row: operations over wall seconds, or several timed runs."""

    size: int
    operations: int = 0
    seconds: float = 0.0
    runs_s: list[float] = field(default_factory=list)  # large rows: seconds of each run
    peak_rss: int = 0  # bytes; large rows of a server only
    server_cpu_s: float = 0.0  # CPU seconds (user + system) of the server over the row
    client_cpu_s: float = 0.0  # CPU seconds of this (client) process over the row

    @property
    def ops_per_s(self) -> float:
        if self.runs_s:
            return 1 / statistics.median(self.runs_s)
        return self.operations / self.seconds if self.seconds > 0 else 0.0

    @property
    def mib_per_s(self) -> float:
        return self.ops_per_s * self.size / MIB


def _timed_loop(minimum_s: float, call: Callable[[int], None]) -> Measurement:
    """``call(0)``, ``call(1)``, ... back to back until ``minimum_s`` has passed."""
    clock = time.perf_counter
    count = 0
    started = clock()
    while (elapsed := clock() - started) < minimum_s:
        call(count)
        count += 1
    return Measurement(size=0, operations=count, seconds=elapsed)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid``, all threads, from ``/proc/<pid>/stat``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


class RssSampler:
    """Samples a process's VmRSS on a thread; ``peak`` is the largest value seen (bytes)."""

    def __init__(self, pid: int) -> None:
        self._path = Path(f"/proc/{pid}/status")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.peak = 0

    def read(self, field_name: str = "VmRSS") -> int:
        try:
            text = self._path.read_text()
        except OSError:
            return 0
        found = re.search(rf"^{field_name}:\s+(\d+) kB", text, re.MULTILINE)
        return int(found.group(1)) * KIB if found else 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.read())
            self._stop.wait(RSS_SAMPLE_S)

    def __enter__(self) -> RssSampler:
        self.peak = self.read()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.read())


# --------------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@dataclass
class RunningServer:
    name: str
    endpoint: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _sagestack_endpoint(server: RunningServer) -> str | None:
    """The URL of sagestack's banner (its first stdout line), once printed."""
    with contextlib.suppress(OSError), server.log_path.open(errors="replace") as log:
        for line in log:
            if "listening on " in line:
                return line.split("listening on ", 1)[1].strip()
    return None


@contextlib.contextmanager
def started_server(name: str, workdir: Path) -> Iterator[RunningServer]:
    """Starts ``name`` on a free loopback port with fresh state in ``workdir``; stops it on exit.

    sagestack picks its own port (``--port 0``) and names it on its first stdout line.
    """
    if name == "sagestack":
        data_dir = workdir / "sagestack-data"
        data_dir.mkdir()
        command = [
            str(PROJECT_VENV / "bin" / "sagestack"),
            "serve",
            "--port", "0",
            "--data-dir", str(data_dir),
        ]  # fmt: skip
    else:
        port = _free_port()
        command = [str(MOTO_VENV / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir
        )
    server = RunningServer(name, "", process, log_path)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {READY_TIMEOUT_S:.0f} s")
            if name == "sagestack":
                server.endpoint = _sagestack_endpoint(server) or ""
                ready_url = f"{server.endpoint}/_sagestack/health"
            else:
                server.endpoint = f"http://127.0.0.1:{port}"
                ready_url = f"{server.endpoint}/moto-api/"
            if server.endpoint and _answers(ready_url):
                break
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


def ensure_moto_venv() -> None:
    """Creates or refreshes ``.bench-venv/moto`` from ``bench/requirements-moto.txt``."""
    peer_venv("moto")


# --------------------------------------------------------------------------- the sides


def _s3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": "path"},
            max_pool_connections=TRANSFER_THREADS + 2,
        ),
    )


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(
        multipart_threshold=PART_SIZE,
        multipart_chunksize=PART_SIZE,
        max_concurrency=TRANSFER_THREADS,
        use_threads=True,
    )


class Side:
    """One of the three things measured; the operations each row times."""

    name = ""
    pid: int | None = None  # the server process, whose memory and CPU are sampled

    def put(self, key: str, payload: bytes) -> None:
        raise NotImplementedError

    def get(self, key: str, size: int) -> None:
        raise NotImplementedError

    def upload(self, key: str) -> None:
        """The large source file, as users store it (boto3's managed transfer)."""
        raise NotImplementedError

    def download(self, key: str) -> None:
        raise NotImplementedError

    def raw_put(self, key: str) -> None:
        """The large source file in one request, without boto3."""
        raise NotImplementedError

    def raw_get(self, key: str) -> None:
        raise NotImplementedError

    def after_download(self) -> None:
        """Untimed clean-up after a large GET."""


class ServerSide(Side):
    """A server's S3 API through boto3 (and ``http.client`` for the raw rows)."""

    def __init__(self, server: RunningServer, source: Path, large: int, scratch: Path) -> None:
        self.name = server.name
        self.pid = server.process.pid
        self._client = _s3_client(server.endpoint)
        self._client.create_bucket(Bucket=BUCKET)
        self._config = _transfer_config()
        self._source = source
        self._large = large
        self._target = scratch / f"{server.name}-download"

    def put(self, key: str, payload: bytes) -> None:
        self._client.put_object(Bucket=BUCKET, Key=key, Body=payload)

    def get(self, key: str, size: int) -> None:
        body = self._client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        if len(body) != size:
            raise RuntimeError(f"{self.name}: GET {key} returned {len(body)} bytes, not {size}")

    def upload(self, key: str) -> None:
        self._client.upload_file(str(self._source), BUCKET, key, Config=self._config)

    def download(self, key: str) -> None:
        self._client.download_file(BUCKET, key, str(self._target), Config=self._config)
        if self._target.stat().st_size != self._large:
            raise RuntimeError(f"{self.name}: download_file {key} wrote the wrong size")

    def after_download(self) -> None:
        self._target.unlink(missing_ok=True)

    def raw_put(self, key: str) -> None:
        _raw_put(_presigned(self._client, "put_object", key), self._source)

    def raw_get(self, key: str) -> None:
        _raw_get(_presigned(self._client, "get_object", key), self._large)


class DiskSide(Side):
    """Plain file I/O on the same filesystem: new files written and fsynced, files read back."""

    name = "disk"

    def __init__(self, directory: Path, source: Path) -> None:
        directory.mkdir()
        self._directory = directory
        self._data = source.read_bytes()
        self._buffer = bytearray(IO_CHUNK)

    def _path(self, key: str) -> Path:
        return self._directory / key.replace("/", "-")

    def put(self, key: str, payload: bytes) -> None:
        _write_synced(self._path(key), payload)

    def get(self, key: str, size: int) -> None:
        if _read_all(self._path(key), self._buffer) != size:
            raise RuntimeError(f"disk: {key} is not {size} bytes")

    def upload(self, key: str) -> None:
        _write_synced(self._path(key), self._data)

    def download(self, key: str) -> None:
        self.get(key, len(self._data))

    raw_put = upload
    raw_get = download


def _presigned(client: Any, method: str, key: str) -> urllib.parse.SplitResult:
    """A presigned URL: the signature is in the query, the payload is not hashed."""
    url = client.generate_presigned_url(method, Params={"Bucket": BUCKET, "Key": key})
    return urllib.parse.urlsplit(url)


def _raw_put(url: urllib.parse.SplitResult, source: Path) -> None:
    """One PUT of ``source`` to a presigned URL, streamed from the file in ``IO_CHUNK`` blocks."""
    connection = http.client.HTTPConnection(url.netloc, timeout=300, blocksize=IO_CHUNK)
    try:
        with source.open("rb") as body:
            connection.request(
                "PUT",
                f"{url.path}?{url.query}",
                body=body,
                headers={
                    "Content-Length": str(source.stat().st_size),
                    "Content-Type": "application/octet-stream",
                    "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                },
            )
        response = connection.getresponse()
        reply = response.read()
        if response.status != 200:
            raise RuntimeError(f"raw PUT {url.path}: HTTP {response.status}: {reply[:300]!r}")
    finally:
        connection.close()


def _raw_get(url: urllib.parse.SplitResult, size: int) -> None:
    """One GET of a presigned URL, the body read into a reused ``IO_CHUNK`` buffer."""
    connection = http.client.HTTPConnection(url.netloc, timeout=300)
    buffer = bytearray(IO_CHUNK)
    try:
        connection.request("GET", f"{url.path}?{url.query}")
        response = connection.getresponse()
        if response.status != 200:
            reply = response.read()[:300]
            raise RuntimeError(f"raw GET {url.path}: HTTP {response.status}: {reply!r}")
        received = 0
        while count := response.readinto(buffer):
            received += count
        if received != size:
            raise RuntimeError(f"raw GET {url.path}: {received} bytes, not {size}")
    finally:
        connection.close()


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("xb") as file:
        view = memoryview(data)
        for start in range(0, len(view), IO_CHUNK):
            file.write(view[start : start + IO_CHUNK])
        file.flush()
        os.fsync(file.fileno())


def _read_all(path: Path, buffer: bytearray) -> int:
    total = 0
    with path.open("rb", buffering=0) as file:
        while count := file.readinto(buffer):
            total += count
    return total


# --------------------------------------------------------------------------- rows

# Row keys, in table order: (object size, operation).
Row = tuple[int, str]
Results = dict[Row, dict[str, Measurement]]


def _rows(plan: Plan) -> list[Row]:
    rows = [(size, op) for size in (plan.small, plan.medium) for op in ("PUT", "GET")]
    return rows + [(plan.large, op) for op in LARGE_OPS]


class Bench:
    """Runs every row over the sides still standing; a side that fails is reported and dropped
    from the rows after it."""

    def __init__(self, sides: list[Side], plan: Plan, failures: dict[str, str]) -> None:
        self.sides = sides
        self.plan = plan
        self.failures = failures
        self.results: Results = {}

    def run(self) -> Results:
        plan = self.plan
        for size, minimum_s in ((plan.small, plan.small_s), (plan.medium, plan.medium_s)):
            self._small_rows(size, minimum_s)
        methods = {"PUT": "upload", "GET": "download", "raw PUT": "raw_put", "raw GET": "raw_get"}
        for op in LARGE_OPS:
            self._large_row(op, methods[op])
        return self.results

    def _attempt(
        self, side: Side, row: Row, measure: Callable[[], Measurement], *, report: bool = True
    ) -> None:
        """Records ``measure()`` as ``side``'s figure for ``row``, or its failure."""
        try:
            measurement = measure()
        except Exception as error:
            print(f"  {side.name} failed: {error}", file=sys.stderr, flush=True)
            lines = str(error).strip().splitlines() or [""]
            summary = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
            self.failures[side.name] = f"{type(error).__name__} in {row[1]}: {summary}"
            self.sides.remove(side)
            return
        measurement.size = row[0]
        self.results.setdefault(row, {})[side.name] = measurement
        if report:
            _report(side.name, row, measurement)

    def _small_rows(self, size: int, minimum_s: float) -> None:
        """PUT for ``minimum_s`` per side, then GET of what each side wrote."""
        payload = os.urandom(size)
        prefix = size_label(size).replace(" ", "").lower()
        written: dict[str, int] = {}

        def put(side: Side) -> Measurement:
            side.put(f"{prefix}/warm-up", payload)
            measured = _timed_loop(minimum_s, lambda i: side.put(f"{prefix}/{i}", payload))
            written[side.name] = measured.operations
            return measured

        def get(side: Side) -> Measurement:
            count = written[side.name]
            return _timed_loop(minimum_s, lambda i: side.get(f"{prefix}/{i % count}", size))

        for op, measure in (("PUT", put), ("GET", get)):
            for side in list(self.sides):
                self._attempt(side, (size, op), functools.partial(measure, side))

    def _large_row(self, op: str, method: str) -> None:
        """Run ``r`` of every side, then run ``r + 1`` ..., so each side meets the same state of
        the machine (page cache, disk writeback)."""
        size = self.plan.large
        measured = {side.name: Measurement(size) for side in self.sides}
        key_prefix = "large" if op in ("PUT", "GET") else "raw"
        for run in range(self.plan.large_runs):
            for side in list(self.sides):

                def one(side: Side = side, run: int = run) -> Measurement:
                    measurement = measured[side.name]
                    call = functools.partial(getattr(side, method), f"{key_prefix}/{run}")
                    timed = _timed_call(side, call)
                    measurement.runs_s.append(timed.seconds)
                    measurement.peak_rss = max(measurement.peak_rss, timed.peak_rss)
                    measurement.server_cpu_s += timed.server_cpu_s
                    measurement.client_cpu_s += timed.client_cpu_s
                    side.after_download()
                    return measurement

                self._attempt(side, (size, op), one, report=run == self.plan.large_runs - 1)


def _timed_call(side: Side, call: Callable[[], None]) -> Measurement:
    """One call, with the server's peak RSS and both processes' CPU time over it."""
    client_before = client_cpu_s()
    if side.pid is None:
        started = time.perf_counter()
        call()
        seconds = time.perf_counter() - started
        return Measurement(0, seconds=seconds, client_cpu_s=client_cpu_s() - client_before)
    server_before = process_cpu_s(side.pid)
    with RssSampler(side.pid) as rss:
        started = time.perf_counter()
        call()
        seconds = time.perf_counter() - started
    return Measurement(
        0,
        seconds=seconds,
        peak_rss=rss.peak,
        server_cpu_s=process_cpu_s(side.pid) - server_before,
        client_cpu_s=client_cpu_s() - client_before,
    )


def _report(side: str, row: Row, measurement: Measurement) -> None:
    if measurement.runs_s:
        runs = ", ".join(f"{measurement.size / MIB / s:.0f}" for s in measurement.runs_s)
        detail = f"runs {runs} MiB/s"
        if measurement.peak_rss:
            detail += f", peak RSS {measurement.peak_rss / MIB:.0f} MiB"
        moved = measurement.size / MIB * len(measurement.runs_s)
        if measurement.server_cpu_s:
            detail += f", CPU ms/MiB server {measurement.server_cpu_s * 1000 / moved:.2f}"
        detail += f", client {measurement.client_cpu_s * 1000 / moved:.2f}"
    else:
        detail = f"{measurement.operations} ops in {measurement.seconds:.2f} s"
    print(
        f"  {side:<9} {size_label(row[0]):>7} {row[1]:<7}: {measurement.ops_per_s:,.1f} ops/s, "
        f"{measurement.mib_per_s:,.1f} MiB/s ({detail})",
        file=sys.stderr,
        flush=True,
    )


# --------------------------------------------------------------------------- report


def _version(package: str, venv: Path | None = None) -> str:
    if venv is None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "?"
    probe = f"import importlib.metadata as m; print(m.version({package!r}))"
    try:
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", probe],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return "?"
    return done.stdout.strip() or "?"


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _cell(measurement: Measurement | None, plan: Plan) -> str:
    if measurement is None:
        return "—"
    if measurement.size == plan.large:
        return f"{_fmt(measurement.mib_per_s)} MiB/s"
    return f"{_fmt(measurement.ops_per_s)} ops/s · {_fmt(measurement.mib_per_s)} MiB/s"


def _ratio(ours: Measurement | None, theirs: Measurement | None) -> float | None:
    if ours is None or theirs is None or theirs.ops_per_s <= 0:
        return None
    return ours.ops_per_s / theirs.ops_per_s


def _target(row: Row, plan: Plan, to_moto: float | None, to_disk: float | None) -> str:
    if row[0] == plan.large:
        if to_disk is None:
            return "—"
        return f"{'met' if to_disk >= LARGE_TARGET else 'not met'} (≥ {LARGE_TARGET:.0%} disk)"
    if to_moto is None:
        return "—"
    return f"{'met' if to_moto >= SMALL_TARGET else 'not met'} (≥ {SMALL_TARGET:.0f}x moto)"


def render(
    results: dict[Row, dict[str, Measurement]],
    plan: Plan,
    quick: bool,
    failures: dict[str, str],
    data_dir_fs: str,
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"Run {now}{' (--quick)' if quick else ''} · machine: {os.cpu_count()} CPUs (nproc "
        f"{len(os.sched_getaffinity(0))}), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, data on {data_dir_fs} · client: boto3 "
        f"{_version('boto3')}, botocore {_version('botocore')}, s3transfer "
        f"{_version('s3transfer')} · sagestack {_version('sagestack')} · moto "
        f"{_version('moto', MOTO_VENV)} (own venv)"
    )
    lines = [
        header,
        "",
        "| object size | op | sagestack | moto | disk | sagestack/moto | sagestack/disk | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    labels = {
        "PUT": "PUT (boto3 `put_object`)",
        "GET": "GET (boto3 `get_object`)",
    }
    large_labels = {
        "PUT": "PUT (boto3 `upload_file`) ¹",
        "GET": "GET (boto3 `download_file`) ¹",
        "raw PUT": "raw HTTP PUT, unsigned, 1 request ²",
        "raw GET": "raw HTTP GET, 1 request ²",
    }
    for row in _rows(plan):
        by_side = results.get(row, {})
        ours = by_side.get("sagestack")
        to_moto = _ratio(ours, by_side.get("moto"))
        to_disk = _ratio(ours, by_side.get("disk"))
        label = (large_labels if row[0] == plan.large else labels)[row[1]]
        cells = [_cell(by_side.get(side), plan) for side in SIDES]
        moto_ratio = f"{to_moto:.2f}x" if to_moto is not None else "—"
        disk_ratio = f"{to_disk:.0%}" if to_disk is not None else "—"
        lines.append(
            f"| {size_label(row[0])} | {label} | {' | '.join(cells)} | {moto_ratio} "
            f"| {disk_ratio} | {_target(row, plan, to_moto, to_disk)} |"
        )

    notes = [
        "",
        f"- 1 KiB / 1 MiB rows: one boto3 client, calls back to back for at least "
        f"{plan.small_s:g} s / {plan.medium_s:g} s; GET reads the objects the PUT row wrote and "
        "the whole body. disk: a new file per object written and fsynced (PUT), or read back "
        "(GET).",
        f"- ¹ {size_label(plan.large)} rows: median of {plan.large_runs} run(s), the sides' "
        "runs interleaved (run 1 of each side, then run 2, ...); multipart "
        f"`TransferConfig` ({PART_SIZE // MIB} MiB parts, {TRANSFER_THREADS} threads); the "
        "upload reads a local file, the download writes one (not fsynced). boto3 over plain "
        "HTTP signs every part's SHA-256 and adds a CRC32 checksum in the client: that CPU is "
        "part of these rows.",
        f"- ² one raw `http.client` request for the whole {size_label(plan.large)} object "
        "(`x-amz-content-sha256: UNSIGNED-PAYLOAD`, streamed from / into 1 MiB buffers): the "
        "server's own single-stream ceiling without boto3's signing and checksums. disk "
        "column: the same file I/O as ¹, measured again alongside.",
    ]
    memory = []
    for server in SERVERS:
        peaks = [results.get((plan.large, op), {}).get(server) for op in LARGE_OPS]
        if not any(peaks):
            continue
        parts = [
            f"{op} {m.peak_rss / MIB:,.0f}"
            for op, m in zip(LARGE_OPS, peaks, strict=True)
            if m is not None
        ]
        hwm = results.get((0, "VmHWM"), {}).get(server)
        tail = f"; VmHWM at the end {hwm.peak_rss / MIB:,.0f} MiB" if hwm else ""
        memory.append(f"{server}: {', '.join(parts)} MiB{tail}")
    if memory:
        notes.append(
            f"- Server peak RSS during the {size_label(plan.large)} rows (VmRSS sampled every "
            f"{RSS_SAMPLE_S * 1000:.0f} ms): " + " · ".join(memory) + "."
        )
    notes += [f"- {side} did not finish: `{reason}`" for side, reason in failures.items()]
    return "\n".join(lines + notes) + "\n"


def write_readme(table: str) -> None:
    text = README.read_text()
    begin, end = text.find(MARKER_BEGIN), text.find(MARKER_END)
    if begin < 0 or end < begin:
        raise RuntimeError(f"{README} has no {MARKER_BEGIN} ... {MARKER_END} section")
    README.write_text(text[: begin + len(MARKER_BEGIN)] + "\n" + table + text[end:])


def _filesystem(path: Path) -> str:
    try:
        done = subprocess.run(
            ["df", "--output=fstype", str(path)], capture_output=True, text=True, check=False
        )
    except OSError:
        return "?"
    lines = done.stdout.split()
    return lines[-1] if len(lines) > 1 else "?"


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and durations")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown table path")
    parser.add_argument(
        "--readme", action="store_true", help="also write the table into bench/README.md"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL

    ensure_moto_venv()
    failures: dict[str, str] = {}
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="sagestack-bench-objects-") as scratch_name,
        contextlib.ExitStack() as stack,
    ):
        scratch = Path(scratch_name)
        source = scratch / "large-source"
        with source.open("wb") as file:
            for _ in range(plan.large // (16 * MIB)):
                file.write(os.urandom(16 * MIB))
        sides: list[Side] = []
        for name in SERVERS:
            workdir = scratch / name
            workdir.mkdir()
            try:
                server = stack.enter_context(started_server(name, workdir))
                sides.append(ServerSide(server, source, plan.large, scratch))
            except Exception as error:
                print(f"  {name} failed to start: {error}", file=sys.stderr, flush=True)
                failures[name] = f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
        sides.append(DiskSide(scratch / "disk", source))
        results = Bench(sides, plan, failures).run()
        for side in sides:
            if side.pid is not None:
                hwm = RssSampler(side.pid).read("VmHWM")
                results.setdefault((0, "VmHWM"), {})[side.name] = Measurement(0, peak_rss=hwm)
        filesystem = _filesystem(scratch)
    print(f"total {time.monotonic() - started:.0f} s", file=sys.stderr)

    table = render(results, plan, args.quick, failures, filesystem)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    if args.readme:
        write_readme(table)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
