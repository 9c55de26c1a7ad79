"""The SageMaker linear learner algorithm, on scikit-learn's SGD estimators.

As AWS's version: stochastic gradient descent over shuffled mini-batches for `epochs` passes,
features standardised first (`normalize_data`, shift only for dense data) and, for regression,
the label too (`normalize_label`); L1 (`l1`) and L2 (`wd`) penalties; early stopping on the
validation loss (else the training loss) after `early_stopping_patience` epochs without a
relative improvement of `early_stopping_tolerance`; for binary classifiers a decision
threshold chosen on validation (else training) data by
`binary_classifier_model_selection_criteria`. Only one model is trained (AWS trains
`num_models` in parallel and keeps the best).

Channels: `train` (required), `validation`, `test`; RecordIO-protobuf (the default) or CSV
with the label first. Losses: logistic and hinge_loss (binary and multiclass, where
softmax_loss is the default), squared_loss, absolute_loss, huber_loss and the two
eps_insensitive losses (regression). Metric lines follow AWS's names (see linear_metrics).

The model is `linear-learner-model.json`: `{"algorithm": "linear-learner", "format_version": 1,
"predictor_type", "loss", "num_classes", "feature_dim", "weights": [[...] per output],
"bias": [...], "feature_mean", "feature_scale", "label_mean", "label_scale", "threshold"}`
with the weights applying to standardised features. Prediction answers `score` (a probability
for logistic losses, a class-probability list for multiclass, the value for regression) and,
for classifiers, `predicted_label`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from sagestack.containers.algorithms import data, linear_metrics
from sagestack.containers.algorithms.errors import AlgorithmError
from sagestack.containers.algorithms.hyperparameters import Hyperparameters
from sagestack.containers.algorithms.report import Log, info, quality_metric
from sagestack.containers.algorithms.serving import (
    choose_accept,
    decode_request,
    encode_predictions,
)

MODEL_NAME = "linear-learner-model.json"
TRAINING_TYPES = (data.RECORDIO, data.CSV)
ACCEPT_TYPES = (data.JSON, data.JSONLINES, data.RECORDIO)
PREDICTOR_TYPES = ("binary_classifier", "multiclass_classifier", "regressor")
_LOSSES = {
    "binary_classifier": ("logistic", ("logistic", "hinge_loss")),
    "multiclass_classifier": ("softmax_loss", ("softmax_loss", "logistic", "hinge_loss")),
    "regressor": (
        "squared_loss",
        (
            "squared_loss",
            "absolute_loss",
            "huber_loss",
            "eps_insensitive_squared_loss",
            "eps_insensitive_absolute_loss",
        ),
    ),
}
_SKLEARN_LOSS = {
    "logistic": "log_loss",
    "softmax_loss": "log_loss",
    "hinge_loss": "hinge",
    "squared_loss": "squared_error",
    "absolute_loss": "epsilon_insensitive",
    "huber_loss": "huber",
    "eps_insensitive_squared_loss": "squared_epsilon_insensitive",
    "eps_insensitive_absolute_loss": "epsilon_insensitive",
}
_CRITERIA = (
    "accuracy",
    "f_beta",
    "precision_at_target_recall",
    "recall_at_target_precision",
    "loss_function",
    "cross_entropy_loss",
)

Model = dict[str, Any]


def scores(model: Model, features: data.Matrix) -> np.ndarray:
    """The model's score per record: see the module docstring."""
    weights = np.asarray(model["weights"], dtype=np.float64)
    scale = np.asarray(model["feature_scale"], dtype=np.float64)
    mean = np.asarray(model["feature_mean"], dtype=np.float64)
    scaled = weights / scale  # fold standardisation in, so sparse input stays sparse
    raw: np.ndarray = np.asarray(features @ scaled.T) + (np.asarray(model["bias"]) - scaled @ mean)
    loss = model["loss"]
    if model["predictor_type"] == "regressor":
        regression: np.ndarray = raw[:, 0] * float(model["label_scale"])
        return regression + float(model["label_mean"])
    if loss == "hinge_loss":
        return raw[:, 0] if raw.shape[1] == 1 else raw
    probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(raw, -500, 500)))
    if probabilities.shape[1] == 1:
        return probabilities[:, 0]
    normalized: np.ndarray = probabilities / probabilities.sum(axis=1, keepdims=True)
    return normalized


