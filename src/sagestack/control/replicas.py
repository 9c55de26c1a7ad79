"""Model-server replicas: one process each, started from a model's container and health-checked
through `/ping`, as SageMaker hosts a production variant's instances.

A replica's root is laid out like /opt/ml (`model/` holds model.tar.gz extracted, `code/` the
SAGEMAKER_SUBMIT_DIRECTORY archive) and bound at /opt/ml where the host allows it; its output
goes to the endpoint's log group, stream `<variant>/<instance id>`.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagestack.control.job_root import InputError, extract_archive
from sagestack.control.log_writer import LogWriter, tee
from sagestack.executors.base import Executor, Running, Workload
from sagestack.observability.log_store import LogStore
from sagestack.resources.endpoints import log_group
from sagestack.resources.images import LocalImage, runtime_for
from sagestack.storage.base import ObjectStore

#: Seconds a replica has to answer /ping after it starts.
READY_SECONDS = 120.0


#: Replicas by variant name: what serves one deployment of an endpoint.
Fleet = dict[str, list["ReplicaProcess"]]


class DeployError(Exception):
    """A variant cannot be served: the endpoint (or the update) fails with this reason."""


@dataclass(eq=False, slots=True)
class ReplicaProcess:
    id: str
    variant: str
    address: str
    root: Path
    running: Running
    writer: LogWriter
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    on_stop: Callable[[ReplicaProcess], None] = lambda replica: None
    #: The root as the model server sees it (SAGEMAKER_BASE_DIR): /opt/ml when bound there.
    base: str = ""
    #: A multi-container instance: the processes of its other containers, and the
    #: ContainerHostname of each container (this one first).
    siblings: tuple[ReplicaProcess, ...] = ()
    hostnames: tuple[str, ...] = ()
    #: Set when sagestack stops it (retired by an update or a scale-in): its exit is expected,
    #: so the watchdog must not replace it.
    retired: bool = False

    def alive(self) -> bool:
        return all(p.running.poll() is None for p in (self, *self.siblings))

    def identities(self) -> list[str]:
        return [p.running.identity for p in (self, *self.siblings)]

    def containers(self) -> tuple[tuple[str, str], ...]:
        """(ContainerHostname, address) of each container of a multi-container instance."""
        if not self.siblings:
            return ()
        processes = (self, *self.siblings)
        return tuple((h, p.address) for h, p in zip(self.hostnames, processes, strict=True))

    def stop(self, grace: float = 5.0) -> None:
        self.retired = True
        for sibling in self.siblings:
            sibling.stop(grace)
        self.on_stop(self)
        self.running.terminate()
        if self.running.wait(grace) is None:
            self.running.kill()
            self.running.wait(10)
        self.writer.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_ping(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"{address}/ping", timeout=2) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass(slots=True)
class ReplicaFactory:
    objects: ObjectStore
    logs: LogStore
    executor: Executor
    directory: Path
    local_images: Callable[[], Mapping[str, LocalImage]]
    #: Cache of the environments made for inference code's requirements.txt.
    environments: Path
    #: Every replica started and not yet stopped, whichever fleet it belongs to (or none yet).
    live: set[ReplicaProcess] = field(default_factory=set)
    closed: bool = False

    def close(self) -> None:
        """Stop every live replica, and start no more (sagestack is shutting down)."""
        self.closed = True
        for replica in list(self.live):
            replica.stop(grace=2.0)

    def start(
        self,
        endpoint: Mapping[str, str],
        variant: Mapping[str, Any],
        *,
        log: Callable[[str], tuple[str, str]] | None = None,
    ) -> ReplicaProcess:
        """Start one replica of `variant` (as resolved in the endpoint's Deployment). `log`
        names the (group, stream) of its output from its instance id, for replicas that serve
        something else than an endpoint (a transform job); by default the endpoint's."""
        if self.closed:
            raise DeployError("sagestack is shutting down.")
        model = variant["Model"]
        containers = model.get("Containers") or [model.get("PrimaryContainer", {})]
        instance = f"i-{secrets.token_hex(8)}"
        if len(containers) == 1:
            return self._start(endpoint, variant, containers[0], instance, log)
        hostnames = container_hostnames(containers)
        started: list[ReplicaProcess] = []
        try:
            for container, hostname in zip(containers, hostnames, strict=True):
                started.append(
                    self._start(endpoint, variant, container, instance, log, hostname=hostname)
                )
        except BaseException:
            for replica in started:
                replica.stop()
            raise
        first = started[0]
        first.siblings, first.hostnames = tuple(started[1:]), tuple(hostnames)
        for sibling in first.siblings:
            self.live.discard(sibling)  # stopped with the first
        return first

    def _start(
        self,
        endpoint: Mapping[str, str],
        variant: Mapping[str, Any],
        container: Mapping[str, Any],
        instance: str,
        log: Callable[[str], tuple[str, str]] | None,
        *,
        hostname: str | None = None,
    ) -> ReplicaProcess:
        """One container's model server; a multi-model container starts with no model (the
        platform loads them into `models/` on request)."""
        multi_model = container.get("Mode") == "MultiModel"
        environment = dict(container.get("Environment", {}))
        image = container.get("Image", "")
        runtime = runtime_for(
            image,
            # The SDK sends SAGEMAKER_PROGRAM "" for a model without code: algorithm mode.
            has_program=bool(environment.get("SAGEMAKER_PROGRAM")),
            has_entrypoint=False,
            registered=self.local_images(),
        )
        if runtime is None:
            raise DeployError(
                f"The image {image} for production variant {variant['VariantName']} cannot be "
                "pulled: sagestack has no runtime for it (`sagestack images` lists them)."
            )
        root = self.directory / uuid.uuid4().hex
        try:
            if container.get("ModelDataUrl") and not multi_model:
                extract_archive(self.objects, container["ModelDataUrl"], root / "model")
            source = environment.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
            if source.startswith("s3://"):
                extract_archive(self.objects, source, root / "code")
        except InputError as error:
            shutil.rmtree(root, ignore_errors=True)
            raise DeployError(str(error)) from None
        (root / "model").mkdir(parents=True, exist_ok=True)
        (root / "models").mkdir(exist_ok=True)
        port = _free_port()
        bound = self.executor.binds_opt_ml
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            **environment,
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SAGEMAKER_BASE_DIR": "/opt/ml" if bound else str(root),
            "SAGESTACK_RUNTIME": json.dumps({"mode": runtime.mode, "name": runtime.name}),
            "SAGESTACK_ENVIRONMENTS": str(self.environments),
        }
        if multi_model:
            env["SAGEMAKER_MULTI_MODEL"] = "true"
        local = runtime.local
        command: Sequence[str] = (
            [*local.command, "serve"]
            if local
            else [sys.executable, "-m", "sagestack.containers.serving", "serve"]
        )
        group, stream = (
            log(instance)
            if log is not None
            else (log_group(endpoint["name"]), f"{variant['VariantName']}/{instance}")
        )
        if hostname is not None:
            stream = f"{stream}/{hostname}"
        writer = LogWriter(
            self.logs,
            group,
            stream,
            account=endpoint["account"],
            region=endpoint["region"],
        )
        replica_tail: deque[str] = deque(maxlen=20)
        running = self.executor.launch(
            Workload(
                name=f"endpoint/{endpoint['name']}/{variant['VariantName']}/{instance}"
                + (f"/{hostname}" if hostname else ""),
                command=command,
                env=env,
                cwd=Path(local.directory) if local else root,
                root=root,
            ),
            tee(writer.line, replica_tail.append),
        )
        replica = ReplicaProcess(
            instance,
            variant["VariantName"],
            f"http://127.0.0.1:{port}",
            root,
            running,
            writer,
            replica_tail,
            on_stop=self.live.discard,
            base=env["SAGEMAKER_BASE_DIR"],
        )
        self.live.add(replica)
        return replica


def wait_ready(replicas: Sequence[ReplicaProcess], timeout: float = READY_SECONDS) -> None:
    """Return once every replica answers /ping; DeployError (SageMaker's reason) when one exits
    or the time runs out. The caller stops the replicas on error."""
    pending = [p for replica in replicas for p in (replica, *replica.siblings)]
    deadline = time.monotonic() + timeout
    while pending:
        for replica in list(pending):
            if replica.running.poll() is not None:
                raise DeployError(_ping_failure(replica.variant))
            if _answers_ping(replica.address):
                pending.remove(replica)
        if pending:
            if time.monotonic() > deadline:
                raise DeployError(_ping_failure(pending[0].variant))
            time.sleep(0.05)


def _ping_failure(variant: str) -> str:
    return (
        f"The primary container for production variant {variant} did not pass the ping health "
        "check. Please check CloudWatch logs for this endpoint."
    )


def container_hostnames(containers: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each container's ContainerHostname; SageMaker names those left out by their position
    ("container_1", ...)."""
    return [
        str(c.get("ContainerHostname") or f"container_{index}")
        for index, c in enumerate(containers, start=1)
    ]
