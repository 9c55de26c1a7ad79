"""The validation controller: runs the ValidationSpecification of algorithms and model
packages for real, one worker thread per resource, and moves its status
Pending → InProgress → Completed | Failed.

For an algorithm, each validation profile is a training job with the algorithm (its
TrainingJobDefinition), then, when the profile has a TransformJobDefinition, a model from the
algorithm's inference image and the job's artifacts and a transform job with it. For a model
package, each profile is a model from the package's inference container and a transform job.
The jobs are created through the injected `Invoke` (the API's own handlers, so their rules
apply unchanged) and stay in the account, as on SageMaker, named after the resource and the
profile. A Marketplace image scan checks that sagestack has a runtime for the image.
Waiting happens on the worker, never on the reconciler's thread, whose other controllers run
the jobs waited for. After a restart a worker picks up where the state says it was: jobs
already created are waited for, not created again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sagestack.resources.images import LocalImage, runtime_for
from sagestack.resources.lifecycles import IllegalTransition
from sagestack.resources.model_packages import ALGORITHM_KIND, advance
from sagestack.resources.projects import Invoke, OperationFailed, Principal
from sagestack.resources.records import Event, ResourceRecord
from sagestack.store.base import ResourceStore, change_record

LOG = logging.getLogger(__name__)

_JOB_ENDED = frozenset({"Completed", "Failed", "Stopped"})


class ValidationFailed(Exception):
    """A profile (or the image scan) failed; the message is its FailureReason."""


class ValidationController:
    def __init__(
        self,
        store: ResourceStore,
        *,
        kind: str,
        invoke: Invoke,
        local_images: Callable[[], Mapping[str, LocalImage]] = dict,
        clock: Callable[[], float] = time.time,
        poll_seconds: float = 0.1,
        wait_seconds: float = 3 * 3600.0,
    ) -> None:
        self.kind = kind
        self._store = store
        self._invoke = invoke
        self._local_images = local_images
        self._clock = clock
        self._poll = poll_seconds
        self._wait_seconds = wait_seconds
        self._workers: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -- Controller protocol ------------------------------------------------------------------

    def notify(self, event: Event) -> None:
        if event.type == "Created" and event.status == "Pending":
            self._start(event.arn)

    def recover(self, arn: str, status: str | None) -> None:
        if status in ("Pending", "InProgress"):
            self._start(arn)

    def reset(self) -> None:
        self._stop.set()
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.join(timeout=5)
        self._stop = threading.Event()

    def close(self) -> None:
        self.reset()

    # -- workers ------------------------------------------------------------------------------

    def _start(self, arn: str) -> None:
        with self._lock:
            if arn in self._workers and self._workers[arn].is_alive():
                return
            worker = threading.Thread(
                target=self._validate, args=(arn, self._stop), name=f"validate {arn}", daemon=True
            )
            self._workers[arn] = worker
        worker.start()

    def _validate(self, arn: str, stop: threading.Event) -> None:
        try:
            record = self._write(arn, "InProgress")
            if record is None:
                return
            failed = self._scan(record)
            for index, item in enumerate(record.state.get("ValidationStatuses", [])):
                if stop.is_set():
                    return
                if item.get("Status") == "Completed":
                    continue  # done before a restart
                profile = self._profiles(record)[index]
                failed = self._run_profile(arn, index, profile, stop) or failed
            if not stop.is_set():
                self._write(arn, "Failed" if failed else "Completed")
        except Exception:  # one bad resource must never take the worker down silently
            LOG.exception("validation of %s failed", arn)
            self._write(arn, "Failed")

    def _scan(self, record: ResourceRecord) -> bool:
        """The image scan: sagestack must have a runtime for every image. True if it failed."""
        items = [dict(item) for item in record.state.get("ImageScanStatuses", [])]
        if not items:
            return False
        missing = [
            image
            for image in _images(record)
            if runtime_for(
                image, has_program=True, has_entrypoint=False, registered=self._local_images()
            )
            is None
        ]
        for item in items:
            if missing:
                item.update(
                    Status="Failed",
                    FailureReason=f"Image {missing[0]} cannot be pulled: sagestack has no "
                    "runtime for it (`sagestack images` lists them).",
                )
            else:
                item["Status"] = "Completed"
        self._write(record.arn, None, ImageScanStatuses=items)
        return bool(missing)

    def _run_profile(
        self, arn: str, index: int, profile: Mapping[str, Any], stop: threading.Event
    ) -> bool:
        """Run one profile's jobs; True if it failed."""
        self._set_item(arn, index, "InProgress")
        try:
            record = self._current(arn)
            if record.kind == ALGORITHM_KIND:
                self._algorithm_profile(record, profile, stop)
            else:
                self._package_profile(record, profile, stop)
        except ValidationFailed as failure:
            self._set_item(arn, index, "Failed", str(failure))
            return True
        self._set_item(arn, index, "Completed")
        return False

    def _algorithm_profile(
        self, record: ResourceRecord, profile: Mapping[str, Any], stop: threading.Event
    ) -> None:
        spec = record.spec
        definition = profile["TrainingJobDefinition"]
        base = _job_name(record, profile["ProfileName"])
        request: dict[str, Any] = {
            "TrainingJobName": base,
            "AlgorithmSpecification": {
                "AlgorithmName": record.arn,
                "TrainingInputMode": definition["TrainingInputMode"],
            },
            "RoleArn": spec["ValidationSpecification"]["ValidationRole"],
            **{key: value for key, value in definition.items() if key != "TrainingInputMode"},
        }
        job = self._child(
            record, "training-job", base, operation="CreateTrainingJob", request=request, stop=stop
        )
        if job.status != "Completed":
            raise ValidationFailed(
                f"Training job {base} ended {job.status}: "
                f"{job.state.get('FailureReason', 'no reason given')}"
            )
        transform = profile.get("TransformJobDefinition")
        if transform is None:
            return
        artifacts = job.state.get("ModelArtifacts", {}).get("S3ModelArtifacts")
        container = dict(spec["InferenceSpecification"]["Containers"][0])
        container["ModelDataUrl"] = artifacts
        self._transform(record, base, container, transform, stop)

    def _package_profile(
        self, record: ResourceRecord, profile: Mapping[str, Any], stop: threading.Event
    ) -> None:
        base = _job_name(record, profile["ProfileName"])
        self._transform(
            record, base, self._package_container(record), profile["TransformJobDefinition"], stop
        )

    def _package_container(self, record: ResourceRecord) -> dict[str, Any]:
        spec = record.spec
        if spec.get("InferenceSpecification"):
            return dict(spec["InferenceSpecification"]["Containers"][0])
        source = spec["SourceAlgorithmSpecification"]["SourceAlgorithms"][0]
        name = str(source["AlgorithmName"])
        algorithm = (
            self._store.get_by_arn(name)
            if name.startswith("arn:")
            else self._store.get(ALGORITHM_KIND, record.account, record.region, name)
        )
        inference = (algorithm.spec.get("InferenceSpecification") if algorithm else None) or {}
        if not inference:
            raise ValidationFailed(f"Algorithm {name} has no InferenceSpecification to validate.")
        container = dict(inference["Containers"][0])
        if source.get("ModelDataUrl"):
            container["ModelDataUrl"] = source["ModelDataUrl"]
        return container

    def _transform(
        self,
        record: ResourceRecord,
        base: str,
        container: Mapping[str, Any],
        definition: Mapping[str, Any],
        stop: threading.Event,
    ) -> None:
        role = record.spec["ValidationSpecification"]["ValidationRole"]
        shown = {
            k: v for k, v in container.items() if k in ("Image", "ModelDataUrl", "Environment")
        }
        if self._store.get("model", record.account, record.region, base) is None:
            self._call(
                record,
                "CreateModel",
                {"ModelName": base, "PrimaryContainer": shown, "ExecutionRoleArn": role},
            )
        request = {"TransformJobName": base, "ModelName": base, **definition}
        job = self._child(
            record,
            "transform-job",
            base,
            operation="CreateTransformJob",
            request=request,
            stop=stop,
        )
        if job.status != "Completed":
            raise ValidationFailed(
                f"Transform job {base} ended {job.status}: "
                f"{job.state.get('FailureReason', 'no reason given')}"
            )

    # -- children -----------------------------------------------------------------------------

    def _child(
        self,
        record: ResourceRecord,
        kind: str,
        name: str,
        *,
        operation: str,
        request: Mapping[str, Any],
        stop: threading.Event,
    ) -> ResourceRecord:
        """Create the job (unless it exists from before a restart) and wait for its end."""
        if self._store.get(kind, record.account, record.region, name) is None:
            self._call(record, operation, request)
        deadline = self._clock() + self._wait_seconds
        while not stop.is_set():
            job = self._store.get(kind, record.account, record.region, name)
            if job is None:
                raise ValidationFailed(f"The validation job {name} was deleted.")
            if job.status in _JOB_ENDED:
                return job
            if self._clock() > deadline:
                raise ValidationFailed(f"The validation job {name} did not end in time.")
            stop.wait(self._poll)
        raise ValidationFailed("sagestack stopped during validation.")

    def _call(self, record: ResourceRecord, operation: str, request: Mapping[str, Any]) -> None:
        creator = record.spec.get("CreatedBy", {}).get("IamIdentity", {})
        principal = Principal(
            record.account,
            record.region,
            principal_arn=creator.get("Arn", ""),
            user_id=creator.get("PrincipalId", ""),
        )
        try:
            self._invoke(operation, request, principal)
        except OperationFailed as error:
            raise ValidationFailed(f"{operation} failed: {error.code}: {error.message}") from None

    # -- records ------------------------------------------------------------------------------

    def _current(self, arn: str) -> ResourceRecord:
        record = self._store.get_by_arn(arn)
        if record is None:
            raise ValidationFailed(f"{arn} was deleted during validation.")
        return record

    def _profiles(self, record: ResourceRecord) -> list[Mapping[str, Any]]:
        return list(record.spec["ValidationSpecification"]["ValidationProfiles"])

    def _set_item(self, arn: str, index: int, status: str, reason: str | None = None) -> None:
        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            items = [dict(item) for item in record.state.get("ValidationStatuses", [])]
            items[index]["Status"] = status
            if reason is not None:
                items[index]["FailureReason"] = reason
            return advance(record, None, now=self._clock(), ValidationStatuses=items)

        change_record(self._store, arn, change)

    def _write(self, arn: str, status: str | None, **state: Any) -> ResourceRecord | None:
        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None] | None:
            try:
                return advance(record, status, now=self._clock(), **state)
            except IllegalTransition:
                return None  # already there (a restart), or ended

        return change_record(self._store, arn, change)


def _images(record: ResourceRecord) -> list[str]:
    spec = record.spec
    images = [c["Image"] for c in spec.get("InferenceSpecification", {}).get("Containers", [])]
    if "TrainingSpecification" in spec:
        images.insert(0, spec["TrainingSpecification"]["TrainingImage"])
    return [image for image in images if image]


def _job_name(record: ResourceRecord, profile: str) -> str:
    """A job name unique to the resource (its ARN and creation) and profile, within the 63
    characters job names may have."""
    digest = hashlib.sha256(f"{record.arn}|{record.creation_time}|{profile}".encode())
    stem = record.name.replace("/", "-")[:40].rstrip("-")
    return f"{stem}-val-{digest.hexdigest()[:8]}"
