"""The SageMaker k-means algorithm, on scikit-learn.

As AWS describes its design: a streaming mini-batch pass (`epochs` over the data in batches of
`mini_batch_size`) keeps K = k * extra_center_factor centers, then a local Lloyd's procedure
(`local_lloyd_*`) reduces them, weighted by how many records each holds, to the final k. Here
the first stage is MiniBatchKMeans and the second KMeans on the weighted centers.

Channels: `train` (required) and `test` (optional), as RecordIO-protobuf (the default, what
`KMeans.record_set()` uploads) or CSV (the first column is a label and is ignored unless the
ContentType says `label_size=0`). Metrics: `train msd` and, with a test channel, the requested
`eval_metrics` (`test msd`, `test ssd`).

The model is `kmeans-model.json` in the model directory: `{"algorithm": "kmeans",
"format_version": 1, "feature_dim": d, "centroids": [[...] * d] * k}`. Prediction answers per
record `closest_cluster` (the centroid's index, as a float) and `distance_to_cluster` (the
Euclidean distance to it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sagestack.containers.algorithms import data
from sagestack.containers.algorithms.errors import AlgorithmError
from sagestack.containers.algorithms.hyperparameters import Hyperparameters
from sagestack.containers.algorithms.report import Log, info, quality_metric
from sagestack.containers.algorithms.serving import (
    choose_accept,
    decode_request,
    encode_predictions,
)

MODEL_NAME = "kmeans-model.json"
TRAINING_TYPES = (data.RECORDIO, data.CSV)
ACCEPT_TYPES = (data.JSON, data.JSONLINES, data.RECORDIO, data.CSV)
_AUTO_CENTER_FACTOR = 10
_INIT = {"random": "random", "kmeans++": "k-means++"}


def _squared_distances(features: data.Matrix, centroids: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of every record to every centroid."""
    norms = (
        np.asarray(features.multiply(features).sum(axis=1)).ravel()
        if not isinstance(features, np.ndarray)
        else np.einsum("ij,ij->i", features, features)
    )
    cross = np.asarray(features @ centroids.T)
    squared: np.ndarray = norms[:, None] - 2 * cross + (centroids**2).sum(axis=1)[None, :]
    clipped: np.ndarray = np.maximum(squared, 0.0)  # rounding can make a distance negative
    return clipped


def _load(channel: Path, content_type: str | None, feature_dim: int) -> data.Dataset:
    media, params = data.parse_content_type(content_type or data.RECORDIO)
    if media not in TRAINING_TYPES:
        raise AlgorithmError(f"Content type {content_type} is not supported by k-means")
    dataset = data.read_channel(channel, media, params)
    if dataset.rows and dataset.columns != feature_dim:
        hint = (
            " (CSV without a label column needs 'text/csv;label_size=0')"
            if media == data.CSV
            else ""
        )
        raise AlgorithmError(
            f"feature_dim={feature_dim} does not match the {dataset.columns} features "
            f"of channel {channel.name}{hint}"
        )
    return dataset


