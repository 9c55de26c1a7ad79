"""k-means: finds well-separated clusters from RecordIO and CSV, reports msd/ssd, and answers
closest_cluster / distance_to_cluster in every format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from sagestack.containers.algorithms import AlgorithmError, load_model, predict, recordio
from tests.unit.containers.algorithms.samples import blobs, run, sdk_dense, write_csv

TEST_MSD = re.compile(r"#quality_metric: host=\S+, test msd <loss>=(\S+)")


def _train_blobs(tmp_path: Path, **extra: str) -> tuple[Path, list[str], np.ndarray]:
    features, _, centers = blobs()
    (tmp_path / "train").mkdir(parents=True)
    (tmp_path / "train" / "data.rec").write_bytes(sdk_dense(features.astype(np.float32)))
    test_features, _, _ = blobs(90, seed=7)
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "data.rec").write_bytes(sdk_dense(test_features.astype(np.float32)))
    hyperparameters = {"k": "3", "feature_dim": "2", "mini_batch_size": "100"} | extra
    model_dir, lines = run(
        "kmeans",
        hyperparameters,
        {"train": tmp_path / "train", "test": tmp_path / "test"},
        {"train": "application/x-recordio-protobuf", "test": None},
        tmp_path,
    )
    return model_dir, lines, centers


def test_finds_well_separated_clusters_and_reports_metrics(tmp_path: Path) -> None:
    model_dir, lines, centers = _train_blobs(tmp_path, eval_metrics="['msd', 'ssd']")
    model = json.loads((model_dir / "kmeans-model.json").read_text())
    found = np.array(model["centroids"])
    for center in centers:
        assert np.linalg.norm(found - center, axis=1).min() < 0.5
    msd = [float(m.group(1)) for line in lines if (m := TEST_MSD.search(line))]
    assert len(msd) == 1 and msd[0] < 1.0  # noise variance is 2 * 0.25
    assert any(", test ssd <loss>=" in line for line in lines)
    assert any(", train msd <loss>=" in line for line in lines)


def test_csv_training_with_and_without_label_column(tmp_path: Path) -> None:
    features, members, _ = blobs(150)
    write_csv(tmp_path / "unlabeled" / "x.csv", features)
    write_csv(tmp_path / "labeled" / "x.csv", features, members.astype(float))
    for channel, content_type in (("unlabeled", "text/csv;label_size=0"), ("labeled", "text/csv")):
        model_dir, _ = run(
            "kmeans",
            {"k": "3", "feature_dim": "2", "init_method": "kmeans++", "extra_center_factor": "4"},
            {"train": tmp_path / channel},
            {"train": content_type},
            tmp_path / f"out-{channel}",
        )
        centroids = np.array(json.loads((model_dir / "kmeans-model.json").read_text())["centroids"])
        assert centroids.shape == (3, 2)


def test_predicts_in_every_format(tmp_path: Path) -> None:
    model_dir, _, centers = _train_blobs(tmp_path)
    model = load_model("kmeans", model_dir)
    points = centers + 0.1
    as_json = json.dumps({"instances": [{"features": row} for row in points.tolist()]}).encode()
    answer, kind = predict("kmeans", model, as_json, "application/json", "application/json")
    predictions = json.loads(answer)["predictions"]
    assert kind == "application/json"
    clusters = [p["closest_cluster"] for p in predictions]
    assert len(set(clusters)) == 3
    assert all(abs(p["distance_to_cluster"] - 0.1414) < 0.3 for p in predictions)
    csv_body = "\n".join(",".join(map(str, row)) for row in points.tolist()).encode()
    lines, kind = predict("kmeans", model, csv_body, "text/csv", "application/jsonlines")
    assert [json.loads(line)["closest_cluster"] for line in lines.splitlines()] == clusters
    rows, kind = predict(
        "kmeans", model, recordio.write_dense(points), "application/x-recordio-protobuf", "text/csv"
    )
    assert kind == "text/csv"
    assert [float(line.split(",")[0]) for line in rows.decode().splitlines()] == clusters
    records, kind = predict(
        "kmeans", model, csv_body, "text/csv", "application/x-recordio-protobuf"
    )
    read = recordio.read_records(records)
    assert [r.label["closest_cluster"].float32_tensor.values[0] for r in read] == clusters
    sparse = {"instances": [{"data": {"features": {"keys": [1], "shape": [2], "values": [0.2]}}}]}
    answer, _ = predict("kmeans", model, json.dumps(sparse).encode(), "application/json", "*/*")
    (only,) = json.loads(answer)["predictions"]
    assert only["distance_to_cluster"] < 0.5  # (0, 0.2) lies by the center at the origin
    jsonl = b'{"features": [0.0, 0.1]}\n{"data": {"features": {"values": [10.0, 10.0]}}}\n'
    lines, _ = predict("kmeans", model, jsonl, "application/jsonlines", "application/jsonlines")
    assert len(lines.splitlines()) == 2


def test_prediction_with_the_wrong_width_is_refused(tmp_path: Path) -> None:
    model_dir, _, _ = _train_blobs(tmp_path)
    with pytest.raises(AlgorithmError, match="expects 2"):
        predict("kmeans", load_model("kmeans", model_dir), b"1,2,3", "text/csv", "application/json")


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        ({"feature_dim": "2"}, "Missing required hyperparameter: k"),
        ({"k": "3"}, "Missing required hyperparameter: feature_dim"),
        ({"k": "500", "feature_dim": "2"}, "larger than the number of training records"),
        ({"k": "3", "feature_dim": "5"}, "feature_dim=5 does not match"),
        ({"k": "3", "feature_dim": "2", "eval_metrics": '["mse"]'}, "eval_metrics"),
        ({"k": "3", "feature_dim": "2", "init_method": "forgy"}, "init_method"),
    ],
)
def test_bad_hyperparameters(tmp_path: Path, hyperparameters: dict[str, str], message: str) -> None:
    features, _, _ = blobs(60)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "d.rec").write_bytes(sdk_dense(features))
    with pytest.raises(AlgorithmError, match=message):
        run("kmeans", hyperparameters, {"train": tmp_path / "train"}, {"train": None}, tmp_path)


def test_unreadable_data(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "d.rec").write_text("1,2\n3,4\n")
    with pytest.raises(AlgorithmError, match="Not RecordIO-protobuf"):
        run("kmeans", {"k": "2", "feature_dim": "2"}, {"train": tmp_path / "train"}, {}, tmp_path)
