"""The peers' own virtual environments: `.bench-venv/<name>`, built from the pinned
`bench/requirements-<name>.txt` on first use and rebuilt when that file changes, so a peer's
dependencies (moto's botocore, Ray) never mix with sagestack's."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def peer_venv(name: str) -> Path:
    """The venv of peer `name`, created or refreshed from its requirements file."""
    venv = REPO_ROOT / ".bench-venv" / name
    requirements = REPO_ROOT / "bench" / f"requirements-{name}.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    marker = venv / ".requirements.sha256"
    if marker.exists() and marker.read_text().strip() == digest:
        return venv
    print(f"setting up the {name} venv at {venv} ...", file=sys.stderr)
    python = shutil.which("python3.11") or sys.executable
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-r", str(requirements)], check=True)
    marker.write_text(digest + "\n")
    return venv
