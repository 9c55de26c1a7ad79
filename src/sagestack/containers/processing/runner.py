"""The processing image stand-in: runs the job's command (ContainerEntrypoint +
ContainerArguments, or a registered image's command + ContainerArguments) as the container
would, with `python`, `python3` and `pip` resolving to an interpreter that has the image's
libraries.

That interpreter is a virtual environment of this host's own, layered on the environment this
runner runs in (so scikit-learn, pandas, ... import), and `pip install` (the SDK's
FrameworkProcessor runs `pip install -r requirements.txt`) installs into it, never into
sagestack's own; `pip uninstall` cannot reach below it either (pip refuses to remove what lies
outside the active environment). It is created per host (about 0.1 s) and removed with the job.

Started by the controller as `python -m sagestack.containers.processing` with `SAGESTACK_RUNNER`,
a JSON object: `command`, `cwd` and `environment` (where the host's interpreter goes). This
process stays the leader of the workload's process group (so a restarted server can still tell
the group is sagestack's); it outlives a SIGTERM, which the user's process receives too, and
passes the user's exit code through.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sagestack.containers.training.runner import layer_on_this_environment

#: Exit code of a command that cannot be found or run (as a shell reports it).
NOT_RUNNABLE = 127

_PIP = '#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n'


def host_python(directory: Path) -> Path:
    """A virtual environment at `directory` layered on this one, with `pip` and `pip3`
    commands that install into it; its bin directory."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(directory)],
        check=True,
        capture_output=True,
    )
    layer_on_this_environment(directory)
    bin_dir = directory / "bin"
    for name in ("pip", "pip3"):
        script = bin_dir / name
        script.write_text(_PIP)
        script.chmod(0o755)
    return bin_dir


def run(spec: dict[str, Any]) -> int:
    command = [str(part) for part in spec["command"]]
    bin_dir = host_python(Path(spec["environment"]))
    env = dict(os.environ)
    env.pop("SAGESTACK_RUNNER", None)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '/usr/local/bin:/usr/bin:/bin')}"
    env["VIRTUAL_ENV"] = str(bin_dir.parent)
    # The user's process gets the SIGTERM of a stop itself (same process group); this one
    # waits for it to finish, so its last lines and exit code are still reported.
    signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        return subprocess.run(command, cwd=spec.get("cwd") or None, env=env, check=False).returncode
    except OSError as error:
        print(f"ClientError: cannot run {command[0]!r}: {error}", file=sys.stderr, flush=True)
        return NOT_RUNNABLE


def main() -> int:
    return run(json.loads(os.environ["SAGESTACK_RUNNER"]))
