"""The SageMaker XGBoost algorithm (the XGBoost image in algorithm mode, no user script).

Training reads `train` (required) and `validation` (optional) in the channel's ContentType:
`text/libsvm` (the default when none is given, as in the image), `text/csv` (label first, no
header; with csv_weights=1 the second column is the instance weight), `application/x-parquet`
(label first) or `application/x-recordio-protobuf` (labels in `label["values"]`). Every
hyperparameter except the image's own (num_round, early_stopping_rounds, csv_weights,
_tuning_objective_metric, ...) goes to xgboost as given, so any XGBoost parameter works.

Each round prints `[N]#011train-rmse:0.12345#011validation-rmse:0.23456`: the evaluation line
as it reaches CloudWatch, where the tab between metrics shows as `#011`; the metric regexes
SageMaker ships for the algorithm (`.*\\[[0-9]+\\].*#011validation-rmse:(...)`) match it.

The model is `xgboost-model` in the model directory, in XGBoost's own (UBJSON) format, which
`xgboost.Booster().load_model()` reads. Serving takes `text/csv` (the default), `text/libsvm`
and `application/x-recordio-protobuf` and answers in `text/csv` (the default: one prediction
per line), `application/json` (`{"predictions": [{"score": ...}]}`), `application/jsonlines` or
RecordIO-protobuf (the image's shape: one record whose features are the predictions).
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import xgboost as xgb

from sagestack.containers.algorithms import data, recordio
from sagestack.containers.algorithms.errors import AlgorithmError, UnsupportedContentType
from sagestack.containers.algorithms.hyperparameters import Hyperparameters
from sagestack.containers.algorithms.report import Log, info
from sagestack.containers.algorithms.serving import choose_accept

MODEL_NAME = "xgboost-model"
TRAINING_TYPES = (data.LIBSVM, data.CSV, data.PARQUET, data.RECORDIO)
REQUEST_TYPES = (data.CSV, data.LIBSVM, data.RECORDIO)
ACCEPT_TYPES = (data.CSV, data.JSON, data.JSONLINES, data.RECORDIO)
#: Hyperparameters the image consumes itself rather than passing to xgboost.
_OWN = {
    "num_round",
    "early_stopping_rounds",
    "csv_weights",
    "save_model_on_termination",
    "_tuning_objective_metric",
    "_kfold",
    "_num_cv_round",
    "use_dask_gpu_training",
    "deterministic_histogram",
}
_XGB_LOG_PREFIX = re.compile(r"^\[[^\]]*\]\s+\S+:\d+:\s*")


class _EvaluationLines(xgb.callback.TrainingCallback):
    """Prints each round's evaluation as the image's log shows it."""

    def __init__(self, log: Log) -> None:
        super().__init__()
        self._log = log

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        parts = [
            f"{name}-{metric}:{float(np.ravel(values[-1])[0]):.5f}"
            for name, metrics in evals_log.items()
            for metric, values in metrics.items()
        ]
        if parts:
            self._log(f"[{epoch}]#011" + "#011".join(parts))
        return False


def _xgboost_message(error: Exception) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return _XGB_LOG_PREFIX.sub("", first)


def _params(hyperparameters: Hyperparameters) -> dict[str, Any]:
    params: dict[str, Any] = {
        name: value
        for name, value in hyperparameters.values.items()
        if name not in _OWN and not name.startswith("sagemaker_")
    }
    params.setdefault("objective", "reg:squarederror")
    objective = str(params["objective"])
    if objective.startswith("multi:") and "num_class" not in params:
        raise AlgorithmError(f"Missing required hyperparameter: num_class (objective {objective})")
    if params.get("tree_method") in ("gpu_hist", "gpu_exact"):
        params["tree_method"] = "hist"  # no GPU here: the CPU histogram method is its twin
    metrics = [item for item in str(params.pop("eval_metric", "")).split(",") if item.strip()]
    tuning = hyperparameters.values.get("_tuning_objective_metric", "")
    if ":" in tuning and tuning.split(":", 1)[1] not in metrics:
        metrics.append(tuning.split(":", 1)[1])
    if metrics:
        params["eval_metric"] = [metric.strip() for metric in metrics]
    return params


def _matrix(dataset: data.Dataset, channel: str) -> xgb.DMatrix:
    if dataset.labels is None:
        raise AlgorithmError(f"The {channel} channel's records have no labels")
    return xgb.DMatrix(dataset.features, label=dataset.labels, weight=dataset.weights)


def train(
    raw: Mapping[str, str],
    channels: Mapping[str, Path],
    content_types: Mapping[str, str | None],
    model_dir: Path,
    log: Log,
) -> None:
    hyperparameters = Hyperparameters(raw)
    num_round = hyperparameters.integer("num_round", minimum=1)
    early_stopping = hyperparameters.integer("early_stopping_rounds", 0, minimum=0)
    csv_weights = hyperparameters.integer("csv_weights", 0, minimum=0, maximum=1) == 1
    params = _params(hyperparameters)
    if "train" not in channels:
        raise AlgorithmError("Missing required channel: train")
    matrices = []
    for channel in ("train", "validation"):
        if channel not in channels:
            continue
        media, options = data.parse_content_type(content_types.get(channel) or data.LIBSVM)
        if media not in TRAINING_TYPES:
            raise AlgorithmError(
                f"{content_types.get(channel)} is not an accepted ContentType: "
                + ", ".join(TRAINING_TYPES)
            )
        dataset = data.read_channel(channels[channel], media, options, csv_weights=csv_weights)
        if dataset.rows == 0:
            raise AlgorithmError(f"No data in {channel} channel path {channels[channel]}")
        info(log, f"{channel}: {dataset.rows} rows, {dataset.columns} features ({media})")
        matrices.append((_matrix(dataset, channel), channel))
    if early_stopping and len(matrices) < 2:
        raise AlgorithmError("early_stopping_rounds needs a validation channel")
    try:
        booster = xgb.train(
            params,
            matrices[0][0],
            num_boost_round=num_round,
            evals=matrices,
            callbacks=[_EvaluationLines(log)],
            early_stopping_rounds=early_stopping or None,
            verbose_eval=False,
        )
    except xgb.core.XGBoostError as error:
        raise AlgorithmError(_xgboost_message(error)) from None
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_NAME).write_bytes(bytes(booster.save_raw("ubj")))
    info(log, f"Saved the model to {MODEL_NAME} after {booster.num_boosted_rounds()} rounds")


@dataclass
class XGBoostModel:
    booster: xgb.Booster
    objective: str
    num_features: int


def load_model(model_dir: Path) -> XGBoostModel:
    """`xgboost-model`, else the first file not starting with a dot, as the image loads it:
    XGBoost's own format, or a pickled Booster (what older images saved)."""
    path = model_dir / MODEL_NAME
    if not path.is_file():
        candidates = sorted(p for p in model_dir.iterdir() if p.is_file() and p.name[0] != ".")
        if not candidates:
            raise AlgorithmError(f"No model file in {model_dir}")
        path = candidates[0]
    raw = path.read_bytes()
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(raw))
    except xgb.core.XGBoostError:
        try:
            booster = pickle.loads(raw)  # the user's own artifact, as the image trusts it
        except Exception:
            raise AlgorithmError(f"{path.name} is not an XGBoost model") from None
        if not isinstance(booster, xgb.Booster):
            raise AlgorithmError(f"{path.name} is not an XGBoost model") from None
    config = json.loads(booster.save_config())
    return XGBoostModel(booster, config["learner"]["objective"]["name"], booster.num_features())


