"""Workloads as local processes: each in its own session (process group), optionally in its own
mount namespace with its root bound at /opt/ml (and a private /etc/hosts), and optionally with
no network (its own empty network namespace). `unshare` does both where the host allows it
(root, or user namespaces); elsewhere workloads run with SAGEMAKER_BASE_DIR only.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Sequence
from contextlib import suppress
from functools import cache
from pathlib import Path

from sagestack.executors.base import OutputSink, Workload

LOG = logging.getLogger(__name__)

#: Runs inside the new mount namespace: bind the root (and hosts file), then become the command.
_BIND = (
    'mkdir -p /opt/ml && mount --bind "$0" /opt/ml'
    ' && { [ -z "$SAGESTACK_HOSTS_FILE" ] || mount --bind "$SAGESTACK_HOSTS_FILE" /etc/hosts; }'
    ' && unset SAGESTACK_HOSTS_FILE && exec "$@"'
)


@cache
def _unshare_works(*flags: str) -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        done = subprocess.run(
            [unshare, *flags, "--propagation", "private", "true"]
            if "-m" in flags
            else [unshare, *flags, "true"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class LocalProcess:
    def __init__(self, process: subprocess.Popen[bytes], name: str, output: OutputSink) -> None:
        self._process = process
        self._name = name
        self.identity = str(process.pid)  # also its process group: it leads its own session
        self._reader = threading.Thread(
            target=self._read, args=(output,), name=f"output {name}", daemon=True
        )
        self._reader.start()

    def _read(self, output: OutputSink) -> None:
        assert self._process.stdout is not None
        for raw in self._process.stdout:
            try:
                output(raw.decode("utf-8", "replace").rstrip("\r\n"))
            except Exception:  # a sink failure must not stop the draining of the pipe
                LOG.exception("output of %s could not be delivered", self._name)

    def poll(self) -> int | None:
        return self._finish(self._process.poll())

    def wait(self, timeout: float | None = None) -> int | None:
        try:
            return self._finish(self._process.wait(timeout))
        except subprocess.TimeoutExpired:
            return None

    def _finish(self, code: int | None) -> int | None:
        if code is not None:
            self._reader.join(timeout=10)  # every line is delivered before the exit is
        return code

    def _signal(self, number: int) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self._process.pid, number)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


class LocalProcessExecutor:
    def __init__(self) -> None:
        self.binds_opt_ml = _unshare_works("-m")
        self.isolates_network = _unshare_works("-n")

    def command(self, workload: Workload) -> list[str]:
        """The full command line: the workload's, wrapped in `unshare` as it asks."""
        flags: list[str] = []
        wrapper: Sequence[str] = ()
        if workload.root is not None and self.binds_opt_ml:
            flags += ["-m", "--propagation", "private"]
            wrapper = ["sh", "-c", _BIND, str(workload.root)]
        if workload.isolate_network:
            if not self.isolates_network:
                raise RuntimeError("this host cannot give a workload its own network namespace")
            flags.append("-n")
        if not flags:
            return list(workload.command)
        unshare = shutil.which("unshare") or "unshare"
        return [unshare, *flags, *wrapper, *workload.command]

    def reap(self, identity: str) -> None:
        """SIGKILL the process group `identity`, if it is still one of sagestack's workloads
        (its leader runs a sagestack runner: a recycled pid is left alone)."""
        try:
            command = Path(f"/proc/{identity}/cmdline").read_bytes()
        except OSError:
            return
        if b"sagestack" in command:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(int(identity), signal.SIGKILL)

    def launch(self, workload: Workload, output: OutputSink) -> LocalProcess:
        env = dict(workload.env)
        if workload.hosts_file is not None and workload.root is not None and self.binds_opt_ml:
            env["SAGESTACK_HOSTS_FILE"] = str(workload.hosts_file)
        process = subprocess.Popen(
            self.command(workload),
            cwd=workload.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if workload.cpus:  # before it can start threads or children, which inherit it
            with suppress(OSError):
                os.sched_setaffinity(process.pid, workload.cpus)
        LOG.info("started %s (pid %d)", workload.name, process.pid)
        return LocalProcess(process, workload.name, output)
