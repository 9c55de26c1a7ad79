"""Settings: one frozen object, built once from command-line flags and SAGESTACK_* variables.

No other module reads the environment; everything that needs a setting is handed this object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_PORT = 6161
DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = Path.home() / ".sagestack"
    account_id: str = DEFAULT_ACCOUNT_ID
    default_region: str = DEFAULT_REGION
    allow_reset: bool = False
    #: Largest request body accepted, in bytes; a larger one is refused before it is read whole.
    max_body_bytes: int = 16 * 1024 * 1024
    #: Check every response against its botocore output shape (tests turn this on).
    strict_output: bool = False
    log_level: str = "info"
    #: An external S3-compatible endpoint for jobs and endpoints (None: the data dir's own store).
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_region: str | None = None
    #: Seconds a serverless variant's replica may sit idle before it is stopped (scale to zero).
    serverless_idle_seconds: float = 300.0
    #: Megabytes of models one multi-model replica keeps loaded before it unloads the least
    #: recently used (the size of each model's artifacts stands for its memory).
    multi_model_cache_mb: float = 2048.0

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'sagestack.db'}"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def jobs_dir(self) -> Path:
        """Job roots of running jobs (each removed when its job ends)."""
        return self.data_dir / "jobs"

    @property
    def processing_jobs_dir(self) -> Path:
        """Roots of running processing jobs' instances."""
        return self.data_dir / "processing-jobs"

    @property
    def transform_jobs_dir(self) -> Path:
        """Working files and model-server replicas of running transform jobs."""
        return self.data_dir / "transform-jobs"

    @property
    def endpoints_dir(self) -> Path:
        """Roots of running endpoint replicas (model/ and code/ as under /opt/ml)."""
        return self.data_dir / "endpoints"

    @property
    def environments_dir(self) -> Path:
        """Virtual environments with a job's requirements.txt, cached by the file's hash."""
        return self.data_dir / "environments"

    @property
    def images_file(self) -> Path:
        """Images registered with `sagestack images register` (bring your own container)."""
        return self.data_dir / "images.json"

    @property
    def logs_database(self) -> Path:
        return self.data_dir / "logs.db"

    @property
    def metrics_database(self) -> Path:
        """Per-minute invocation metrics (CloudWatch's data)."""
        return self.data_dir / "metrics.db"

    @property
    def async_queue_database(self) -> Path:
        """Accepted InvokeEndpointAsync requests not yet done."""
        return self.data_dir / "async-inference.db"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from SAGESTACK_* variables; `overrides` (command-line flags) win."""
        env = os.environ if environ is None else environ
        settings = cls()
        from_env: dict[str, object] = {}
        if "SAGESTACK_HOST" in env:
            from_env["host"] = env["SAGESTACK_HOST"]
        if "SAGESTACK_PORT" in env:
            from_env["port"] = int(env["SAGESTACK_PORT"])
        if "SAGESTACK_DATA_DIR" in env:
            from_env["data_dir"] = Path(env["SAGESTACK_DATA_DIR"]).expanduser()
        if "SAGESTACK_ACCOUNT_ID" in env:
            from_env["account_id"] = env["SAGESTACK_ACCOUNT_ID"]
        if "SAGESTACK_REGION" in env:
            from_env["default_region"] = env["SAGESTACK_REGION"]
        if "SAGESTACK_ALLOW_RESET" in env:
            from_env["allow_reset"] = _truthy(env["SAGESTACK_ALLOW_RESET"])
        if "SAGESTACK_STRICT_OUTPUT" in env:
            from_env["strict_output"] = _truthy(env["SAGESTACK_STRICT_OUTPUT"])
        for name in ("endpoint_url", "access_key_id", "secret_access_key", "region"):
            if f"SAGESTACK_S3_{name.upper()}" in env:
                from_env[f"s3_{name}"] = env[f"SAGESTACK_S3_{name.upper()}"]
        if "SAGESTACK_LOG_LEVEL" in env:
            from_env["log_level"] = env["SAGESTACK_LOG_LEVEL"].lower()
        if "SAGESTACK_SERVERLESS_IDLE_SECONDS" in env:
            from_env["serverless_idle_seconds"] = float(env["SAGESTACK_SERVERLESS_IDLE_SECONDS"])
        if "SAGESTACK_MULTI_MODEL_CACHE_MB" in env:
            from_env["multi_model_cache_mb"] = float(env["SAGESTACK_MULTI_MODEL_CACHE_MB"])
        from_env.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in from_env:
            from_env["data_dir"] = Path(str(from_env["data_dir"])).expanduser()
        settings = replace(settings, **from_env)  # type: ignore[arg-type]
        if not (len(settings.account_id) == 12 and settings.account_id.isdigit()):
            raise ValueError(f"account id must be 12 digits, got {settings.account_id!r}")
        return settings
