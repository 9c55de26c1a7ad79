"""Control-plane benchmark: sagestack against moto_server, both measured in the same run.

What it measures: throughput and latency of SageMaker control-plane calls made by boto3 —
CreateModel, DescribeModel, AddTags (3 tags per call), ListTags, and a full paginated ListModels
listing (``get_paginator("list_models")``, PageSize 100) over 10,000 models — with 1 client and
with 8 concurrent clients. Every row runs the same client code against both servers.

How:

* each server starts on a free loopback port with fresh state: ``sagestack serve`` from the
  project venv with a temporary data dir (durable: SQLite), and ``moto_server`` from its own venv
  at ``.bench-venv/moto`` (created from ``bench/requirements-moto.txt`` when missing or stale),
  so moto's botocore never mixes with ours. Both are stopped at the end, even on error;
* clients are separate processes (multiprocessing, spawn), each with its own boto3 client
  (retries off: ``max_attempts=1``), so one Python client's GIL is not the limit. The processes
  start once per server, warm up, and for each 8-client row wait on a barrier to start together;
* throughput = successful operations / wall time (first start to last finish over all clients);
  p50/p99 are nearest-rank percentiles over all operations of the row. For ListModels the
  operation is one complete listing (all pages), so its unit is listings/s and ms per listing.

Run with the project venv, from the repository root::

    .venv/bin/python bench/controlplane/run.py            # full run, a few minutes
    .venv/bin/python bench/controlplane/run.py --quick    # smoke run with small counts
    .venv/bin/python bench/controlplane/run.py --only moto --out /tmp/moto.md

The markdown table is printed and written to ``bench/controlplane/results.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import math
import multiprocessing
import os
import platform
import queue
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from bench.peers import peer_venv  # noqa: E402

PROJECT_VENV = REPO_ROOT / ".venv"
MOTO_VENV = REPO_ROOT / ".bench-venv" / "moto"
DEFAULT_OUT = REPO_ROOT / "bench" / "controlplane" / "results.md"

SERVERS = ("sagestack", "moto")
CONCURRENT_CLIENTS = 8
REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/bench-sagemaker"
IMAGE_URI = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
MODEL_DATA_URL = "s3://bench-models/model.tar.gz"
LISTING_PAGE_SIZE = 100
READY_TIMEOUT_S = 60.0
TASK_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Counts:
    """How many operations each row makes."""

    single: int  # operations of a 1-client row
    per_client: int  # operations per client of an 8-client row
    listing_models: int  # models that exist before the ListModels rows
    listings: int  # complete listings per client in a ListModels row


FULL = Counts(single=2000, per_client=500, listing_models=10_000, listings=3)
QUICK = Counts(single=100, per_client=15, listing_models=400, listings=2)


# --------------------------------------------------------------------------- client processes


def _make_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "sagemaker",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def _tags(index: int) -> list[dict[str, str]]:
    return [
        {"Key": "team", "Value": f"team-{index % 7}"},
        {"Key": "stage", "Value": "bench"},
        {"Key": "build", "Value": str(index)},
    ]


def _run_task(client: Any, kind: str, items: Sequence[str], repeat: int) -> dict[str, Any]:
    """Runs one client's share of a row; returns its timings (seconds) and what it produced."""
    latencies: list[float] = []
    produced: list[str] = []
    pages: list[int] = []
    listed: list[int] = []
    errors = 0
    first_error = ""
    clock = time.perf_counter
    started = clock()
    for index in range(repeat if kind == "list_all" else len(items)):
        t0 = clock()
        try:
            if kind == "create":
                response = client.create_model(
                    ModelName=items[index],
                    ExecutionRoleArn=ROLE_ARN,
                    PrimaryContainer={"Image": IMAGE_URI, "ModelDataUrl": MODEL_DATA_URL},
                )
                produced.append(response["ModelArn"])
            elif kind == "describe":
                client.describe_model(ModelName=items[index])
            elif kind == "add_tags":
                client.add_tags(ResourceArn=items[index], Tags=_tags(index))
            elif kind == "list_tags":
                client.list_tags(ResourceArn=items[index])
            elif kind == "list_all":
                paginator = client.get_paginator("list_models")
                page_count = model_count = 0
                for page in paginator.paginate(PaginationConfig={"PageSize": LISTING_PAGE_SIZE}):
                    page_count += 1
                    model_count += len(page["Models"])
                pages.append(page_count)
                listed.append(model_count)
            else:
                raise ValueError(f"unknown task kind {kind!r}")
        except Exception as error:
            errors += 1
            if not first_error:
                first_error = f"{type(error).__name__}: {error}"
            continue
        latencies.append(clock() - t0)
    finished = clock()
    return {
        "started": started,
        "finished": finished,
        "latencies": latencies,
        "errors": errors,
        "first_error": first_error,
        "produced": produced,
        "pages": pages,
        "listed": listed,
    }


