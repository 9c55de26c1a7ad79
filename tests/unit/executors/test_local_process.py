"""Local workloads: output lines, exit codes, process-group stops, /opt/ml binding."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sagestack.executors.base import Workload
from sagestack.executors.local_process import LocalProcessExecutor

EXECUTOR = LocalProcessExecutor()


def workload(tmp_path: Path, code: str, **options: object) -> Workload:
    return Workload(
        name="test",
        command=[sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        **options,  # type: ignore[arg-type]
    )


def test_output_lines_and_exit_code(tmp_path: Path) -> None:
    lines: list[str] = []
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    running = EXECUTOR.launch(workload(tmp_path, code), lines.append)
    assert running.wait(30) == 3
    assert sorted(lines) == ["err", "out"]


def test_terminate_reaches_the_whole_process_group(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    lines: list[str] = []
    running = EXECUTOR.launch(workload(tmp_path, script.read_text()), lines.append)
    wait_for(lambda: bool(lines))
    child = int(lines[0])
    running.terminate()
    assert running.wait(30) is not None
    wait_for(lambda: not alive(child))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # a zombie has ended


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.mark.skipif(not EXECUTOR.binds_opt_ml, reason="no mount namespaces on this host")
def test_root_is_bound_at_opt_ml(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "input").mkdir(parents=True)
    (root / "input" / "marker").write_text("mine")
    lines: list[str] = []
    code = "print(open('/opt/ml/input/marker').read())"
    running = EXECUTOR.launch(workload(tmp_path, code, root=root), lines.append)
    assert running.wait(30) == 0
    assert lines == ["mine"]