def train(
    raw: Mapping[str, str],
    channels: Mapping[str, Path],
    content_types: Mapping[str, str | None],
    model_dir: Path,
    log: Log,
) -> None:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    hp = Hyperparameters(raw)
    feature_dim = hp.integer("feature_dim", minimum=1)
    k = hp.integer("k", minimum=1)
    epochs = hp.integer("epochs", 1, minimum=1)
    mini_batch_size = hp.integer("mini_batch_size", 5000, minimum=1)
    init = _INIT[hp.choice("init_method", "random", tuple(_INIT))]
    factor = hp.integer("extra_center_factor", _AUTO_CENTER_FACTOR, minimum=1)
    lloyd_init = _INIT[hp.choice("local_lloyd_init_method", "kmeans++", tuple(_INIT))]
    lloyd_max_iter = hp.integer("local_lloyd_max_iter", 300, minimum=1)
    lloyd_tol = hp.number("local_lloyd_tol", 0.0001, minimum=0.0, maximum=1.0)
    trials = hp.integer("local_lloyd_num_trials", 0, minimum=1) or "auto"
    hp.integer("half_life_time_size", 0, minimum=0)  # validated; batches here are unweighted
    eval_metrics = hp.string_list("eval_metrics", ["msd"])
    for metric in eval_metrics:
        if metric not in ("msd", "ssd"):
            raise AlgorithmError(f"Hyperparameter eval_metrics: {metric!r} is not msd or ssd")
    if "train" not in channels:
        raise AlgorithmError("Missing required channel: train")
    train_set = _load(channels["train"], content_types.get("train"), feature_dim)
    if train_set.rows == 0:
        raise AlgorithmError(f"No data in train channel path {channels['train']}")
    if k > train_set.rows:
        raise AlgorithmError(
            f"k={k} is larger than the number of training records ({train_set.rows})"
        )
    features = train_set.features
    centers_count = min(train_set.rows, k * factor)
    info(log, f"Training on {train_set.rows} records: {centers_count} centers, then k={k}")
    first = MiniBatchKMeans(
        n_clusters=centers_count,
        init=init,
        batch_size=min(mini_batch_size, train_set.rows),
        max_iter=epochs,
        n_init=1,
        random_state=0,
    ).fit(features)
    weights = np.bincount(first.labels_, minlength=centers_count).astype(np.float64)
    held = weights > 0
    lloyd = KMeans(
        n_clusters=k,
        init=lloyd_init,
        n_init=trials,
        max_iter=lloyd_max_iter,
        tol=lloyd_tol,
        random_state=0,
    )
    if int(held.sum()) >= k:
        lloyd.fit(first.cluster_centers_[held], sample_weight=weights[held])
    else:  # too few occupied centers to reduce: cluster the records themselves
        lloyd.fit(features)
    centroids = np.asarray(lloyd.cluster_centers_, dtype=np.float64)
    train_distances = _squared_distances(features, centroids).min(axis=1)
    quality_metric(log, "train", "msd", float(train_distances.mean()))
    if "test" in channels:
        test_set = _load(channels["test"], content_types.get("test"), feature_dim)
        if test_set.rows:
            test_distances = _squared_distances(test_set.features, centroids).min(axis=1)
            for metric in eval_metrics:
                value = test_distances.mean() if metric == "msd" else test_distances.sum()
                quality_metric(log, "test", metric, float(value))
    model_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "algorithm": "kmeans",
        "format_version": 1,
        "feature_dim": feature_dim,
        "centroids": centroids.tolist(),
    }
    (model_dir / MODEL_NAME).write_text(json.dumps(document))


@dataclass
class KMeansModel:
    centroids: np.ndarray
    feature_dim: int


def load_model(model_dir: Path) -> KMeansModel:
    try:
        document = json.loads((model_dir / MODEL_NAME).read_text())
        return KMeansModel(
            np.asarray(document["centroids"], dtype=np.float64), int(document["feature_dim"])
        )
    except (OSError, ValueError, KeyError) as error:
        raise AlgorithmError(f"No k-means model in {model_dir}: {error}") from None


def predict(model: KMeansModel, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
    response_type = choose_accept(accept, ACCEPT_TYPES, data.JSON)
    features = decode_request(body, content_type, model.feature_dim)
    if features.shape[0] == 0:
        return b"", response_type
    if features.shape[1] != model.feature_dim:
        raise AlgorithmError(
            f"The request has {features.shape[1]} features; the model expects {model.feature_dim}"
        )
    distances = _squared_distances(features, model.centroids)
    closest = distances.argmin(axis=1)
    nearest = np.sqrt(distances[np.arange(len(closest)), closest])
    rows = [
        {"closest_cluster": float(cluster), "distance_to_cluster": float(distance)}
        for cluster, distance in zip(closest, nearest, strict=True)
    ]
    return encode_predictions(rows, response_type), response_type
