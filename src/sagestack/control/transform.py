"""The transform-job controller: runs each batch transform job for real, one thread per job.

A job starts TransformResources.InstanceCount replicas of its model's server with the same
ReplicaFactory endpoints use (their output in /aws/sagemaker/TransformJobs, stream
`<job>/<instance id>-<epoch>`), waits for /ping, asks the first for /execution-parameters to fill
in what the request left out (MaxConcurrentTransforms, MaxPayloadInMB, BatchStrategy; then
SageMaker's defaults 1, 6 MB, SingleRecord), sends the records (`transform_run`), and ends
Completed, Failed (the failing object and reason named) or, after StopTransformJob, Stopped. The
job's own progress goes to the `<job>/<instance id>-<epoch>/data-log` stream. A job found
unfinished at start-up ends Failed (Stopped if it was stopping), its replicas reaped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagestack.control.job_root import InputError, data_source_objects
from sagestack.control.log_writer import LogWriter
from sagestack.control.replicas import DeployError, ReplicaFactory, ReplicaProcess, wait_ready
from sagestack.control.transform_client import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    ReplicaClient,
    execution_parameters,
)
from sagestack.control.transform_data import DataProcessor
from sagestack.control.transform_run import Plan, Source, TransformFailed, TransformRun
from sagestack.control.transform_settings import model_for, resolve
from sagestack.observability.log_store import LogStore
from sagestack.resources.records import Event, ResourceRecord
from sagestack.resources.transform_jobs import KIND, LOG_GROUP, TERMINAL, advance
from sagestack.storage.base import ObjectStore, split_s3_uri
from sagestack.store.base import Change, ResourceStore, change_record

LOG = logging.getLogger(__name__)

STOP_CHECK_SECONDS = 0.5


class JobGone(Exception):
    """The record was deleted (the store reset) while the controller worked on it."""


class TransformController:
    kind = KIND

    def __init__(
        self,
        store: ResourceStore,
        *,
        objects: ObjectStore,
        logs: LogStore,
        replicas: ReplicaFactory,
        directory: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._objects = objects
        self._logs = logs
        self._replicas = replicas
        self._directory = directory
        self._clock = clock
        self._running: dict[str, threading.Thread] = {}
        self._fleets: dict[str, list[ReplicaProcess]] = {}
        self._lock = threading.Lock()
        shutil.rmtree(directory, ignore_errors=True)  # work files of a previous server

    # -- reconciler hooks -------------------------------------------------------------------

    def notify(self, event: Event) -> None:
        if event.type != "Created":
            return
        with self._lock:
            thread = self._running.get(event.arn)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(
                target=self._run, args=(event.arn,), name=f"transform {event.arn}", daemon=True
            )
            self._running[event.arn] = thread
        thread.start()

    def recover(self, arn: str, status: str | None) -> None:
        """A job found unfinished at start-up: its replicas are reaped and it ends (it cannot
        be resumed)."""
        if status in TERMINAL:
            return
        record = self._store.get_by_arn(arn)
        if record is None:
            return
        for identity in record.state.get("Workloads", []):
            self._replicas.executor.reap(identity)
        LOG.warning("%s was %s when sagestack stopped", arn, record.status)
        if record.status == "Stopping":
            self._finish(arn, "Stopped")
        else:
            self._finish(
                arn,
                "Failed",
                reason="InternalServerError: sagestack restarted while the job was running; "
                "start it again.",
            )

    def reset(self) -> None:
        """Before a wipe: stop every job's replicas and let its thread end."""
        with self._lock:
            fleets = list(self._fleets.values())
        for fleet in fleets:
            for replica in list(fleet):
                replica.stop(grace=2.0)
        deadline = time.monotonic() + 30
        for thread in list(self._running.values()):
            thread.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """sagestack is shutting down: every replica stops, also those still starting."""
        self._replicas.close()

    # -- record updates ---------------------------------------------------------------------

    def _write(self, arn: str, change: Change) -> ResourceRecord:
        record = change_record(self._store, arn, change)
        if record is None:
            raise JobGone(arn)
        return record

    def _finish(self, arn: str, status: str, *, reason: str | None = None) -> None:
        """End the job: a Stopping job ends Stopped whatever the run's outcome."""

        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None] | None:
            if record.status in TERMINAL:
                return None
            target, why = status, reason
            if record.status == "Stopping":
                target, why = "Stopped", None
            return advance(record, target, now=self._clock(), reason=why)

        with contextlib.suppress(JobGone):
            self._write(arn, change)

    def _note(self, arn: str, **state: Any) -> None:
        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            return dataclasses.replace(record, state={**record.state, **state}), None

        self._write(arn, change)

    def _stop_check(self, arn: str) -> Callable[[], bool]:
        """Whether StopTransformJob was called (the store is read at most every half second)."""
        seen = {"at": 0.0, "stop": False}

        def stop_requested() -> bool:
            now = time.monotonic()
            if not seen["stop"] and now - seen["at"] >= STOP_CHECK_SECONDS:
                seen["at"] = now
                record = self._store.get_by_arn(arn)
                seen["stop"] = record is None or bool(record.state.get("StopRequested"))
            return bool(seen["stop"])

        return stop_requested

    # -- the job ----------------------------------------------------------------------------

    def _run(self, arn: str) -> None:
        workdir = self._directory / uuid.uuid4().hex
        try:
            self._transform(arn, workdir)
        except JobGone:
            LOG.info("%s was removed while it ran", arn)
        except Exception as error:
            LOG.exception("%s failed inside sagestack", arn)
            self._finish(arn, "Failed", reason=f"InternalServerError: {error}")
        finally:
            self._release(arn)
            shutil.rmtree(workdir, ignore_errors=True)

    def _release(self, arn: str) -> None:
        """Stop the job's replicas (their last output reaches the log before the job ends)."""
        with self._lock:
            fleet = self._fleets.pop(arn, [])
        for replica in fleet:
            replica.stop()

    def _transform(self, arn: str, workdir: Path) -> None:
        record = self._write(arn, _started(self._clock()))
        spec = record.spec
        source = spec["TransformInput"]["DataSource"]["S3DataSource"]
        try:
            found = data_source_objects(self._objects, source)
        except (InputError, Exception) as error:  # a missing bucket, an unreadable manifest
            self._finish(arn, "Failed", reason=f"ClientError: {error}")
            return
        if not found:
            self._finish(
                arn,
                "Failed",
                reason=f'ClientError: No S3 objects found under S3 URL "{source["S3Uri"]}" '
                "given in input data source. Please ensure that the bucket exists in the "
                "selected region.",
            )
            return
        output_bucket, output_prefix = split_s3_uri(spec["TransformOutput"]["S3OutputPath"])
        if not self._objects.bucket_exists(output_bucket):
            self._finish(
                arn,
                "Failed",
                reason=f"ClientError: The output bucket {output_bucket} does not exist.",
            )
            return
        fleet = self._start_fleet(record)
        if fleet is None:
            return
        epoch = int(record.state.get("TransformStartTime", self._clock()))
        data_log = LogWriter(
            self._logs,
            LOG_GROUP,
            f"{record.name}/{fleet[0].id}-{epoch}/data-log",
            account=record.account,
            region=record.region,
        )
        try:
            self._execute(
                record,
                fleet,
                found=found,
                output=(output_bucket, output_prefix),
                workdir=workdir,
                data_log=data_log,
            )
        finally:
            data_log.close()

    def _start_fleet(self, record: ResourceRecord) -> list[ReplicaProcess] | None:
        spec = record.spec
        count = int(spec["TransformResources"]["InstanceCount"])
        variant = {"VariantName": "AllTraffic", "Model": model_for(spec)}
        job = {"name": record.name, "account": record.account, "region": record.region}
        epoch = int(record.state.get("TransformStartTime", self._clock()))

        def log(instance: str) -> tuple[str, str]:
            return LOG_GROUP, f"{record.name}/{instance}-{epoch}"

        fleet: list[ReplicaProcess] = []
        with self._lock:
            self._fleets[record.arn] = fleet
        try:
            for _ in range(count):
                fleet.append(self._replicas.start(job, variant, log=log))
            self._note(record.arn, Workloads=[r.running.identity for r in fleet])
            wait_ready(fleet)
        except DeployError as error:
            tail = "\n".join(line for r in fleet for line in list(r.tail)[-5:])
            reason = str(error)
            if "ping health check" in reason:
                reason = (
                    "The model container did not pass the ping health check. Please check "
                    "CloudWatch logs of this transform job."
                )
            self._finish(
                record.arn, "Failed", reason=f"ClientError: {reason} {tail}".strip()[:1024]
            )
            return None
        return fleet

    def _execute(
        self,
        record: ResourceRecord,
        fleet: list[ReplicaProcess],
        *,
        found: list[tuple[str, str, str]],
        output: tuple[str, str],
        workdir: Path,
        data_log: LogWriter,
    ) -> None:
        spec = record.spec
        resolved = resolve(spec, execution_parameters(fleet[0].address))
        self._note(record.arn, Resolved=resolved)
        strategy = "MULTI_RECORD" if resolved["BatchStrategy"] == "MultiRecord" else "SINGLE_RECORD"
        data_log.line(
            f"[sagemaker logs]: MaxConcurrentTransforms={resolved['MaxConcurrentTransforms']}, "
            f"MaxPayloadInMB={resolved['MaxPayloadInMB']}, BatchStrategy={strategy}"
        )
        transform_input, transform_output = spec["TransformInput"], spec["TransformOutput"]
        client_config = spec.get("ModelClientConfig", {})
        client = ReplicaClient(
            [replica.address for replica in fleet],
            resolved["MaxConcurrentTransforms"],
            content_type=transform_input.get("ContentType"),
            accept=transform_output.get("Accept"),
            timeout=client_config.get("InvocationsTimeoutInSeconds", DEFAULT_TIMEOUT),
            retries=client_config.get("InvocationsMaxRetries", DEFAULT_RETRIES),
        )
        payload_mb = resolved["MaxPayloadInMB"]
        plan = Plan(
            split=transform_input.get("SplitType", "None"),
            multi=resolved["BatchStrategy"] == "MultiRecord",
            limit=payload_mb * 1024 * 1024 if payload_mb else None,
            gzip=transform_input.get("CompressionType") == "Gzip",
            line=transform_output.get("AssembleWith") == "Line",
            processor=DataProcessor(
                spec.get("DataProcessing", {}),
                transform_input.get("ContentType"),
                transform_output.get("Accept"),
            ),
            output_bucket=output[0],
            output_prefix=output[1],
        )
        sources = [Source(bucket, key, relative) for bucket, key, relative in found]
        sizes = [self._size(bucket, key) for bucket, key, _ in found]
        workdir.mkdir(parents=True, exist_ok=True)
        run = TransformRun(
            self._objects,
            plan,
            client,
            sources=sources,
            sizes=sizes,
            workdir=workdir,
            log=data_log.line,
            stop_requested=self._stop_check(record.arn),
        )
        try:
            finished = run.run()
        except TransformFailed as error:
            self._release(record.arn)
            self._finish(record.arn, "Failed", reason=str(error))
            return
        finally:
            client.close()
        self._release(record.arn)
        if finished:
            self._capture(record, sources, plan, run.progress.outputs)
        self._finish(record.arn, "Completed" if finished else "Stopped")

    def _size(self, bucket: str, key: str) -> int:
        try:
            return self._objects.head_object(bucket, key).size
        except Exception:
            return 0

    def _capture(
        self, record: ResourceRecord, sources: list[Source], plan: Plan, outputs: list[str]
    ) -> None:
        """BatchDataCaptureConfig: manifests of the job's input and output objects under
        `<DestinationS3Uri>/input|output/yyyy/mm/dd/hh/<job>.json`, as SageMaker writes them."""
        capture = record.spec.get("DataCaptureConfig")
        if not capture:
            return
        bucket, prefix = split_s3_uri(capture["DestinationS3Uri"])
        hour = time.strftime("%Y/%m/%d/%H", time.gmtime(self._clock()))
        manifests = {
            "input": [{"prefix": f"s3://{sources[0].bucket}/"}, *[s.key for s in sources]],
            "output": [{"prefix": f"s3://{plan.output_bucket}/"}, *outputs],
        }
        for kind, manifest in manifests.items():
            key = f"{prefix.strip('/')}/{kind}/{hour}/{record.name}.json".lstrip("/")
            self._objects.put_object(
                bucket, key, json.dumps(manifest).encode(), content_type="application/json"
            )


def _started(now: float) -> Change:
    def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
        if "TransformStartTime" in record.state:
            return record, None
        state = {**record.state, "TransformStartTime": now}
        return dataclasses.replace(record, state=state, last_modified_time=now), None

    return change
