"""The linear learner's losses, metrics and binary threshold choice, on plain arrays.

Metric names are those of AWS's linear learner logs and MetricDefinitions:
`binary_classification_accuracy`, `binary_f_1.000`, `precision`, `recall`, `roc_auc_score`;
`multiclass_accuracy`, `multiclass_top_k_accuracy_3`, `macro_precision`, `macro_recall`,
`macro_f_1.000`; `mse`, `rmse`, `absolute_loss`, `r2`; and `<loss>_objective`.
"""

from __future__ import annotations

import numpy as np

#: loss → the `<name>_objective` it is logged as.
OBJECTIVE_NAMES = {
    "logistic": "binary_classification_cross_entropy_objective",
    "softmax_loss": "multiclass_cross_entropy_objective",
    "hinge_loss": "hinge_loss_objective",
    "squared_loss": "mse_objective",
    "absolute_loss": "absolute_loss_objective",
    "huber_loss": "huber_loss_objective",
    "eps_insensitive_squared_loss": "eps_insensitive_squared_loss_objective",
    "eps_insensitive_absolute_loss": "eps_insensitive_absolute_loss_objective",
}
_EPSILON = 1e-15


def objective(
    loss: str, labels: np.ndarray, scores: np.ndarray, epsilon: float, delta: float
) -> float:
    """Mean loss per record; scores are probabilities for logistic/softmax, decision values
    for hinge, predictions for regression."""
    if loss == "logistic" and scores.ndim == 1:
        p = np.clip(scores, _EPSILON, 1 - _EPSILON)
        return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))
    if loss in ("softmax_loss", "logistic"):
        picked = scores[np.arange(len(labels)), labels.astype(np.int64)]
        return float(-np.mean(np.log(np.clip(picked, _EPSILON, 1.0))))
    if loss == "hinge_loss":
        if scores.ndim == 1:
            signs = np.where(labels > 0, 1.0, -1.0)
            return float(np.mean(np.maximum(0.0, 1 - signs * scores)))
        signs = -np.ones_like(scores)
        signs[np.arange(len(labels)), labels.astype(np.int64)] = 1.0
        return float(np.mean(np.maximum(0.0, 1 - signs * scores).sum(axis=1)))
    error = scores - labels
    if loss == "absolute_loss":
        return float(np.mean(np.abs(error)))
    if loss == "huber_loss":
        small = np.abs(error) <= delta
        return float(
            np.mean(np.where(small, 0.5 * error**2, delta * (np.abs(error) - 0.5 * delta)))
        )
    if loss == "eps_insensitive_squared_loss":
        return float(np.mean(np.maximum(0.0, np.abs(error) - epsilon) ** 2))
    if loss == "eps_insensitive_absolute_loss":
        return float(np.mean(np.maximum(0.0, np.abs(error) - epsilon)))
    return float(np.mean(error**2))


def _curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """Thresholds (each distinct score, highest first, predicting positive at >=) with the
    true and false positives each gives."""
    order = np.argsort(-scores, kind="stable")
    ordered, positives = scores[order], labels[order] > 0.5
    last = np.r_[ordered[1:] != ordered[:-1], True]
    true_pos = np.cumsum(positives)[last]
    false_pos = np.cumsum(~positives)[last]
    return ordered[last], true_pos.astype(np.float64), false_pos.astype(np.float64)


def choose_threshold(
    criterion: str,
    labels: np.ndarray,
    scores: np.ndarray,
    *,
    default: float,
    beta: float,
    target_recall: float,
    target_precision: float,
) -> float:
    """The score threshold the model-selection criterion prefers on these records."""
    if criterion in ("loss_function", "cross_entropy_loss") or len(labels) == 0:
        return default
    thresholds, true_pos, false_pos = _curve(labels, scores)
    positives = float((labels > 0.5).sum())
    negatives = len(labels) - positives
    precision = true_pos / np.maximum(true_pos + false_pos, 1.0)
    recall = true_pos / max(positives, 1.0)
    if criterion == "accuracy":
        value = (true_pos + (negatives - false_pos)) / len(labels)
    elif criterion == "f_beta":
        b2 = beta * beta
        value = (1 + b2) * precision * recall / np.maximum(b2 * precision + recall, _EPSILON)
    elif criterion == "precision_at_target_recall":
        value = np.where(recall >= target_recall, precision, -1.0)
    else:  # recall_at_target_precision
        value = np.where(precision >= target_precision, recall, -1.0)
    best = int(np.argmax(value))
    if value[best] < 0:
        return default
    return float(thresholds[best])


def binary_metrics(
    labels: np.ndarray, scores: np.ndarray, predicted: np.ndarray, beta: float
) -> dict[str, tuple[float, str]]:
    truth = labels > 0.5
    tp = float((predicted & truth).sum())
    precision = tp / max(float(predicted.sum()), 1.0)
    recall = tp / max(float(truth.sum()), 1.0)
    b2 = beta * beta
    f_beta = (1 + b2) * precision * recall / max(b2 * precision + recall, _EPSILON)
    metrics = {
        "binary_classification_accuracy": (float((predicted == truth).mean()), "score"),
        f"binary_f_{beta:.3f}": (f_beta, "score"),
        "precision": (precision, "score"),
        "recall": (recall, "score"),
    }
    if 0 < truth.sum() < len(truth):
        from sklearn.metrics import roc_auc_score

        metrics["roc_auc_score"] = (float(roc_auc_score(truth, scores)), "score")
    return metrics


def multiclass_metrics(
    labels: np.ndarray, scores: np.ndarray, classes: int, top_k: int, beta: float
) -> dict[str, tuple[float, str]]:
    truth = labels.astype(np.int64)
    predicted = scores.argmax(axis=1)
    top = np.argsort(-scores, axis=1)[:, : min(top_k, classes)]
    precisions, recalls = [], []
    for label in range(classes):
        tp = float(((predicted == label) & (truth == label)).sum())
        if (predicted == label).any():
            precisions.append(tp / float((predicted == label).sum()))
        if (truth == label).any():
            recalls.append(tp / float((truth == label).sum()))
    precision = float(np.mean(precisions)) if precisions else 0.0
    recall = float(np.mean(recalls)) if recalls else 0.0
    b2 = beta * beta
    return {
        "multiclass_accuracy": (float((predicted == truth).mean()), "score"),
        f"multiclass_top_k_accuracy_{top_k}": (
            float((top == truth[:, None]).any(axis=1).mean()),
            "score",
        ),
        "macro_precision": (precision, "score"),
        "macro_recall": (recall, "score"),
        f"macro_f_{beta:.3f}": (
            (1 + b2) * precision * recall / max(b2 * precision + recall, _EPSILON),
            "score",
        ),
    }


def regression_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, tuple[float, str]]:
    error = predictions - labels
    mse = float(np.mean(error**2))
    variance = float(np.var(labels))
    return {
        "mse": (mse, "loss"),
        "rmse": (float(np.sqrt(mse)), "loss"),
        "absolute_loss": (float(np.mean(np.abs(error))), "loss"),
        "r2": (1.0 - mse / variance if variance > 0 else 0.0, "score"),
    }
