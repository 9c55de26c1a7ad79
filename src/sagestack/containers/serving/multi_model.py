"""The model server as a multi-model container (SAGEMAKER_MULTI_MODEL=true).

SageMaker's multi-model contract: the platform downloads a model's artifacts into the container
and calls its model-management API, as Multi Model Server offers it:

- `POST /models` {"model_name", "url"}: load the model whose files are in `url` (200; 409 when
  that name is loaded already);
- `DELETE /models/<name>`: unload it (404 when it is not loaded);
- `GET /models`: the loaded models;
- `POST /models/<name>/invoke`, or `POST /invocations` with X-Amzn-SageMaker-Target-Model:
  answer with that model (404 when it is not loaded).

Which models stay loaded (LRU under a memory budget) is the platform's decision, as on
SageMaker, where the instance's agent unloads models to make room; the server only obeys.
Each model loads through the same handler chain as a single-model server, with its directory
as `model_dir`; the source directory (SAGEMAKER_SUBMIT_DIRECTORY) is shared by all of them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote

from sagestack.containers.serving.errors import TorchServeErrors, error_style
from sagestack.containers.serving.handlers import Answer, LoadedModel, load
from sagestack.containers.serving.http import Application
from sagestack.containers.serving.settings import ServingSettings

log = logging.getLogger("sagestack.serving")

TARGET_MODEL = "x-amzn-sagemaker-target-model"
NO_TARGET = "This is a multi-model server: name the target model"


class MultiModelApplication(Application):
    """Application with the model-management routes and one LoadedModel per model name."""

    def __init__(self, settings: ServingSettings) -> None:
        errors = error_style(settings.mode, settings.name)

        def no_model(
            body: bytes, content_type: str, accept: str, head: Mapping[str, str]
        ) -> Answer:
            return errors.refusal(400, NO_TARGET)

        super().__init__(
            LoadedModel(no_model, "multi-model server"),
            settings.timeout,
            settings.workers,
            settings.max_payload_mb,
            errors,
        )
        self.settings = settings
        self.models: dict[str, LoadedModel] = {}

    def respond(
        self, method: bytes, path: bytes, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        if path == b"/models":
            if method == b"GET":
                listed = [{"modelName": name} for name in self.models]
                return Answer(200, json.dumps({"models": listed}).encode(), "application/json")
            if method == b"POST":
                return self.load_model(body)
            return self.errors.refusal(405, "Use GET or POST for /models")
        if path.startswith(b"/models/"):
            rest = unquote(path[len(b"/models/") :].decode("latin-1"))
            if method == b"POST" and rest.endswith("/invoke"):
                return self.invoke_model(rest.removesuffix("/invoke"), headers, body)
            if method == b"DELETE":
                return self.unload_model(rest)
            if method == b"GET":
                if rest not in self.models:
                    return self._not_loaded(rest)
                return Answer(200, json.dumps({"modelName": rest}).encode(), "application/json")
            return self.errors.refusal(
                405, "Use POST /models/<name>/invoke or DELETE /models/<name>"
            )
        if path == b"/invocations" and method == b"POST":
            target = headers.get(TARGET_MODEL)
            if not target:
                return self.errors.refusal(400, NO_TARGET)
            return self.invoke_model(target, headers, body)
        return super().respond(method, path, headers, body)

    def invoke_model(self, name: str, headers: Mapping[str, str], body: bytes) -> Answer:
        model = self.models.get(name)
        if model is None:
            return self._not_loaded(name)
        return self.timed(model, headers, body)

    def load_model(self, body: bytes) -> Answer:
        try:
            request = json.loads(body)
            name, url = str(request["model_name"]), Path(str(request["url"]))
        except (ValueError, KeyError, TypeError):
            return self.errors.refusal(400, 'Expected {"model_name": ..., "url": ...}')
        if name in self.models:
            return self.errors.refusal(409, f"Model {name} is already loaded")
        if not url.is_dir():
            return self.errors.refusal(
                404, f"Model directory {url} does not exist", "ModelNotFoundException"
            )
        started = time.monotonic()
        try:
            self.models[name] = load(self._settings_for(url))
        except Exception as error:
            log.error("Model %s failed to load:\n%s", name, traceback.format_exc().rstrip())
            return self.errors.refusal(
                500, f"Model {name} failed to load: {type(error).__name__}: {error}"
            )
        log.info("Loaded model %s in %.2fs", name, time.monotonic() - started)
        return Answer(
            200, json.dumps({"status": f"Model {name} loaded"}).encode(), "application/json"
        )

    def unload_model(self, name: str) -> Answer:
        if self.models.pop(name, None) is None:
            return self._not_loaded(name)
        log.info("Unloaded model %s", name)
        return Answer(
            200, json.dumps({"status": f"Model {name} unloaded"}).encode(), "application/json"
        )

    def _not_loaded(self, name: str) -> Answer:
        """404; TorchServe and MMS name it ModelNotFoundException ("Model not found: ...")."""
        if isinstance(self.errors, TorchServeErrors):
            return self.errors.refusal(404, f"Model not found: {name}", "ModelNotFoundException")
        return self.errors.refusal(404, f"Model {name} is not loaded")

    def _settings_for(self, model_dir: Path) -> ServingSettings:
        """The settings of a single-model server whose model directory is `model_dir`; the
        shared source directory is linked beside it, where the handler lookup expects it."""
        base = model_dir.parent
        shared, local = self.settings.base / "code", base / "code"
        if shared.is_dir() and not local.exists():
            local.symlink_to(shared, target_is_directory=True)
        if model_dir.name != "model":
            raise ValueError(f"A model directory must be named model, not {model_dir.name}")
        return dataclasses.replace(self.settings, base=base, multi_model=False)
