"""The platform side of a multi-model variant: which models each replica has loaded.

As on SageMaker, the platform (not the container) downloads `<ModelDataUrl prefix>/<TargetModel>`
into the replica (`models/<hash>/model`, extracted with `extract_archive`), calls the model
server's LoadModel (`POST /models`), and unloads the least recently used models
(`DELETE /models/<name>`) when the loaded ones would exceed the replica's memory budget (each
model's artifact size stands for its memory). With MultiModelConfig.ModelCacheSetting Disabled a
model is unloaded as soon as no invocation uses it. Runs on the server's event loop; the slow
parts (downloads, the container's calls) run in threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from sagestack.control.job_root import InputError, extract_archive
from sagestack.control.replicas import ReplicaProcess
from sagestack.serving.hosting import Refused
from sagestack.serving.routing import Replica
from sagestack.storage.base import ObjectStore, split_s3_uri

LOG = logging.getLogger(__name__)


@dataclass(slots=True)
class _Loaded:
    """One replica's models: name → size in bytes, least recently used first."""

    process: ReplicaProcess
    sizes: OrderedDict[str, int] = field(default_factory=OrderedDict)
    in_use: Counter[str] = field(default_factory=Counter)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)


class ModelCache:
    def __init__(
        self, objects: ObjectStore, prefix: str, *, budget_bytes: int, caching: bool
    ) -> None:
        self._objects = objects
        self._bucket, key = split_s3_uri(prefix)
        self._prefix = key.rstrip("/")
        self._budget = budget_bytes
        self._caching = caching
        self._replicas: dict[str, _Loaded] = {}

    def track(self, processes: list[ReplicaProcess]) -> None:
        """The variant's replicas now (called by the controller when its fleet changes)."""
        current = {p.id: p for p in processes}
        self._replicas = {
            id_: self._replicas.get(id_) or _Loaded(process) for id_, process in current.items()
        }

    def holders(self, target: str) -> frozenset[str]:
        return frozenset(id_ for id_, loaded in self._replicas.items() if target in loaded.sizes)

    async def load(self, replica: Replica, target: str) -> None:
        loaded = self._replicas.get(replica.id)
        if loaded is None:
            raise Refused("ServiceUnavailable", 503, "The replica is gone; try again.")
        lock = loaded.locks.setdefault(target, asyncio.Lock())
        async with lock:
            if target in loaded.sizes:
                loaded.sizes.move_to_end(target)
                loaded.in_use[target] += 1
                return
            directory = loaded.process.root / "models" / _slot(target) / "model"
            size = await asyncio.to_thread(self._download, target, directory)
            await self._make_room(loaded, size)
            url = f"{loaded.process.base}/models/{_slot(target)}/model"
            body = json.dumps({"model_name": target, "url": url}).encode()
            status, message = await asyncio.to_thread(
                _call, loaded.process.address, "POST", "/models", body
            )
            if status != 200:
                shutil.rmtree(directory.parent, ignore_errors=True)
                raise Refused(
                    "ModelError",
                    424,
                    f'Received server error ({status}) from primary with message "{message}" '
                    f"while loading the model {target}.",
                )
            loaded.sizes[target] = size
            loaded.in_use[target] += 1

    async def release(self, replica: Replica, target: str) -> None:
        loaded = self._replicas.get(replica.id)
        if loaded is None:
            return
        loaded.in_use[target] -= 1
        if loaded.in_use[target] <= 0:
            del loaded.in_use[target]
            if not self._caching and target in loaded.sizes:
                await self._unload(loaded, target)

    async def _make_room(self, loaded: _Loaded, size: int) -> None:
        """Unload the least recently used models not in use until `size` more bytes fit."""
        for name in list(loaded.sizes):
            if sum(loaded.sizes.values()) + size <= self._budget:
                return
            if loaded.in_use[name] <= 0:
                await self._unload(loaded, name)

    async def _unload(self, loaded: _Loaded, name: str) -> None:
        loaded.sizes.pop(name, None)
        path = "/models/" + urllib.parse.quote(name, safe="")
        status, message = await asyncio.to_thread(_call, loaded.process.address, "DELETE", path)
        if status != 200:
            LOG.warning("Unloading %s from %s: %s %s", name, loaded.process.id, status, message)
        shutil.rmtree(loaded.process.root / "models" / _slot(name), ignore_errors=True)

    def _download(self, target: str, directory: Path) -> int:
        key = f"{self._prefix}/{target}" if self._prefix else target
        try:
            self._objects.head_object(self._bucket, key)
        except Exception:
            raise Refused(
                "ValidationError",
                400,
                f"Failed to download model data(bucket: {self._bucket}, key: {key}). Please "
                "ensure that there is an object located at the URL and that the role passed to "
                "CreateModel has permissions to download the model.",
            ) from None
        shutil.rmtree(directory, ignore_errors=True)
        try:
            extract_archive(self._objects, f"s3://{self._bucket}/{key}", directory)
        except InputError as error:
            shutil.rmtree(directory.parent, ignore_errors=True)
            raise Refused("ValidationError", 400, str(error)) from None
        return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def _slot(target: str) -> str:
    """The directory of a model inside the replica: TargetModel may hold any characters."""
    return hashlib.sha256(target.encode()).hexdigest()[:24]


def _call(address: str, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"{address}{path}", data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=600) as reply:
            return int(reply.status), reply.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        return 0, str(error)