def _request_matrix(model: XGBoostModel, body: bytes, content_type: str) -> Any:
    media, params = data.parse_content_type(content_type or data.CSV)
    if media == data.CSV:
        features: data.Matrix = data.parse_csv(
            body, data.label_size(params, 0), "the request"
        ).features
    elif media == data.LIBSVM:
        features = data.parse_libsvm(body, "the request", with_labels=False).features
    elif media == data.RECORDIO:
        features = data.parse_recordio(body).features
    else:
        raise UnsupportedContentType(content_type, REQUEST_TYPES)
    width = int(features.shape[1])
    if width > model.num_features:
        raise AlgorithmError(
            f"Feature size of {media} inference data {width} is larger than the "
            f"feature size of the trained model {model.num_features}."
        )
    if sp.issparse(features) and width < model.num_features:
        sparse = sp.csr_matrix(features)
        features = sp.csr_matrix(
            (sparse.data, sparse.indices, sparse.indptr),
            shape=(sparse.shape[0], model.num_features),
        )
    return features


def predict(model: XGBoostModel, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
    response_type = choose_accept(accept, ACCEPT_TYPES, data.CSV)
    features = _request_matrix(model, body, content_type)
    if features.shape[0] == 0:
        return b"", response_type
    best = model.booster.attr("best_iteration")
    iterations = (0, int(best) + 1) if best is not None else (0, 0)
    try:
        scores = model.booster.predict(
            xgb.DMatrix(features), iteration_range=iterations, validate_features=False
        )
    except xgb.core.XGBoostError as error:
        raise AlgorithmError(_xgboost_message(error)) from None
    rows: list[Any] = scores.tolist()
    if response_type == data.JSON:
        return json.dumps({"predictions": [{"score": row} for row in rows]}).encode(), data.JSON
    if response_type == data.JSONLINES:
        lines = "".join(json.dumps({"score": row}) + "\n" for row in rows)
        return lines.encode(), data.JSONLINES
    if response_type == data.RECORDIO:
        matrix = np.asarray(scores, dtype=np.float32)
        return recordio.write_dense(
            matrix.reshape(1, -1) if matrix.ndim == 1 else matrix
        ), data.RECORDIO
    lines = "".join(
        (",".join(repr(item) for item in row) if isinstance(row, list) else repr(row)) + "\n"
        for row in rows
    )
    return lines.encode(), data.CSV
