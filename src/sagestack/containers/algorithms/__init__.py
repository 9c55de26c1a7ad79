"""SageMaker's built-in algorithms (xgboost, kmeans, linear-learner) as plain training and
prediction code, run inside a workload process by the training runner and the model server.

The training runner calls `train` after laying out the job root as /opt/ml and downloading the
channels; the model server calls `load_model` once and `predict` per request. Each algorithm's
module documents its channels, formats, hyperparameters and model file. The modules are imported
on first use, so naming one algorithm does not pay for the others' libraries.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sagestack.containers.algorithms.errors import (
    AlgorithmError,
    UnsupportedAccept,
    UnsupportedContentType,
)

__all__ = [
    "ALGORITHMS",
    "AlgorithmError",
    "UnsupportedAccept",
    "UnsupportedContentType",
    "load_model",
    "predict",
    "train",
]

_MODULES = {
    "xgboost": "xgboost_algorithm",
    "kmeans": "kmeans",
    "linear-learner": "linear_learner",
}
ALGORITHMS: frozenset[str] = frozenset(_MODULES)


def _module(name: str) -> Any:
    if name not in _MODULES:
        raise AlgorithmError(
            f"Unknown built-in algorithm {name!r}: expected one of {', '.join(sorted(ALGORITHMS))}"
        )
    return importlib.import_module(f"{__name__}.{_MODULES[name]}")


def train(  # noqa: PLR0917 - the runner's interface
    name: str,
    hyperparameters: Mapping[str, str],
    channels: Mapping[str, Path],
    channel_content_types: Mapping[str, str | None],
    model_dir: Path,
    output_data_dir: Path,
    log: Callable[[str], None] = print,
) -> None:
    """Train algorithm `name` on the channel directories (File mode: every file under the dir),
    write the model into model_dir (what becomes model.tar.gz), print progress and metrics
    lines. Raises AlgorithmError for bad hyperparameters or data. output_data_dir is part of
    the contract for algorithms that write extra outputs; these three write none."""
    del output_data_dir
    _module(name).train(hyperparameters, channels, channel_content_types, model_dir, log)


def load_model(name: str, model_dir: Path) -> Any:
    """The model a training job of `name` wrote into model_dir (model.tar.gz extracted)."""
    return _module(name).load_model(model_dir)


def predict(
    name: str, model: Any, body: bytes, content_type: str, accept: str
) -> tuple[bytes, str]:
    """(response body, its content type) for one request. Raises UnsupportedContentType (415)
    or UnsupportedAccept (406, a subclass) for formats the algorithm does not speak, and
    AlgorithmError (400) for a body it cannot read. An empty body (or one with no records)
    answers an empty body, which the XGBoost image sends as 204."""
    result: tuple[bytes, str] = _module(name).predict(model, body, content_type, accept)
    return result
