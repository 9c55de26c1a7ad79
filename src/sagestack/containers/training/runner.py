"""The training image stand-in: reads the job root, then runs the user's script (script mode),
the request's ContainerEntrypoint, or a built-in algorithm, as the SageMaker images do.

It is started by the controller as `python -m sagestack.containers.training` with
`SAGEMAKER_BASE_DIR` (the job root, or /opt/ml when that is bound) and `SAGESTACK_RUNNER`, a JSON
object naming the runtime (`mode`, `name`), the entrypoint and arguments, and the cache of
requirement environments. The user's process inherits this one's output, so every line reaches
the job's log. Exit codes pass through; a failure this runner detects is written to
`output/failure` (unless the user's code wrote one), where the controller reads FailureReason.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import traceback
from pathlib import Path
from typing import Any

from sagestack.containers.training.environment import JobRoot, TrainingEnvironment


class ClientError(Exception):
    """The job cannot run as asked (no program, unknown runtime): a ClientError FailureReason."""


def write_failure(root: JobRoot, message: str) -> None:
    """Record why the job failed, unless the user's code already did (as the toolkit does)."""
    failure = root.output / "failure"
    if not failure.exists():
        failure.parent.mkdir(parents=True, exist_ok=True)
        failure.write_text(message)


def requirements_python(code_dir: Path, cache: Path) -> str:
    """The interpreter to run user code with: this one, or, when the code ships a
    requirements.txt, a virtual environment layered on this one with those requirements
    installed, cached by the file's hash (never installed into sagestack's own)."""
    requirements = code_dir / "requirements.txt"
    if not requirements.is_file():
        return sys.executable
    # Keyed by the file and by the environment it layers on (and how it layers).
    key = requirements.read_bytes() + f"\0{sys.prefix}\0layered-1".encode()
    digest = hashlib.sha256(key).hexdigest()[:16]
    env_dir = cache / digest
    python = env_dir / "bin" / "python"
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f"{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one job builds it; the others wait, then reuse it
        if not (env_dir / ".complete").exists():
            print(f"Installing requirements.txt into {env_dir}", flush=True)
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(env_dir)], check=True)
            layer_on_this_environment(env_dir)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
                check=True,
                cwd=code_dir,
            )
            (env_dir / ".complete").touch()
    return str(python)


def layer_on_this_environment(env_dir: Path) -> None:
    """Make this environment's packages (sagestack's, scikit-learn, ...) importable in
    `env_dir`, below its own: `--system-site-packages` would reach the base interpreter's
    packages, not those of the virtual environment sagestack itself runs in."""
    purelib = subprocess.run(
        [
            str(env_dir / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    lines = "".join(f"import site; site.addsitedir({path!r})\n" for path in sorted(ours))
    (Path(purelib) / "_sagestack_layer.pth").write_text(lines)


def script_command(environment: TrainingEnvironment, python: str) -> list[str]:
    """The command the toolkit runs for the entry point: `.py` with python, `.sh` with sh, a
    module (a name without suffix) with `python -m`; the user's hyperparameters as arguments."""
    program = environment.setting("program")
    if not program:
        raise ClientError(
            "No training script: script mode needs the sagemaker_program hyperparameter "
            "(or SAGEMAKER_PROGRAM), or a ContainerEntrypoint."
        )
    program = str(program)
    args = environment.user_args()
    if not (environment.root.code / program).exists() and not program.isidentifier():
        raise ClientError(f"The training script {program} is not in the source directory.")
    if program.endswith(".sh"):
        return ["/bin/sh", "-c", " ".join([f"./{program}", *(_quoted(a) for a in args)])]
    if program.endswith(".py"):
        return [python, *torchrun_options(environment), program, *args]
    return [python, "-m", program, *args]


#: The rendezvous port of the PyTorch toolkit's torchrun launch.
TORCHRUN_PORT = "7777"
#: Distributions launched with torchrun: `torch_distributed` as the toolkit does, and
#: `pytorchddp` too (the toolkit's MPI launch gives DDP scripts the same RANK / WORLD_SIZE /
#: MASTER_ADDR contract, and there is no MPI here).
_TORCHRUN_DISTRIBUTIONS = ("torch_distributed_enabled", "pytorch_ddp_enabled")


def torchrun_options(environment: TrainingEnvironment) -> list[str]:
    """`distribution={"torch_distributed": {"enabled": True}}` (or `pytorchddp`) runs the
    script through torchrun, as the PyTorch training toolkit does: every host a node, algo-1
    the master, one process per host (sagestack's hosts train on CPUs, e.g. with gloo)."""
    enabled = (str(environment.setting(name)).lower() for name in _TORCHRUN_DISTRIBUTIONS)
    if "true" not in enabled:
        return []
    hosts = list(environment.resource_config.get("hosts", ["algo-1"]))
    current = environment.resource_config.get("current_host", hosts[0])
    options = ["-m", "torch.distributed.run", "--nnodes", str(len(hosts)), "--nproc_per_node", "1"]
    if len(hosts) > 1:
        options += ["--master_addr", hosts[0], "--master_port", TORCHRUN_PORT]
        options += ["--node_rank", str(hosts.index(current))]
    return options


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def run_user_process(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    print(f"Invoking script with the following command:\n\n{' '.join(command)}\n", flush=True)
    return subprocess.run(command, cwd=cwd, env=env, check=False).returncode


def train_algorithm(environment: TrainingEnvironment, name: str) -> int:
    from sagestack.containers.algorithms import AlgorithmError, train

    root = environment.root
    config = environment.input_data_config
    try:
        train(
            name,
            {k: str(v) for k, v in root.read("hyperparameters.json").items()},
            {channel: root.data / channel for channel in config},
            {channel: spec.get("ContentType") for channel, spec in config.items()},
            root.model,
            root.output / "data",
        )
    except AlgorithmError as error:
        write_failure(root, f"AlgorithmError: {error}")
        print(f"AlgorithmError: {error}", file=sys.stderr, flush=True)
        return 2
    return 0


def run(spec: dict[str, Any], root: JobRoot) -> int:
    environment = TrainingEnvironment.load(root)
    entrypoint = spec.get("entrypoint") or []
    program = str(environment.setting("program") or "")
    env = {
        **os.environ,
        **environment.variables(module_name=program.removesuffix(".py"), entry_point=program),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("SAGESTACK_RUNNER", None)
    if entrypoint:
        command = [*entrypoint, *(spec.get("arguments") or [])]
        return run_user_process(command, Path(spec.get("cwd") or root.base), env)
    if spec["mode"] == "algorithm":
        return train_algorithm(environment, spec["name"])
    python = requirements_python(root.code, Path(spec["environment_cache"]))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root.code), env.get("PYTHONPATH")]))
    return run_user_process(script_command(environment, python), root.code, env)


def main() -> int:
    root = JobRoot(Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")))
    try:
        spec = json.loads(os.environ["SAGESTACK_RUNNER"])
        return run(spec, root)
    except ClientError as error:
        write_failure(root, f"ClientError: {error}")
        print(f"ClientError: {error}", file=sys.stderr, flush=True)
        return 1
    except Exception as error:  # the platform's own failure, reported as the toolkit would
        write_failure(root, f"Framework Error: \n{traceback.format_exc()}\n{error}")
        traceback.print_exc()
        return 1
