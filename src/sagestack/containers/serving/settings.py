"""What a replica's model server is told through its environment, read once at startup.

The controller sets `SAGEMAKER_BASE_DIR`, `SAGEMAKER_BIND_TO_PORT` (or
`SAGESTACK_SERVING_SOCKET` for an isolated replica) and `SAGESTACK_RUNTIME`; the rest are the
Model's `Environment`, with the defaults the SageMaker inference toolkit gives them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

FRAMEWORKS = frozenset({"sklearn", "xgboost", "pytorch", "tensorflow", "huggingface", "python"})


class SettingsError(Exception):
    """The environment does not describe a server that can start."""


def _log_level(value: str | None) -> int:
    """SAGEMAKER_CONTAINER_LOG_LEVEL is a number (the SDK sends 20) or a level name."""
    if not value:
        return logging.INFO
    if value.strip().lstrip("-").isdigit():
        return int(value)
    level = logging.getLevelName(value.strip().upper())
    return level if isinstance(level, int) else logging.INFO


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, not {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class ServingSettings:
    base: Path
    mode: str  # "script" | "algorithm"
    name: str  # the framework or the algorithm
    port: int
    unix_socket: str | None
    #: SAGEMAKER_PROGRAM; "" (set but empty, as the SDK sends it for a model without an entry
    #: point) is kept apart from None (not set) because the XGBoost image reads it as "no
    #: script: serve the built-in algorithm".
    program: str | None
    workers: int
    timeout: float
    default_accept: str | None
    max_payload_mb: int
    log_level: int
    #: SAGEMAKER_MULTI_MODEL=true: the server starts empty and loads models on request.
    multi_model: bool = False

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def code_dirs(self) -> tuple[Path, ...]:
        """Where SAGEMAKER_PROGRAM may live: the source directory, then the repacked model's
        `code/` (the inference toolkit looks there too)."""
        return (self.base / "code", self.model_dir / "code")

    @property
    def address(self) -> str:
        return f"unix:{self.unix_socket}" if self.unix_socket else f"127.0.0.1:{self.port}"

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> ServingSettings:
        try:
            runtime = json.loads(env.get("SAGESTACK_RUNTIME") or '{"mode": "script"}')
        except ValueError:
            raise SettingsError("SAGESTACK_RUNTIME is not JSON") from None
        mode = str(runtime.get("mode") or "script")
        name = str(runtime.get("name") or "python")
        if mode not in ("script", "algorithm"):
            raise SettingsError(f"Unknown runtime mode {mode!r}: expected script or algorithm")
        if mode == "script" and name not in FRAMEWORKS:
            raise SettingsError(
                f"Unknown framework {name!r}: expected one of {', '.join(sorted(FRAMEWORKS))}"
            )
        port = env.get("SAGEMAKER_BIND_TO_PORT", "8080").strip() or "8080"
        if not port.isdigit():
            raise SettingsError(f"SAGEMAKER_BIND_TO_PORT must be a port number, not {port!r}")
        return cls(
            base=Path(env.get("SAGEMAKER_BASE_DIR") or "/opt/ml"),
            mode=mode,
            name=name,
            port=int(port),
            unix_socket=env.get("SAGESTACK_SERVING_SOCKET") or None,
            program=env.get("SAGEMAKER_PROGRAM"),
            workers=int(_positive(env, "SAGEMAKER_MODEL_SERVER_WORKERS", 1)),
            timeout=_positive(env, "SAGEMAKER_MODEL_SERVER_TIMEOUT", 60),
            default_accept=env.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or None,
            max_payload_mb=int(_positive(env, "SAGEMAKER_MAX_PAYLOAD_IN_MB", 6)),
            log_level=_log_level(env.get("SAGEMAKER_CONTAINER_LOG_LEVEL")),
            multi_model=env.get("SAGEMAKER_MULTI_MODEL", "").strip().lower() == "true",
        )
