"""The processing-job controller: runs each job for real, one thread per job, on the machinery
training uses (`control.jobs`, `control.job_root`, the executor, `control.log_writer`).

InProgress: each host gets a root laid out as SageMaker lays out /opt/ml for processing
(config/processingjobconfig.json and resourceconfig.json, every input's LocalPath filled from S3
— this host's share when ShardedByS3Key — and every output's LocalPath created); one runner
process per host runs the container command with the root bound at /opt/ml, its output going
live to CloudWatch Logs (/aws/sagemaker/ProcessingJobs, `<job>/algo-<n>-<epoch>`); Continuous
outputs go up while it runs, EndOfJob outputs when it ends. Then Completed, Failed
("AlgorithmError: <message>, exit code: <n>") or, after StopProcessingJob or
MaxRuntimeInSeconds (SIGTERM, a grace period, SIGKILL), Stopped. ExitMessage is what the
container wrote to /opt/ml/output/message.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagestack.control.job_root import DirectorySync, InputError, download_source, hosts_file
from sagestack.control.jobs import JobController, Outcome, cpu_sets
from sagestack.control.log_writer import LogWriter, tee
from sagestack.executors.base import Executor, Workload
from sagestack.observability.log_store import LogStore
from sagestack.resources.images import LocalImage, runtime_for
from sagestack.resources.processing_jobs import INTERNAL_STATE, KIND, TERMINAL, advance
from sagestack.resources.records import Event, ResourceRecord
from sagestack.storage.base import ObjectStore
from sagestack.store.base import ResourceStore

LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
#: Seconds between uploads of new files of Continuous outputs while a job runs.
CONTINUOUS_SECONDS = 2.0
#: The most of /opt/ml/output/message that becomes ExitMessage (the model's limit).
MESSAGE_LIMIT = 1024
_OPT_ML = "/opt/ml/"


@dataclass(frozen=True, slots=True)
class _Host:
    name: str
    root: Path
    outputs: list[tuple[str, DirectorySync]]  # (S3UploadMode, its sync)

    def sync(self, mode: str | None = None) -> None:
        for upload_mode, directory in self.outputs:
            if mode is None or upload_mode == mode:
                directory.sync()


class ProcessingController(JobController):
    kind = KIND
    terminal = TERMINAL

    def __init__(
        self,
        store: ResourceStore,
        *,
        objects: ObjectStore,
        logs: LogStore,
        executor: Executor,
        jobs_dir: Path,
        local_images: Callable[[], Mapping[str, LocalImage]] = dict,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            store,
            objects=objects,
            logs=logs,
            executor=executor,
            jobs_dir=jobs_dir,
            local_images=local_images,
            clock=clock,
        )

    def _advance(self, arn: str, status: str, **values: Any) -> ResourceRecord:
        """Move the job to `status`. While a stop is under way, the job stays Stopping until
        its run ends, and then ends Stopped however its processes ended."""

        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None] | None:
            target = status
            if record.status in TERMINAL:
                return None
            if record.status == "Stopping":
                if target in ("InProgress", "Stopping"):
                    target = "Stopping"
                elif target != "Stopped":
                    values.pop("reason", None)
                    target = "Stopped"
            return advance(record, target, now=self._clock(), **values)

        return self._write(arn, change)

    # -- the job ----------------------------------------------------------------------------

    def _work(self, arn: str, workdir: Path) -> None:
        record = self._record(arn)
        command = self._command(record)
        if isinstance(command, str):
            self._advance(arn, "Failed", reason=command, ProcessingEndTime=self._clock())
            return
        started = self._clock()
        self._advance(arn, "InProgress", ProcessingStartTime=started)
        count = int(record.spec["ProcessingResources"]["ClusterConfig"]["InstanceCount"])
        names = [f"algo-{i}" for i in range(1, count + 1)]
        try:
            hosts = [
                self._prepare(record, names, index, workdir / name)
                for index, name in enumerate(names)
            ]
        except InputError as error:
            self._advance(arn, "Failed", reason=f"ClientError: {error}", ProcessingEndTime=started)
            return
        if self._record(arn).status == "Stopping":  # stopped before it could start
            self._advance(arn, "Stopped", ProcessingEndTime=self._clock())
            return
        tail: deque[str] = deque(maxlen=40)
        outcome = self._execute(record, command, hosts, workdir, started=started, tail=tail)
        ended = self._clock()
        results: dict[str, Any] = {"ProcessingEndTime": ended}
        message = _exit_message(hosts)
        if message:
            results["ExitMessage"] = message
        try:
            for host in hosts:
                host.sync()
        except Exception as error:  # a bucket gone, a store error: the outputs are lost
            reason = f"ClientError: Failed to upload the job's outputs to S3: {error}"
            self._advance(arn, "Failed", reason=reason[:MESSAGE_LIMIT], **results)
            return
        if outcome.timed_out:
            limit = record.spec.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400)
            reason = f"MaxRuntimeExceeded: The job ran longer than MaxRuntimeInSeconds ({limit})."
            self._advance(arn, "Stopped", reason=reason, **results)
        elif outcome.stopped:
            self._advance(arn, "Stopped", **results)
        elif outcome.code == 0:
            self._advance(arn, "Completed", **results)
        else:
            reason = _failure_reason(outcome.code, message, tail)
            self._advance(arn, "Failed", reason=reason, **results)

    def _command(self, record: ResourceRecord) -> tuple[list[str], str | None] | str:
        """The command each host runs and the directory it runs in, or why the job cannot
        run (its FailureReason)."""
        app = record.spec["AppSpecification"]
        image = app["ImageUri"]
        entrypoint = list(app.get("ContainerEntrypoint") or [])
        arguments = list(app.get("ContainerArguments") or [])
        runtime = runtime_for(
            image,
            has_program=False,
            has_entrypoint=bool(entrypoint),
            registered=self._local_images(),
        )
        if runtime is None or runtime.mode == "algorithm":
            return (
                "ClientError: Cannot pull algorithm container. Either the image does not exist "
                f"or its permissions are incorrect. ({image} is not an image sagestack runs for "
                "processing: `sagestack images` lists them, `sagestack images register` adds "
                "your own.)"
            )
        if not self._executor.binds_opt_ml:
            return (
                "ClientError: this host cannot bind the job root at /opt/ml (no mount "
                "namespaces), which a processing job needs."
            )
        if runtime.local is not None:
            command = entrypoint or list(runtime.local.command)
            return [*command, *arguments], runtime.local.directory
        if not entrypoint:
            return (
                f"ClientError: {image} has no entrypoint of its own in sagestack: give the "
                "command to run as AppSpecification.ContainerEntrypoint (the SageMaker SDK's "
                "processors do)."
            )
        return [*entrypoint, *arguments], None

    def _prepare(self, record: ResourceRecord, names: list[str], index: int, root: Path) -> _Host:
        """Lay out one host's /opt/ml and fill its inputs."""
        spec = record.spec
        config = root / "config"
        config.mkdir(parents=True)
        (root / "output").mkdir()
        cluster = spec["ProcessingResources"]["ClusterConfig"]
        resource_config = {
            "current_host": names[index],
            "current_instance_type": cluster["InstanceType"],
            "current_group_name": "homogeneousCluster",
            "hosts": names,
            "instance_groups": [
                {
                    "instance_group_name": "homogeneousCluster",
                    "instance_type": cluster["InstanceType"],
                    "hosts": names,
                }
            ],
            "network_interface_name": "eth0",
        }
        job_config = {key: value for key, value in spec.items() if key not in INTERNAL_STATE} | {
            "ProcessingJobArn": record.arn
        }
        (config / "processingjobconfig.json").write_text(json.dumps(job_config))
        (config / "resourceconfig.json").write_text(json.dumps(resource_config))
        for item in spec.get("ProcessingInputs", []):
            source = item["S3Input"]
            directory = _local(root, source["LocalPath"])
            directory.mkdir(parents=True, exist_ok=True)
            what = f"{item['InputName']} input"
            download_source(self._objects, source, directory, index, len(names), what=what)
        outputs = []
        for item in spec.get("ProcessingOutputConfig", {}).get("Outputs", []):
            target = item["S3Output"]
            directory = _local(root, target["LocalPath"])
            directory.mkdir(parents=True, exist_ok=True)
            sync = DirectorySync(self._objects, directory, target["S3Uri"])
            outputs.append((target["S3UploadMode"], sync))
        return _Host(names[index], root, outputs)

    def _execute(
        self,
        record: ResourceRecord,
        command: tuple[list[str], str | None],
        hosts: list[_Host],
        workdir: Path,
        *,
        started: float,
        tail: deque[str],
    ) -> Outcome:
        spec = record.spec
        names = [host.name for host in hosts]
        hosts_path = hosts_file(workdir / "hosts", names) if len(hosts) > 1 else None
        cpus = cpu_sets(spec["ProcessingResources"]["ClusterConfig"]["InstanceType"], len(hosts))
        writers, processes = [], []
        for index, host in enumerate(hosts):
            writer = LogWriter(
                self._logs,
                LOG_GROUP,
                f"{record.name}/{host.name}-{int(started)}",
                account=record.account,
                region=record.region,
            )
            writers.append(writer)
            runner = {
                "command": command[0],
                "cwd": command[1],
                "environment": str(workdir / f"{host.name}-python"),
            }
            env = {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "HOME": str(host.root),
                "LANG": "C.UTF-8",
                "PYTHONUNBUFFERED": "1",
                **spec.get("Environment", {}),
                "SAGESTACK_RUNNER": json.dumps(runner),
            }
            workload = Workload(
                name=f"processing-job/{record.name}/{host.name}",
                command=[sys.executable, "-m", "sagestack.containers.processing"],
                env=env,
                cwd=host.root,
                root=host.root,
                hosts_file=hosts_path,
                isolate_network=bool(spec.get("NetworkConfig", {}).get("EnableNetworkIsolation")),
                cpus=cpus[index] if cpus else None,
            )
            sink = tee(writer.line, tail.append) if index == 0 else writer.line
            processes.append(self._executor.launch(workload, sink))
        limit = spec.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400)
        synced = started

        def tick(now: float) -> None:  # Continuous outputs go up as they are written
            nonlocal synced
            if now - synced >= CONTINUOUS_SECONDS:
                synced = now
                for host in hosts:
                    host.sync("Continuous")

        def timed_out() -> None:
            self._advance(record.arn, "Stopping")

        try:
            with self._tracking(record.arn, processes):
                return self._supervise(
                    record.arn, processes, started + float(limit), on_timeout=timed_out, tick=tick
                )
        finally:
            for writer in writers:
                writer.close()


def _local(root: Path, local_path: str) -> Path:
    """Where a LocalPath under /opt/ml/processing/ lies in a host's root (the rules checked
    that it has no `..`)."""
    return root / local_path.removeprefix(_OPT_ML).strip("/")


def _exit_message(hosts: list[_Host]) -> str | None:
    for host in hosts:
        path = host.root / "output" / "message"
        if path.is_file():
            text = path.read_text(errors="replace").strip()
            if text:
                return text[:MESSAGE_LIMIT]
    return None


def _failure_reason(code: int | None, message: str | None, tail: deque[str]) -> str:
    """SageMaker's "AlgorithmError: <message>, exit code: <n>": the container's exit message,
    or else the last lines it printed (SageMaker leaves it empty; the lines say why)."""
    if message is None:
        lines = [line for line in tail if line.strip()]
        message = "\n".join(lines[-3:])[-700:]
    reason = f"AlgorithmError: {message}, exit code: {code}"
    return reason if len(reason) <= MESSAGE_LIMIT else f"{reason[:1000]}…, exit code: {code}"
