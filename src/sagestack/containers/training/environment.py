"""The environment a training image sees: what the SageMaker training toolkit derives from the
job root (`SM_*` and friends), computed the same way.

The values follow the toolkit's `Environment.to_env_vars()`: keys upper-cased with an `SM_`
prefix, non-string values JSON-dumped with sorted keys and compact separators.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Hyperparameters the SDK adds for the platform, not for the user's script: every
#: `sagemaker_`-prefixed one (program, distributions, ...) and these.
RESERVED_PREFIX = "sagemaker_"
RESERVED = frozenset({"_tuning_objective_metric", "default_user_module_name"})


def decoded(value: str) -> Any:
    """A hyperparameter as the toolkit reads it: JSON when it parses, else the raw string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _dumped(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class JobRoot:
    """The `/opt/ml` tree of one training host (wherever it really lives)."""

    base: Path

    @property
    def config(self) -> Path:
        return self.base / "input" / "config"

    @property
    def data(self) -> Path:
        return self.base / "input" / "data"

    @property
    def model(self) -> Path:
        return self.base / "model"

    @property
    def output(self) -> Path:
        return self.base / "output"

    @property
    def code(self) -> Path:
        return self.base / "code"

    def read(self, name: str) -> Any:
        path = self.config / name
        return json.loads(path.read_text()) if path.exists() else {}


@dataclass(frozen=True, slots=True)
class TrainingEnvironment:
    root: JobRoot
    hyperparameters: Mapping[str, Any]  # decoded
    resource_config: Mapping[str, Any]
    input_data_config: Mapping[str, Any]

    @classmethod
    def load(cls, root: JobRoot) -> TrainingEnvironment:
        raw = root.read("hyperparameters.json")
        return cls(
            root=root,
            hyperparameters={key: decoded(value) for key, value in raw.items()},
            resource_config=root.read("resourceconfig.json"),
            input_data_config=root.read("inputdataconfig.json"),
        )

    @property
    def user_hyperparameters(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in self.hyperparameters.items()
            if k not in RESERVED and not k.startswith(RESERVED_PREFIX)
        }

    def setting(self, name: str) -> Any:
        """A platform setting: the `sagemaker_<name>` hyperparameter, else `SAGEMAKER_<NAME>`."""
        value = self.hyperparameters.get(f"sagemaker_{name}")
        if value is None:
            value = os.environ.get(f"SAGEMAKER_{name.upper()}")
        return value

    def user_args(self) -> list[str]:
        """The user's hyperparameters as command-line arguments (`--key value`, sorted keys)."""
        args: list[str] = []
        for key, value in sorted(self.user_hyperparameters.items()):
            args += [f"-{key}" if len(key) == 1 else f"--{key}", _dumped(value)]
        return args

    def variables(self, *, module_name: str = "", entry_point: str = "") -> dict[str, str]:
        """Every variable the toolkit sets for the user's process."""
        base = self.root.base
        channels = sorted(self.input_data_config)
        hosts = list(self.resource_config.get("hosts", ["algo-1"]))
        current = self.resource_config.get("current_host", "algo-1")
        cpus = len(os.sched_getaffinity(0))  # the CPUs this host was given
        user_hps = self.user_hyperparameters
        env: dict[str, Any] = {
            "model_dir": str(self.root.model),
            "input_dir": str(base / "input"),
            "input_config_dir": str(self.root.config),
            "output_dir": str(self.root.output),
            "output_data_dir": str(self.root.output / "data"),
            "output_intermediate_dir": str(self.root.output / "intermediate"),
            "channels": channels,
            "hps": user_hps,
            "hosts": hosts,
            "current_host": current,
            "current_instance_type": self.resource_config.get("current_instance_type", "local"),
            "network_interface_name": self.resource_config.get("network_interface_name", "eth0"),
            "num_cpus": cpus,
            "num_gpus": 0,
            "num_neurons": 0,
            "module_name": module_name,
            "module_dir": str(self.root.code),
            "user_entry_point": entry_point,
            "user_args": self.user_args(),
            "framework_module": "",
            "framework_params": {},
            "resource_config": dict(self.resource_config),
            "input_data_config": dict(self.input_data_config),
            "log_level": int(self.setting("container_log_level") or 20),
            "source_dir": str(base / "input" / "data" / "code"),
            "entry_script": entry_point,
            "master_addr": hosts[0],
            "master_port": 7777,
            "host_count": len(hosts),
            "current_host_rank": hosts.index(current) if current in hosts else 0,
        }
        variables = {f"SM_{key.upper()}": _dumped(value) for key, value in env.items()}
        for channel in channels:
            variables[f"SM_CHANNEL_{channel.upper()}"] = str(self.root.data / channel)
        for key, value in user_hps.items():
            variables[f"SM_HP_{key.upper()}"] = _dumped(value)
        variables["SM_TRAINING_ENV"] = _dumped(
            {**env, "job_name": os.environ.get("TRAINING_JOB_NAME", "")}
        )
        variables["CURRENT_HOST"] = current
        job_name = os.environ.get("TRAINING_JOB_NAME", "")
        variables["SAGEMAKER_JOB_NAME"] = str(self.setting("job_name") or job_name)
        region = self.setting("region")
        if region:
            variables["SAGEMAKER_REGION"] = str(region)
        return variables
