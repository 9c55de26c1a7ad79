"""The `sagestack` command line."""

from __future__ import annotations

import pytest

from sagestack.cli import main
from sagestack.spec.catalog import SERVED_SERVICES, load_service


def test_coverage_counts_implemented_and_total_per_service(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["coverage"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(rows) == set(SERVED_SERVICES)
    implemented, total = map(int, rows["sagemaker"])
    assert total == len(load_service("sagemaker").operation_names)
    assert 0 < implemented < total
    assert 0 < int(rows["s3"][0]) < int(rows["s3"][1])
    assert rows["sagemaker-runtime"] == ["3", "3"]  # real-time, async, response stream


def test_coverage_verbose_marks_each_operation(capsys: pytest.CaptureFixture[str]) -> None:
    main(["coverage", "-v"])
    out = capsys.readouterr().out
    assert "  [x] CreateModel" in out
    assert "  [x] CreateTrainingJob" in out
    assert "  [x] CreateProcessingJob" in out and "  [x] CreateTransformJob" in out
    assert "  [ ] CreateNotebookInstance" in out


def test_serve_refuses_a_bad_account_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGESTACK_ACCOUNT_ID", "abc")
    assert main(["serve", "--port", "0"]) == 2