def _client_main(index: int, endpoint: str, tasks: Any, results: Any, barrier: Barrier) -> None:
    """A client process: one boto3 client, then tasks until it receives None."""
    try:
        client = _make_client(endpoint)
        client.list_models(MaxResults=1)  # warm-up: loads the model, opens the connection
        results.put((index, {"ready": True}))
        while (task := tasks.get()) is not None:
            kind, items, repeat, synchronized = task
            if synchronized:
                barrier.wait(timeout=TASK_TIMEOUT_S)
            results.put((index, _run_task(client, kind, items, repeat)))
    except Exception:
        results.put((index, {"crash": traceback.format_exc()}))


class ClientPool:
    """``CONCURRENT_CLIENTS`` spawned client processes bound to one endpoint."""

    def __init__(self, endpoint: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._results = context.Queue()
        self._barrier = context.Barrier(CONCURRENT_CLIENTS)
        self._tasks = [context.Queue() for _ in range(CONCURRENT_CLIENTS)]
        self._processes: list[SpawnProcess] = [
            context.Process(
                target=_client_main,
                args=(i, endpoint, self._tasks[i], self._results, self._barrier),
                name=f"bench-client-{i}",
                daemon=True,
            )
            for i in range(CONCURRENT_CLIENTS)
        ]
        for process in self._processes:
            process.start()
        try:
            self._collect(range(CONCURRENT_CLIENTS))
        except BaseException:
            self.close()
            raise

    def run(
        self, kind: str, shares: Sequence[Sequence[str]], repeat: int = 0
    ) -> list[dict[str, Any]]:
        """Gives share i to client i; with several shares the clients start together."""
        synchronized = len(shares) > 1
        for i, share in enumerate(shares):
            self._tasks[i].put((kind, list(share), repeat, synchronized))
        return self._collect(range(len(shares)))

    def _collect(self, indexes: range) -> list[dict[str, Any]]:
        replies: dict[int, dict[str, Any]] = {}
        deadline = time.monotonic() + TASK_TIMEOUT_S
        while len(replies) < len(indexes):
            try:
                index, reply = self._results.get(timeout=1.0)
            except queue.Empty:
                dead = [p.name for p in self._processes if not p.is_alive()]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(f"client processes stopped or timed out: {dead}") from None
                continue
            if "crash" in reply:
                print(reply["crash"], file=sys.stderr)
                last_line = reply["crash"].strip().splitlines()[-1]
                raise RuntimeError(f"client process {index} failed: {last_line}")
            replies[index] = reply
        return [replies[i] for i in indexes]

    def close(self) -> None:
        for tasks in self._tasks:
            tasks.put(None)
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()


# --------------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str, *, any_status: bool) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError:
        return any_status
    except OSError:
        return False


@dataclass
class RunningServer:
    name: str
    endpoint: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
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


@contextlib.contextmanager
def started_server(name: str, workdir: Path) -> Iterator[RunningServer]:
    """Starts ``name`` on a free loopback port with fresh state; stops it on exit."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    if name == "sagestack":
        data_dir = workdir / "sagestack-data"
        data_dir.mkdir()
        command = [
            str(PROJECT_VENV / "bin" / "sagestack"),
            "serve",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--data-dir", str(data_dir),
        ]  # fmt: skip
        ready_url = f"{endpoint}/_sagestack/health"
    else:
        command = [str(MOTO_VENV / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
        ready_url = f"{endpoint}/moto-api/"
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir
        )
    server = RunningServer(name, endpoint, process, log_path)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _answers(ready_url, any_status=name == "moto"):
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {READY_TIMEOUT_S:.0f} s")
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


def ensure_moto_venv() -> None:
    """Creates or refreshes ``.bench-venv/moto`` from ``bench/requirements-moto.txt``."""
    peer_venv("moto")


# --------------------------------------------------------------------------- rows


@dataclass
class RowResult:
    operations: int
    wall_s: float
    latencies_ms: list[float]
    errors: int = 0
    first_error: str = ""
    pages: list[int] = field(default_factory=list)
    listed: list[int] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.operations / self.wall_s if self.wall_s > 0 else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _merge(replies: list[dict[str, Any]]) -> RowResult:
    latencies = [s * 1000 for reply in replies for s in reply["latencies"]]
    wall = max(r["finished"] for r in replies) - min(r["started"] for r in replies)
    return RowResult(
        operations=len(latencies),
        wall_s=wall,
        latencies_ms=latencies,
        errors=sum(r["errors"] for r in replies),
        first_error=next((r["first_error"] for r in replies if r["first_error"]), ""),
        pages=[p for r in replies for p in r["pages"]],
        listed=[n for r in replies for n in r["listed"]],
    )


def _split(items: Sequence[str], parts: int, size: int) -> list[list[str]]:
    """``parts`` disjoint shares of ``size`` items each, cycling through ``items``."""
    return [[items[(p * size + i) % len(items)] for i in range(size)] for p in range(parts)]


# Row keys, in table order: (operation label, clients).
ROWS = [
    (operation, clients)
    for operation in ("CreateModel", "DescribeModel", "AddTags (3 tags)", "ListTags")
    for clients in (1, CONCURRENT_CLIENTS)
] + [("ListModels, full listing", 1), ("ListModels, full listing", CONCURRENT_CLIENTS)]


def benchmark_server(
    name: str, endpoint: str, counts: Counts, results: dict[tuple[str, int], dict[str, RowResult]]
) -> None:
    """Runs every row against one server; fills ``results[row][name]``."""
    run_id = secrets.token_hex(3)
    pool = ClientPool(endpoint)
    n, per, c = counts.single, counts.per_client, CONCURRENT_CLIENTS

    def record(row: tuple[str, int], result: RowResult) -> None:
        results.setdefault(row, {})[name] = result
        errors = f", {result.errors} errors ({result.first_error})" if result.errors else ""
        print(
            f"  {name:<9} {row[0]:<26} c={row[1]}: {result.operations} ops in "
            f"{result.wall_s:.2f} s = {result.throughput:.1f}/s, "
            f"p50 {result.percentile(50):.2f} ms, p99 {result.percentile(99):.2f} ms{errors}",
            file=sys.stderr,
            flush=True,
        )

    try:
        names: list[str] = []
        arns: list[str] = []

        def create(shares: list[list[str]]) -> RowResult:
            replies = pool.run("create", shares)
            for share, reply in zip(shares, replies, strict=True):
                names.extend(share[: len(reply["produced"])])
                arns.extend(reply["produced"])
            return _merge(replies)

        record(("CreateModel", 1), create([[f"bm{run_id}-c1-{i:05d}" for i in range(n)]]))
        record(
            ("CreateModel", c),
            create([[f"bm{run_id}-c{c}-w{w}-{i:05d}" for i in range(per)] for w in range(c)]),
        )
        if not names:
            raise RuntimeError(f"{name}: no model was created; cannot run the other rows")
        for kind, label, pool_items in (
            ("describe", "DescribeModel", names),
            ("add_tags", "AddTags (3 tags)", arns),
            ("list_tags", "ListTags", arns),
        ):
            record((label, 1), _merge(pool.run(kind, _split(pool_items, 1, n))))
            record((label, c), _merge(pool.run(kind, _split(pool_items, c, per))))

        missing = counts.listing_models - len(names)
        if missing > 0:
            fill = [
                [f"bm{run_id}-fill-w{w}-{i:05d}" for i in range(w, missing, c)] for w in range(c)
            ]
            filled = create(fill)
            print(
                f"  {name:<9} created {filled.operations} more models for the listing rows "
                f"({filled.throughput:.0f}/s); {len(names)} of ours exist",
                file=sys.stderr,
            )
        for clients in (1, c):
            shares: list[list[str]] = [[] for _ in range(clients)]
            record(
                ("ListModels, full listing", clients),
                _merge(pool.run("list_all", shares, repeat=counts.listings)),
            )
    finally:
        pool.close()


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


def _fmt_rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def _fmt_ms(value: float) -> str:
    return "—" if math.isnan(value) else (f"{value:,.0f}" if value >= 100 else f"{value:.2f}")


def render(
    results: dict[tuple[str, int], dict[str, RowResult]],
    counts: Counts,
    quick: bool,
    failures: dict[str, str],
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"Run {now}{' (--quick)' if quick else ''} · machine: {os.cpu_count()} CPUs (nproc "
        f"{len(os.sched_getaffinity(0))}), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()} · client: boto3 {_version('boto3')}, botocore "
        f"{_version('botocore')} · sagestack {_version('sagestack')} · moto "
        f"{_version('moto', MOTO_VENV)} (own venv, botocore {_version('botocore', MOTO_VENV)})"
    )
    lines = [
        header,
        "",
        "| operation | clients | sagestack req/s | sagestack p50 ms | sagestack p99 ms "
        "| moto req/s | moto p50 ms | moto p99 ms | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in ROWS:
        by_server = results.get(row, {})
        cells: list[str] = []
        for server in SERVERS:
            result = by_server.get(server)
            if result is None:
                cells += ["—", "—", "—"]
            else:
                cells += [
                    _fmt_rate(result.throughput),
                    _fmt_ms(result.percentile(50)),
                    _fmt_ms(result.percentile(99)),
                ]
        ours, theirs = by_server.get("sagestack"), by_server.get("moto")
        ratio = (
            f"{ours.throughput / theirs.throughput:.2f}x"
            if ours and theirs and theirs.throughput > 0
            else "—"
        )
        label = row[0] + (" ¹" if row[0].startswith("ListModels") else "")
        lines.append(f"| {label} | {row[1]} | {' | '.join(cells)} | {ratio} |")

    notes = [
        "",
        f"- Counts: {counts.single:,} operations with 1 client; {CONCURRENT_CLIENTS} x "
        f"{counts.per_client:,} with {CONCURRENT_CLIENTS} clients (separate processes, each with "
        "its own boto3 client, started together). Throughput = successful operations / wall "
        "time; p50/p99 over all operations. Clients and server share the same machine.",
        f'- ¹ ListModels rows: the unit is one complete listing (`get_paginator("list_models")`, '
        f"PageSize {LISTING_PAGE_SIZE}) of {counts.listing_models:,} models: req/s means "
        f"listings/s, p50/p99 are ms per listing; {counts.listings} listings per client.",
    ]
    for server in SERVERS:
        listing = results.get(("ListModels, full listing", 1), {}).get(server)
        if not listing or not listing.pages:
            continue
        pages, listed = max(listing.pages), max(listing.listed)
        plural = "s" if pages != 1 else ""
        note = f"- {server}: {pages} page{plural} per listing, {listed:,} models per listing"
        if server == "moto" and pages == 1:
            note += "; moto ignores MaxResults and NextToken and returns every model in one page."
        else:
            note += f", about {listing.percentile(50) / pages:.2f} ms per page (1 client, p50)."
        notes.append(note)
    for row in ROWS:
        for server, result in results.get(row, {}).items():
            if result.errors:
                notes.append(
                    f"- {server}, {row[0]}, {row[1]} clients: {result.errors} failed calls, "
                    f"first: `{result.first_error}`"
                )
    notes += [f"- {server} did not finish: `{reason}`" for server, reason in failures.items()]
    return "\n".join(lines + notes) + "\n"


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, a smoke run")
    parser.add_argument("--only", choices=SERVERS, help="benchmark one server only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown table path")
    parser.add_argument(
        "--sagestack-url", help="use this running server as the sagestack side (not started)"
    )
    parser.add_argument("--moto-url", help="use this running server as the moto side")
    args = parser.parse_args(argv)
    counts = QUICK if args.quick else FULL
    chosen = [args.only] if args.only else list(SERVERS)
    given = {"sagestack": args.sagestack_url, "moto": args.moto_url}

    if "moto" in chosen and not given["moto"]:
        ensure_moto_venv()
    results: dict[tuple[str, int], dict[str, RowResult]] = {}
    failures: dict[str, str] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sagestack-bench-") as scratch:
        for name in chosen:
            print(f"{name}:", file=sys.stderr, flush=True)
            try:
                with contextlib.ExitStack() as stack:
                    if given[name]:
                        endpoint = given[name]
                    else:
                        workdir = Path(scratch) / name
                        workdir.mkdir()
                        endpoint = stack.enter_context(started_server(name, workdir)).endpoint
                    benchmark_server(name, endpoint, counts, results)
            except Exception as error:
                print(f"  {name} failed: {error}", file=sys.stderr, flush=True)
                lines = str(error).strip().splitlines() or [""]
                summary = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
                failures[name] = f"{type(error).__name__}: {summary}"
    print(f"total {time.monotonic() - started:.0f} s", file=sys.stderr)

    table = render(results, counts, args.quick, failures)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
