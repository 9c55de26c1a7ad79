"""The training-job controller: runs each job for real, one thread per job.

Starting → Downloading (job roots laid out like /opt/ml, channels and source fetched from the
object store) → Training (one runner process per host through the executor; output streamed into
CloudWatch Logs and scraped for MetricDefinitions; StopTrainingJob and MaxRuntimeInSeconds
honoured: SIGTERM, a grace period, SIGKILL) → Uploading (model.tar.gz, output.tar.gz,
checkpoints) → Completed, Failed (reason from output/failure or the output's tail) or Stopped.
Every status change goes through `resources.training_jobs.advance`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagestack.control.job_root import (
    DirectorySync,
    InputError,
    download_channels,
    download_prefix,
    extract_archive,
    hosts_file,
    lay_out,
    pack,
)
from sagestack.control.log_writer import LogWriter, tee
from sagestack.executors.base import Executor, Running, Workload
from sagestack.observability.log_store import LogStore
from sagestack.resources.images import LocalImage, Runtime, instance_vcpus, runtime_for
from sagestack.resources.records import Event, ResourceRecord
from sagestack.resources.training_jobs import KIND, TERMINAL, advance
from sagestack.storage.base import ObjectStore, split_s3_uri
from sagestack.store.base import Change, ResourceStore, change_record

LOG = logging.getLogger(__name__)

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
#: Seconds between SIGTERM and SIGKILL when a job is stopped or runs out of time.
STOP_GRACE = 10.0
POLL = 0.1
#: Seconds between uploads of new checkpoint files while a job trains.
CHECKPOINT_SECONDS = 2.0


#: Where a job may go while it is Stopping.
_ENDINGS = frozenset({"Stopped", "MaxRuntimeExceeded", "Failed", "Completed"})


class JobGone(Exception):
    """The record was deleted while the controller worked on it."""


@dataclass(frozen=True, slots=True)
class Paths:
    jobs: Path
    environments: Path


class TrainingController:
    kind = KIND

    def __init__(
        self,
        store: ResourceStore,
        *,
        objects: ObjectStore,
        logs: LogStore,
        executor: Executor,
        paths: Paths,
        local_images: Callable[[], Mapping[str, LocalImage]] = dict,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._objects = objects
        self._logs = logs
        self._executor = executor
        self._paths = paths
        self._local_images = local_images
        self._clock = clock
        self._running: dict[str, threading.Thread] = {}
        self._processes: dict[str, list[Running]] = {}
        self._lock = threading.Lock()
        # Job roots left by a previous server belong to jobs `recover` ends: start clean.
        shutil.rmtree(paths.jobs, ignore_errors=True)

    # -- reconciler hooks -------------------------------------------------------------------

    def notify(self, event: Event) -> None:
        if event.type == "Created":
            self.start(event.arn)

    def reset(self) -> None:
        """Before a wipe: stop every job's processes and let its thread finish (so nothing
        writes into the wiped stores afterwards)."""
        self.close()
        self.wait_idle(30)

    def close(self) -> None:
        """Stop every running job's processes (the jobs end Failed when sagestack restarts)."""
        with self._lock:
            running = [p for processes in self._processes.values() for p in processes]
        _stop(running)

    def start(self, arn: str) -> None:
        with self._lock:
            if arn in self._running and self._running[arn].is_alive():
                return
            thread = threading.Thread(
                target=self._run, args=(arn,), name=f"train {arn}", daemon=True
            )
            self._running[arn] = thread
        thread.start()

    def recover(self, arn: str, status: str | None) -> None:
        """A job found unfinished at start-up: end what is left of its processes, then the
        job itself (its run cannot be resumed)."""
        if status in TERMINAL:
            return
        LOG.warning("%s was %s when sagestack stopped", arn, status)
        record = self._store.get_by_arn(arn)
        for identity in record.state.get("Workloads", []) if record is not None else []:
            self._executor.reap(identity)
        self._finish_interrupted(arn)

    def wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in list(self._running.values()):
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- record updates ---------------------------------------------------------------------

    def _record(self, arn: str) -> ResourceRecord:
        record = self._store.get_by_arn(arn)
        if record is None:
            raise JobGone(arn)
        return record

    def _write(self, arn: str, change: Change) -> ResourceRecord:
        record = change_record(self._store, arn, change)
        if record is None:
            raise JobGone(arn)
        return record

    def _advance(self, arn: str, secondary: str, **values: Any) -> ResourceRecord:
        """Move the job to `secondary`. While a stop is under way, InProgress steps are
        skipped (the job stays Stopping) and a finished run ends Stopped."""

        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None] | None:
            target = secondary
            if record.status in TERMINAL:
                return None
            if record.status == "Stopping":
                if target not in _ENDINGS:
                    return None
                if target in ("Completed", "Failed"):
                    target = "Stopped"
            return advance(record, target, now=self._clock(), **values)

        return self._write(arn, change)

    def _note_workloads(self, arn: str, identities: list[str]) -> None:
        """Remember the job's processes in its record, so a restart can end them."""

        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            state = {**record.state, "Workloads": identities}
            return dataclasses.replace(record, state=state), None

        self._write(arn, change)

    def _finish_interrupted(self, arn: str) -> None:
        try:
            record = self._record(arn)
            if record.status == "Stopping":
                self._advance(arn, "Stopped")
            elif record.status not in TERMINAL:
                self._advance(
                    arn,
                    "Failed",
                    reason="InternalServerError: sagestack restarted while the job was running; "
                    "start it again.",
                )
        except JobGone:
            pass

    # -- the job ----------------------------------------------------------------------------

    def _run(self, arn: str) -> None:
        workdir = self._paths.jobs / uuid.uuid4().hex
        try:
            self._train(arn, workdir)
        except JobGone:
            LOG.info("%s was deleted while it ran", arn)
        except Exception as error:
            LOG.exception("%s failed inside sagestack", arn)
            try:
                self._advance(arn, "Failed", reason=f"InternalServerError: {error}")
            except Exception:
                LOG.exception("%s: could not record the failure", arn)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _train(self, arn: str, workdir: Path) -> None:
        record = self._record(arn)
        spec = record.spec
        algorithm = spec["AlgorithmSpecification"]
        hyperparameters = spec.get("HyperParameters", {})
        entrypoint = algorithm.get("ContainerEntrypoint")
        runtime = runtime_for(
            algorithm.get("TrainingImage", ""),
            has_program="sagemaker_program" in hyperparameters
            or "SAGEMAKER_PROGRAM" in spec.get("Environment", {}),
            has_entrypoint=bool(entrypoint),
            registered=self._local_images(),
        )
        if runtime is None:
            self._advance(
                arn,
                "Failed",
                reason="ClientError: Cannot pull algorithm container. Either the image does not "
                f"exist or its permissions are incorrect. ({algorithm.get('TrainingImage')} is "
                "not an image sagestack runs: `sagestack images` lists them, `sagestack images "
                "register` adds your own.)",
            )
            return
        if entrypoint and not self._executor.binds_opt_ml:
            self._advance(
                arn,
                "Failed",
                reason="ClientError: this host cannot bind the job root at /opt/ml (no mount "
                "namespaces), which a ContainerEntrypoint job needs.",
            )
            return
        hosts = [f"algo-{i}" for i in range(1, int(spec["ResourceConfig"]["InstanceCount"]) + 1)]
        self._advance(arn, "Downloading")
        roots = [workdir / host for host in hosts]
        try:
            self._prepare(spec, hosts, roots)
        except InputError as error:
            self._advance(arn, "Failed", reason=f"ClientError: {error}")
            return
        started = self._clock()
        self._advance(arn, "Training", TrainingStartTime=started)
        checkpoint_uri = spec.get("CheckpointConfig", {}).get("S3Uri")
        checkpoints = (
            DirectorySync(self._objects, roots[0] / "checkpoints", checkpoint_uri)
            if checkpoint_uri
            else None
        )
        job = _Job(record, runtime, hosts, roots, workdir, started, checkpoints)
        outcome = self._execute(job)
        ended = self._clock()
        seconds = max(1, round(ended - started))
        timing: dict[str, Any] = {
            "TrainingEndTime": ended,
            "TrainingTimeInSeconds": seconds,
            "BillableTimeInSeconds": seconds * len(hosts),
        }
        stopping = self._record(arn).status == "Stopping" or outcome.stopped
        if not stopping:
            self._advance(arn, "Uploading")
        artifacts = self._upload(spec, record.name, roots[0], checkpoints)
        if outcome.metrics:
            timing["FinalMetricDataList"] = outcome.metrics
        if outcome.timed_out:
            self._advance(arn, "MaxRuntimeExceeded", **artifacts, **timing)
        elif stopping:
            self._advance(arn, "Stopped", **artifacts, **timing)
        elif outcome.code == 0:
            self._advance(arn, "Completed", **artifacts, **timing)
        else:
            self._advance(arn, "Failed", reason=outcome.reason, **artifacts, **timing)

    def _prepare(self, spec: Mapping[str, Any], hosts: list[str], roots: list[Path]) -> None:
        program_source = spec.get("HyperParameters", {}).get("sagemaker_submit_directory")
        source = json.loads(program_source) if program_source else None
        if source is None:
            source = spec.get("Environment", {}).get("SAGEMAKER_SUBMIT_DIRECTORY")
        for index, (host, root) in enumerate(zip(hosts, roots, strict=True)):
            lay_out(root, spec, hosts, host)
            download_channels(self._objects, spec, root, index, len(hosts))
            if source and str(source).startswith("s3://"):
                extract_archive(self._objects, str(source), root / "code")
            checkpoint = spec.get("CheckpointConfig", {}).get("S3Uri")
            if checkpoint:
                download_prefix(self._objects, checkpoint, root / "checkpoints")

    def _execute(self, job: _Job) -> _Outcome:
        record, hosts, roots, started = job.record, job.hosts, job.roots, job.started
        spec = record.spec
        algorithm = spec["AlgorithmSpecification"]
        metrics = _MetricScraper(algorithm.get("MetricDefinitions", []), self._clock)
        tail: deque[str] = deque(maxlen=40)
        bound = self._executor.binds_opt_ml
        hosts_path = hosts_file(job.workdir / "hosts", hosts) if len(hosts) > 1 and bound else None
        local = job.runtime.local
        runner = json.dumps(
            {
                "mode": job.runtime.mode,
                "name": job.runtime.name,
                "entrypoint": [*local.command, "train"]
                if local
                else algorithm.get("ContainerEntrypoint"),
                "arguments": algorithm.get("ContainerArguments"),
                "cwd": local.directory if local else None,
                "environment_cache": str(self._paths.environments),
            }
        )
        writers, processes = [], []
        cpus = _cpu_sets(spec["ResourceConfig"].get("InstanceType", ""), len(hosts))
        for index, (host, root) in enumerate(zip(hosts, roots, strict=True)):
            writer = LogWriter(
                self._logs,
                LOG_GROUP,
                f"{record.name}/{host}-{int(started)}",
                account=record.account,
                region=record.region,
            )
            writers.append(writer)
            sink = tee(writer.line, metrics.line, tail.append) if host == hosts[0] else writer.line
            env = {
                "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
                "HOME": str(root),
                "LANG": "C.UTF-8",
                "PYTHONUNBUFFERED": "1",
                **spec.get("Environment", {}),
                "TRAINING_JOB_NAME": record.name,
                "TRAINING_JOB_ARN": record.arn,
                "SAGEMAKER_BASE_DIR": "/opt/ml" if bound else str(root),
                "SAGESTACK_RUNNER": runner,
            }
            workload = Workload(
                name=f"training-job/{record.name}/{host}",
                command=[sys.executable, "-m", "sagestack.containers.training", "train"],
                env=env,
                cwd=root,
                root=root,
                hosts_file=hosts_path,
                isolate_network=bool(spec.get("EnableNetworkIsolation")),
                cpus=cpus[index] if cpus else None,
            )
            processes.append(self._executor.launch(workload, sink))
        self._note_workloads(record.arn, [process.identity for process in processes])
        with self._lock:
            self._processes[record.arn] = processes
        try:
            outcome = self._supervise(record, processes, started, job.checkpoints)
        except BaseException:
            _stop(processes)  # the job is gone or sagestack failed: leave nothing running
            raise
        finally:
            with self._lock:
                self._processes.pop(record.arn, None)
            for writer in writers:
                writer.close()
        outcome.metrics = metrics.final()
        if outcome.code not in (0, None) and not outcome.stopped:
            outcome.reason = _failure_reason(roots, outcome.code, tail)
        return outcome

    def _supervise(
        self,
        record: ResourceRecord,
        processes: list[Running],
        started: float,
        checkpoints: DirectorySync | None,
    ) -> _Outcome:
        """Wait for the hosts to end, stopping them on StopTrainingJob or MaxRuntimeInSeconds;
        checkpoints go up as they are written."""
        limit = record.spec.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400)
        deadline = started + float(limit)
        outcome = _Outcome()
        checked = synced = started
        while True:
            codes = [process.wait(POLL) for process in processes[:1]] + [
                process.poll() for process in processes[1:]
            ]
            if all(code is not None for code in codes):
                outcome.code = next((c for c in codes if c != 0), 0)
                return outcome
            now = self._clock()
            if now >= deadline:
                outcome.timed_out = True
                self._advance(
                    record.arn,
                    "Stopping",
                    message="Stopping the training job: MaxRuntimeInSeconds exceeded",
                )
            elif now - checked >= 0.5:
                checked = now
                state = self._record(record.arn).state
                outcome.stopped = bool(state.get("StopRequested"))
            if checkpoints is not None and now - synced >= CHECKPOINT_SECONDS:
                synced = now
                checkpoints.sync()
            if outcome.timed_out or outcome.stopped:
                outcome.stopped = True
                _stop(processes)
                outcome.code = None
                return outcome

    def _upload(
        self,
        spec: Mapping[str, Any],
        name: str,
        root: Path,
        job_checkpoints: DirectorySync | None,
    ) -> dict[str, Any]:
        bucket, prefix = split_s3_uri(spec["OutputDataConfig"]["S3OutputPath"])
        base = f"{prefix.rstrip('/')}/{name}/output".lstrip("/")
        found: dict[str, Any] = {}
        archive = root.parent / f"{root.name}-model.tar.gz"
        pack(root / "model", archive)  # uploaded even when empty, as SageMaker does
        self._objects.upload_file(bucket, f"{base}/model.tar.gz", archive)
        found["ModelArtifacts"] = {"S3ModelArtifacts": f"s3://{bucket}/{base}/model.tar.gz"}
        output = root.parent / f"{root.name}-output.tar.gz"
        if pack(root / "output" / "data", output):
            self._objects.upload_file(bucket, f"{base}/output.tar.gz", output)
            found["OutputDataArtifacts"] = f"s3://{bucket}/{base}/output.tar.gz"
        if job_checkpoints is not None:
            job_checkpoints.sync()
        return found


