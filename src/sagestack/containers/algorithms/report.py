"""Log lines in the shape the built-in algorithms print, so the MetricDefinitions SageMaker
attaches to them (and users copy) match: `#quality_metric: host=algo-1, test msd <loss>=1.5`,
with `epoch=N, ` before the channel for per-epoch values. Jobs here run on one host, `algo-1`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HOST = "algo-1"

Log = Callable[[str], None]


def info(log: Log, message: str) -> None:
    """A line with the `[MM/DD/YYYY HH:MM:SS INFO thread]` prefix of the algorithm images."""
    stamp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime())
    log(f"[{stamp} INFO {threading.get_ident()}] {message}")


def quality_metric(
    log: Log,
    channel: str,
    name: str,
    value: float,
    *,
    kind: str = "loss",
    epoch: int | None = None,
) -> None:
    """One metric value; `kind` is `loss` (lower is better) or `score` (higher is better)."""
    where = f"epoch={epoch}, " if epoch is not None else ""
    info(log, f"#quality_metric: host={HOST}, {where}{channel} {name} <{kind}>={value!r}")
