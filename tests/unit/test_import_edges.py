"""Fails on an import edge between sagestack's packages that the design forbids."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "sagestack"

#: package → the sagestack packages it may import (itself always allowed).
ALLOWED: dict[str, set[str]] = {
    "spec": set(),
    "protocol": {"spec"},
    "api": {"protocol", "spec"},
    "http": {"api", "protocol", "spec"},
    "resources": set(),
    "store": {"resources"},
    "storage": set(),
    "services": {"api", "spec", "resources", "store", "storage", "serving"},
    "control": {"resources", "store", "executors", "serving", "storage", "observability"},
    "executors": set(),
    "serving": {"resources"},
    "containers": set(),
    "observability": {"resources", "store"},
}
#: Top-level modules that compose the rest.
COMPOSERS = {"app", "cli", "config", "__main__", "__init__"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "sagestack" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_no_forbidden_import_edges() -> None:
    violations = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        package = relative.parts[0].removesuffix(".py")
        if package in COMPOSERS:
            continue
        assert package in ALLOWED, f"{relative}: package {package!r} has no import rule"
        allowed = ALLOWED[package] | {package, "__init__"}
        for imported in _imports(path) - allowed:
            violations.append(f"{relative} imports sagestack.{imported}")
    assert violations == []


def test_the_rule_sees_a_real_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from sagestack.services.sagemaker import models\nimport sagestack.store.base\n")
    assert _imports(bad) == {"services", "store"}