def _load(channel: Path, content_type: str | None, feature_dim: int | None) -> data.Dataset:
    media, params = data.parse_content_type(content_type or data.RECORDIO)
    if media not in TRAINING_TYPES:
        raise AlgorithmError(f"Content type {content_type} is not supported by linear learner")
    dataset = data.read_channel(channel, media, params)
    if dataset.rows and dataset.labels is None:
        raise AlgorithmError(f"The records of channel {channel.name} have no labels")
    if dataset.rows and feature_dim is not None and dataset.columns != feature_dim:
        raise AlgorithmError(
            f"feature_dim={feature_dim} does not match the {dataset.columns} features of "
            f"channel {channel.name}"
        )
    return dataset


def _check_labels(labels: np.ndarray, predictor_type: str, num_classes: int) -> None:
    if not np.isfinite(labels).all():
        raise AlgorithmError("Labels must be finite numbers")
    if predictor_type == "binary_classifier" and not np.isin(labels, (0.0, 1.0)).all():
        raise AlgorithmError("Labels must be 0 or 1 for predictor_type binary_classifier")
    if predictor_type == "multiclass_classifier" and not (
        np.isin(labels, np.arange(num_classes, dtype=np.float64)).all()
    ):
        raise AlgorithmError(f"Labels must be integers from 0 to {num_classes - 1} (num_classes)")


def _estimator(hp: Hyperparameters, predictor_type: str, loss: str, label_scale: float) -> Any:
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    l1 = hp.number("l1", 0.0, minimum=0.0)
    wd = hp.number("wd", 0.0001, minimum=0.0)
    penalty = "elasticnet" if l1 and wd else "l1" if l1 else "l2" if wd else None
    options: dict[str, Any] = {
        "loss": _SKLEARN_LOSS[loss],
        "penalty": penalty,
        "alpha": (l1 + wd) or 0.0001,
        "l1_ratio": l1 / (l1 + wd) if l1 + wd else 0.15,
        "fit_intercept": hp.boolean("use_bias", True),
        "random_state": 0,
    }
    if hp.is_auto("learning_rate") and predictor_type != "regressor" and penalty:
        options["learning_rate"] = "optimal"
    else:
        options["learning_rate"] = "invscaling"
        options["eta0"] = hp.number("learning_rate", 0.01, minimum=1e-12)
    if predictor_type == "regressor":
        epsilon = (
            0.0 if loss == "absolute_loss" else hp.number("loss_insensitivity", 0.01, minimum=0.0)
        )
        if loss == "huber_loss":
            epsilon = hp.number("huber_delta", 1.0, minimum=0.0)
        return SGDRegressor(epsilon=epsilon / label_scale, **options)
    return SGDClassifier(class_weight=_class_weights(hp, predictor_type), **options)


def _class_weights(hp: Hyperparameters, predictor_type: str) -> dict[int, float] | str | None:
    if predictor_type == "binary_classifier":
        value = hp.text("positive_example_weight_mult", "1.0")
        if value == "balanced":
            return "balanced"
        return {0: 1.0, 1: hp.number("positive_example_weight_mult", 1.0, minimum=1e-12)}
    return "balanced" if hp.boolean("balance_multiclass_weights", False) else None


def _resolve_weights(estimator: Any, labels: np.ndarray, classes: np.ndarray) -> None:
    """partial_fit cannot take class_weight='balanced': turn it into numbers from the data."""
    if getattr(estimator, "class_weight", None) == "balanced":
        counts = np.bincount(labels.astype(np.int64), minlength=len(classes)).astype(np.float64)
        estimator.class_weight = {
            int(c): len(labels) / (len(classes) * max(counts[c], 1.0)) for c in classes
        }


def _evaluate(model: Model, dataset: data.Dataset, hp: Hyperparameters) -> float:
    assert dataset.labels is not None
    predicted = scores(model, dataset.features)
    return linear_metrics.objective(
        model["loss"],
        dataset.labels,
        predicted,
        hp.number("loss_insensitivity", 0.01),
        hp.number("huber_delta", 1.0),
    )


