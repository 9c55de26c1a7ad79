"""The training-job controller: runs each job for real, one thread per job.

Starting → Downloading (job roots laid out like /opt/ml, channels and source fetched from the
object store) → Training (one runner process per host through the executor; output streamed into
CloudWatch Logs and scraped for MetricDefinitions; StopTrainingJob and MaxRuntimeInSeconds
honoured: SIGTERM, a grace period, SIGKILL) → Uploading (model.tar.gz, output.tar.gz,
checkpoints) → Completed, Failed (reason from output/failure or the output's tail) or Stopped.
Every status change goes through `resources.training_jobs.advance`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
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
from sagestack.control.jobs import JobController, Outcome, cpu_sets
from sagestack.control.log_writer import LogWriter, tee
from sagestack.executors.base import Executor, Workload
from sagestack.observability.log_store import LogStore
from sagestack.resources.images import LocalImage, Runtime, runtime_for
from sagestack.resources.records import Event, ResourceRecord
from sagestack.resources.training_jobs import KIND, TERMINAL, advance
from sagestack.storage.base import ObjectStore, split_s3_uri
from sagestack.store.base import ResourceStore

LOG = logging.getLogger(__name__)

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
#: Seconds between uploads of new checkpoint files while a job trains.
CHECKPOINT_SECONDS = 2.0


#: Where a job may go while it is Stopping.
_ENDINGS = frozenset({"Stopped", "MaxRuntimeExceeded", "Failed", "Completed"})


@dataclass(frozen=True, slots=True)
class Paths:
    jobs: Path
    environments: Path


class TrainingController(JobController):
    kind = KIND
    terminal = TERMINAL

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
        super().__init__(
            store,
            objects=objects,
            logs=logs,
            executor=executor,
            jobs_dir=paths.jobs,
            local_images=local_images,
            clock=clock,
        )
        self._paths = paths

    # -- record updates ---------------------------------------------------------------------

    def _advance(self, arn: str, status: str, **values: Any) -> ResourceRecord:
        """Move the job to the secondary `status`. While a stop is under way, InProgress steps are
        skipped (the job stays Stopping) and a finished run ends Stopped."""

        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None] | None:
            target = status
            if record.status in TERMINAL:
                return None
            if record.status == "Stopping":
                if target not in _ENDINGS:
                    return None
                if target in ("Completed", "Failed"):
                    target = "Stopped"
            return advance(record, target, now=self._clock(), **values)

        return self._write(arn, change)

    # -- the job ----------------------------------------------------------------------------

    def _work(self, arn: str, workdir: Path) -> None:
        record = self._record(arn)
        spec = record.spec
        algorithm = spec["AlgorithmSpecification"]
        hyperparameters = spec.get("HyperParameters", {})
        entrypoint = algorithm.get("ContainerEntrypoint")
        runtime = runtime_for(
            algorithm.get("TrainingImage") or record.state.get("AlgorithmTrainingImage", ""),
            has_program=bool(
                hyperparameters.get("sagemaker_program")
                or spec.get("Environment", {}).get("SAGEMAKER_PROGRAM")
            ),
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
        outcome, final_metrics = self._execute(job)
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
        if final_metrics:
            timing["FinalMetricDataList"] = final_metrics
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

    def _execute(self, job: _Job) -> tuple[Outcome, list[dict[str, Any]]]:
        """Run the hosts to their end: how they ended, and the final metric values."""
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
        cpus = cpu_sets(spec["ResourceConfig"].get("InstanceType", ""), len(hosts))
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
        limit = spec.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400)
        checkpoints = job.checkpoints
        synced = started

        def timed_out() -> None:
            self._advance(
                record.arn,
                "Stopping",
                message="Stopping the training job: MaxRuntimeInSeconds exceeded",
            )

        def tick(now: float) -> None:  # checkpoints go up as they are written
            nonlocal synced
            if checkpoints is not None and now - synced >= CHECKPOINT_SECONDS:
                synced = now
                checkpoints.sync()

        try:
            with self._tracking(record.arn, processes):
                outcome = self._supervise(
                    record.arn, processes, started + float(limit), on_timeout=timed_out, tick=tick
                )
        finally:
            for writer in writers:
                writer.close()
        if outcome.code not in (0, None) and not outcome.stopped:
            outcome.reason = _failure_reason(roots, outcome.code, tail)
        return outcome, metrics.final()

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