@dataclass(frozen=True, slots=True)
class _Job:
    record: ResourceRecord
    runtime: Runtime
    hosts: list[str]
    roots: list[Path]
    workdir: Path
    started: float
    checkpoints: DirectorySync | None


@dataclass(slots=True)
class _Outcome:
    code: int | None = None
    stopped: bool = False
    timed_out: bool = False
    reason: str | None = None
    metrics: list[dict[str, Any]] | None = None


def _cpu_sets(instance_type: str, hosts: int) -> list[list[int]] | None:
    """The CPUs each host may use: as many as its instance type has, dealt round-robin from
    those sagestack may use (hosts share them when the machine has fewer)."""
    wanted = instance_vcpus(instance_type)
    available = sorted(os.sched_getaffinity(0))
    if wanted is None or (wanted >= len(available) and hosts == 1):
        return None
    count = min(wanted, len(available))
    return [
        [available[(host * count + i) % len(available)] for i in range(count)]
        for host in range(hosts)
    ]


def _stop(processes: list[Running]) -> None:
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for process in processes:
        if process.wait(max(0.0, deadline - time.monotonic())) is None:
            process.kill()
            process.wait(10)


def _failure_reason(roots: list[Path], code: int, tail: deque[str]) -> str:
    for root in roots:
        failure = root / "output" / "failure"
        if failure.exists():
            text = failure.read_text(errors="replace").strip()
            if text:
                return f"{text[:900]}, exit code: {code}"
    lines = [line for line in tail if line.strip()]
    message = "\n".join(lines[-3:])[-700:]
    return (
        f"AlgorithmError: ExecuteUserScriptError:\nExitCode {code}\n"
        f'ErrorMessage "{message}", exit code: {code}'
    )


class _MetricScraper:
    """MetricDefinitions regexes over the log; the last value of each is its final value."""

    def __init__(self, definitions: list[Mapping[str, str]], clock: Callable[[], float]) -> None:
        self._patterns = []
        for definition in definitions:
            try:
                self._patterns.append((definition["Name"], re.compile(definition["Regex"])))
            except re.error:
                LOG.warning(
                    "metric %s: unusable regex %r", definition.get("Name"), definition.get("Regex")
                )
        self._clock = clock
        self._final: dict[str, dict[str, Any]] = {}

    def line(self, text: str) -> None:
        for name, pattern in self._patterns:
            found = pattern.search(text)
            if found is None:
                continue
            try:
                value = float(found.group(1) if pattern.groups else found.group(0))
            except (ValueError, IndexError):
                continue
            self._final[name] = {"MetricName": name, "Value": value, "Timestamp": self._clock()}

    def final(self) -> list[dict[str, Any]]:
        return list(self._final.values())
