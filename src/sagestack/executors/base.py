"""The Executor protocol: start a workload, follow its output, stop it.

A workload is one process tree: a training host, a processing host, a model-server replica.
Local processes are the embedded default (`local_process`); a Ray cluster is the scale-out
one. Executors know nothing of SageMaker: they get a command, an environment and a directory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Workload:
    #: Unique and readable, e.g. "training-job/my-job/algo-1"; used in logs and process titles.
    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    #: Bound at /opt/ml inside the workload's own mount namespace, when the host allows it.
    root: Path | None = None
    #: A file bound over /etc/hosts (so `algo-1`..`algo-N` resolve), with `root`.
    hosts_file: Path | None = None
    #: Run with no network at all (EnableNetworkIsolation).
    isolate_network: bool = False
    #: CPUs the workload may use (None: all).
    cpus: Sequence[int] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


#: Receives the workload's output, one line at a time (stdout and stderr interleaved).
OutputSink = Callable[[str], None]


class Running(Protocol):
    #: What `Executor.reap` needs to find this workload again after a restart.
    identity: str

    def poll(self) -> int | None:
        """The exit code once the workload has ended, else None."""
        ...

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait up to `timeout` seconds; the exit code, or None if it is still running."""
        ...

    def terminate(self) -> None:
        """Ask the whole process tree to stop (SIGTERM)."""
        ...

    def kill(self) -> None:
        """End the whole process tree now (SIGKILL)."""
        ...


class Executor(Protocol):
    #: Whether workloads can have `root` bound at /opt/ml (and a private /etc/hosts).
    binds_opt_ml: bool

    def launch(self, workload: Workload, output: OutputSink) -> Running: ...

    def reap(self, identity: str) -> None:
        """End a workload a previous server started (it outlived that server)."""
        ...