def train(
    raw: Mapping[str, str],
    channels: Mapping[str, Path],
    content_types: Mapping[str, str | None],
    model_dir: Path,
    log: Log,
) -> None:
    hp = Hyperparameters(raw)
    predictor_type = hp.require("predictor_type")
    predictor_type = hp.choice("predictor_type", predictor_type, PREDICTOR_TYPES)
    num_classes = 2
    if predictor_type == "multiclass_classifier":
        num_classes = hp.integer("num_classes", minimum=3, maximum=1_000_000)
    default_loss, allowed_losses = _LOSSES[predictor_type]
    loss = default_loss if hp.is_auto("loss") else hp.choice("loss", default_loss, allowed_losses)
    feature_dim = None if hp.is_auto("feature_dim") else hp.integer("feature_dim", minimum=1)
    epochs = hp.integer("epochs", 15, minimum=1)
    batch = hp.integer("mini_batch_size", 1000, minimum=1)
    patience = hp.integer("early_stopping_patience", 3, minimum=1)
    tolerance = hp.number("early_stopping_tolerance", 0.001, minimum=0.0)
    criterion = hp.choice("binary_classifier_model_selection_criteria", "accuracy", _CRITERIA)
    beta = hp.number("f_beta", 1.0, minimum=0.0)
    if "train" not in channels:
        raise AlgorithmError("Missing required channel: train")
    sets = {
        name: _load(channels[name], content_types.get(name), feature_dim)
        for name in ("train", "validation", "test")
        if name in channels
    }
    sets = {name: dataset for name, dataset in sets.items() if dataset.rows}
    if "train" not in sets:
        raise AlgorithmError(f"No data in train channel path {channels['train']}")
    columns = {dataset.columns for dataset in sets.values()}
    if len(columns) > 1:
        raise AlgorithmError(f"Channels have different numbers of features: {sorted(columns)}")
    for dataset in sets.values():
        assert dataset.labels is not None
        _check_labels(dataset.labels, predictor_type, num_classes)
    train_set = sets["train"]
    features, labels = train_set.features, train_set.labels
    assert labels is not None
    model = _initial_model(
        hp, predictor_type, loss, num_classes=num_classes, features=features, labels=labels
    )
    label_scale = float(model["label_scale"])
    estimator = _estimator(hp, predictor_type, loss, label_scale)
    standardized = _standardize(model, features)
    targets = (
        (labels - model["label_mean"]) / label_scale if predictor_type == "regressor" else labels
    )
    classes = np.arange(num_classes)
    if predictor_type != "regressor":
        _resolve_weights(estimator, labels, classes)
    shape = f"{train_set.rows} records, {train_set.columns} features"
    info(log, f"Training {predictor_type} ({loss}) on {shape}")
    generator = np.random.default_rng(0)
    watched = sets.get("validation", train_set)
    best: tuple[float, Model] | None = None
    stale = 0
    for epoch in range(epochs):
        order = generator.permutation(train_set.rows)
        for start in range(0, train_set.rows, batch):
            chosen = order[start : start + batch]
            extra = {"classes": classes} if predictor_type != "regressor" else {}
            estimator.partial_fit(standardized[chosen], targets[chosen], **extra)
        model = _with_estimator(model, estimator)
        name = linear_metrics.OBJECTIVE_NAMES[loss]
        for channel in ("train", "validation"):
            if channel in sets:
                quality_metric(log, channel, name, _evaluate(model, sets[channel], hp), epoch=epoch)
        current = _evaluate(model, watched, hp)
        if best is None or current < best[0] - tolerance * abs(best[0]):
            best, stale = (current, model), 0
        else:
            stale += 1
            if stale >= patience:
                info(log, f"Early stopping at epoch {epoch}: no improvement for {patience} epochs")
                break
    assert best is not None
    model = best[1]
    if predictor_type == "binary_classifier":
        assert watched.labels is not None
        model["threshold"] = linear_metrics.choose_threshold(
            criterion,
            watched.labels,
            scores(model, watched.features),
            default=model["threshold"],
            beta=beta,
            target_recall=hp.number("target_recall", 0.8, minimum=0.0, maximum=1.0),
            target_precision=hp.number("target_precision", 0.8, minimum=0.0, maximum=1.0),
        )
    for channel, dataset in sets.items():
        _final_metrics(log, channel, model, dataset, hp=hp, beta=beta)
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_NAME).write_text(json.dumps(model))


def _initial_model(
    hp: Hyperparameters,
    predictor_type: str,
    loss: str,
    *,
    num_classes: int,
    features: data.Matrix,
    labels: np.ndarray,
) -> Model:
    width = int(features.shape[1])
    mean, scale = np.zeros(width), np.ones(width)
    if hp.boolean("normalize_data", True):
        if sp.issparse(features):
            squares = np.asarray(sp.csr_matrix(features).power(2).mean(axis=0)).ravel()
            scale = np.sqrt(np.maximum(squares - np.asarray(features.mean(axis=0)).ravel() ** 2, 0))
        else:
            mean, scale = np.asarray(features).mean(axis=0), np.asarray(features).std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
    label_mean, label_scale = 0.0, 1.0
    if predictor_type == "regressor" and hp.boolean("normalize_label", True):
        label_mean, label_scale = float(labels.mean()), float(labels.std()) or 1.0
    outputs = num_classes if predictor_type == "multiclass_classifier" else 1
    return {
        "algorithm": "linear-learner",
        "format_version": 1,
        "predictor_type": predictor_type,
        "loss": loss,
        "num_classes": num_classes if predictor_type != "regressor" else 0,
        "feature_dim": width,
        "weights": np.zeros((outputs, width)).tolist(),
        "bias": [0.0] * outputs,
        "feature_mean": mean.tolist(),
        "feature_scale": scale.tolist(),
        "label_mean": label_mean,
        "label_scale": label_scale,
        "threshold": 0.0 if loss == "hinge_loss" else 0.5,
    }


def _standardize(model: Model, features: data.Matrix) -> Any:
    scale = np.asarray(model["feature_scale"])
    if sp.issparse(features):
        return sp.csr_matrix(sp.csr_matrix(features).multiply(1.0 / scale))
    return (np.asarray(features) - np.asarray(model["feature_mean"])) / scale


def _with_estimator(model: Model, estimator: Any) -> Model:
    updated = dict(model)
    updated["weights"] = np.atleast_2d(estimator.coef_).tolist()
    updated["bias"] = np.atleast_1d(estimator.intercept_).astype(np.float64).tolist()
    return updated


def _final_metrics(
    log: Log,
    channel: str,
    model: Model,
    dataset: data.Dataset,
    *,
    hp: Hyperparameters,
    beta: float,
) -> None:
    assert dataset.labels is not None
    predicted = scores(model, dataset.features)
    name = linear_metrics.OBJECTIVE_NAMES[model["loss"]]
    quality_metric(log, channel, name, _evaluate(model, dataset, hp))
    if model["predictor_type"] == "binary_classifier":
        decided = predicted >= model["threshold"]
        metrics = linear_metrics.binary_metrics(dataset.labels, predicted, decided, beta)
    elif model["predictor_type"] == "multiclass_classifier":
        top_k = hp.integer("accuracy_top_k", 3, minimum=1)
        metrics = linear_metrics.multiclass_metrics(
            dataset.labels, predicted, model["num_classes"], top_k, beta
        )
    else:
        metrics = linear_metrics.regression_metrics(dataset.labels, predicted)
    for metric, (value, kind) in metrics.items():
        quality_metric(log, channel, metric, value, kind=kind)


def load_model(model_dir: Path) -> Model:
    try:
        model: Model = json.loads((model_dir / MODEL_NAME).read_text())
    except (OSError, ValueError) as error:
        raise AlgorithmError(f"No linear learner model in {model_dir}: {error}") from None
    return model


def predict(model: Model, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
    response_type = choose_accept(accept, ACCEPT_TYPES, data.JSON)
    features = decode_request(body, content_type, int(model["feature_dim"]))
    if features.shape[0] == 0:
        return b"", response_type
    if features.shape[1] != model["feature_dim"]:
        expected = model["feature_dim"]
        raise AlgorithmError(f"The request has {features.shape[1]} features; expected {expected}")
    predicted = scores(model, features)
    rows: list[dict[str, Any]] = []
    for value in predicted:
        if model["predictor_type"] == "regressor":
            rows.append({"score": float(value)})
        elif model["predictor_type"] == "binary_classifier":
            label = 1 if value >= model["threshold"] else 0
            rows.append({"score": float(value), "predicted_label": label})
        else:
            rows.append(
                {"score": [float(item) for item in value], "predicted_label": int(np.argmax(value))}
            )
    return encode_predictions(rows, response_type), response_type
