"""Linear learner: binary, multiclass and regression learning from CSV and RecordIO, AWS's
metric lines, and score / predicted_label answers in every format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from sagestack.containers.algorithms import AlgorithmError, load_model, predict, recordio
from tests.unit.containers.algorithms.samples import run, sdk_dense, separable, write_csv


def metric(lines: list[str], pattern: str) -> float:
    found = [m.group(1) for line in lines if (m := re.search(pattern + r"=(\S+)", line))]
    assert found, pattern
    return float(found[-1])


def _binary(tmp_path: Path, **extra: str) -> tuple[Path, list[str], np.ndarray, np.ndarray]:
    features, labels = separable()
    write_csv(tmp_path / "train" / "t.csv", features[:180], labels[:180])
    write_csv(tmp_path / "validation" / "v.csv", features[180:220], labels[180:220])
    write_csv(tmp_path / "test" / "t.csv", features[220:], labels[220:])
    channels = {name: tmp_path / name for name in ("train", "validation", "test")}
    model_dir, lines = run(
        "linear-learner",
        {"predictor_type": "binary_classifier", "feature_dim": "4", "mini_batch_size": "32"}
        | extra,
        channels,
        dict.fromkeys(channels, "text/csv"),
        tmp_path,
    )
    return model_dir, lines, features[220:], labels[220:]


def test_binary_classifier_separates_and_logs_aws_metrics(tmp_path: Path) -> None:
    model_dir, lines, test_features, test_labels = _binary(tmp_path)
    assert (
        metric(lines, r"#quality_metric: host=\S+, test binary_classification_accuracy <score>")
        >= 0.95
    )
    assert metric(lines, r"#quality_metric: host=\S+, test binary_f_\S+ <score>") >= 0.9
    first = metric(lines, r"epoch=0, train \S+_objective <loss>")
    assert metric(lines, r"host=\S+, train \S+_objective <loss>") < first
    assert any(
        "epoch=0, validation binary_classification_cross_entropy_objective" in line
        for line in lines
    )
    model = load_model("linear-learner", model_dir)
    body = "\n".join(",".join(map(str, row)) for row in test_features.tolist()).encode()
    answer, kind = predict("linear-learner", model, body, "text/csv", "application/json")
    predictions = json.loads(answer)["predictions"]
    assert kind == "application/json"
    assert {p["predicted_label"] for p in predictions} == {0, 1}
    assert all(0.0 <= p["score"] <= 1.0 for p in predictions)
    accuracy = np.mean([p["predicted_label"] for p in predictions] == test_labels)
    assert accuracy >= 0.95


@pytest.mark.parametrize(
    "criterion", ["f_beta", "precision_at_target_recall", "recall_at_target_precision"]
)
def test_threshold_criteria(tmp_path: Path, criterion: str) -> None:
    model_dir, _, _, _ = _binary(tmp_path, binary_classifier_model_selection_criteria=criterion)
    threshold = json.loads((model_dir / "linear-learner-model.json").read_text())["threshold"]
    assert 0.0 < threshold < 1.0


def test_multiclass_from_recordio_with_softmax_scores(tmp_path: Path) -> None:
    generator = np.random.default_rng(2)
    labels = generator.integers(0, 3, 300)
    centers = np.array([[0.0, 4.0], [4.0, -2.0], [-4.0, -2.0]])
    features = centers[labels] + generator.normal(0, 0.7, (300, 2))
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "d.rec").write_bytes(
        sdk_dense(features[:240].astype(np.float32), labels[:240])
    )
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "d.rec").write_bytes(sdk_dense(features[240:], labels[240:]))
    model_dir, lines = run(
        "linear-learner",
        {"predictor_type": "multiclass_classifier", "num_classes": "3", "feature_dim": "2"},
        {"train": tmp_path / "train", "test": tmp_path / "test"},
        {"train": None, "test": "application/x-recordio-protobuf"},
        tmp_path,
    )
    assert metric(lines, r"test multiclass_accuracy <score>") >= 0.95
    assert metric(lines, r"test multiclass_top_k_accuracy_3 <score>") == 1.0
    model = load_model("linear-learner", model_dir)
    records, kind = predict(
        "linear-learner",
        model,
        recordio.write_dense(features[240:250]),
        "application/x-recordio-protobuf",
        "application/x-recordio-protobuf",
    )
    read = recordio.read_records(records)
    assert kind == "application/x-recordio-protobuf" and len(read) == 10
    assert [int(r.label["predicted_label"].float32_tensor.values[0]) for r in read] == labels[
        240:250
    ].tolist()
    assert sum(read[0].label["score"].float32_tensor.values) == pytest.approx(1.0, abs=1e-5)


def test_regressor_fits_a_linear_function(tmp_path: Path) -> None:
    generator = np.random.default_rng(5)
    features = generator.normal(size=(300, 3))
    labels = 50 + 10 * features @ np.array([1.0, -2.0, 0.5]) + generator.normal(0, 0.5, 300)
    write_csv(tmp_path / "train" / "t.csv", features[:250], labels[:250])
    write_csv(tmp_path / "validation" / "v.csv", features[250:], labels[250:])
    model_dir, lines = run(
        "linear-learner",
        {"predictor_type": "regressor", "epochs": "20", "mini_batch_size": "50"},
        {"train": tmp_path / "train", "validation": tmp_path / "validation"},
        {"train": "text/csv", "validation": "text/csv"},
        tmp_path,
    )
    assert metric(lines, r"validation r2 <score>") > 0.98
    assert metric(lines, r"validation rmse <loss>") < 3.0
    model = load_model("linear-learner", model_dir)
    request = "\n".join(
        json.dumps({"features": row}) for row in features[250:255].tolist()
    ).encode()
    answer, kind = predict(
        "linear-learner", model, request, "application/jsonlines", "application/jsonlines"
    )
    scores = [json.loads(line)["score"] for line in answer.splitlines()]
    assert kind == "application/jsonlines"
    np.testing.assert_allclose(scores, labels[250:255], atol=3.0)
    assert all("predicted_label" not in json.loads(line) for line in answer.splitlines())


def test_early_stopping_on_validation(tmp_path: Path) -> None:
    _, lines, _, _ = _binary(tmp_path, epochs="200", early_stopping_patience="2")
    assert any("Early stopping" in line for line in lines)


def test_unsupported_types(tmp_path: Path) -> None:
    from sagestack.containers.algorithms import UnsupportedAccept, UnsupportedContentType

    model_dir, _, _, _ = _binary(tmp_path)
    model = load_model("linear-learner", model_dir)
    with pytest.raises(UnsupportedContentType):
        predict("linear-learner", model, b"1 1:2", "text/libsvm", "application/json")
    with pytest.raises(UnsupportedAccept):
        predict("linear-learner", model, b"1,2,3,4", "text/csv", "text/html")


@pytest.mark.parametrize(
    ("hyperparameters", "content_type", "message"),
    [
        ({}, "text/csv", "Missing required hyperparameter: predictor_type"),
        ({"predictor_type": "ranker"}, "text/csv", "predictor_type"),
        (
            {"predictor_type": "multiclass_classifier"},
            "text/csv",
            "Missing required hyperparameter: num_classes",
        ),
        ({"predictor_type": "binary_classifier", "loss": "squared_loss"}, "text/csv", "loss"),
        ({"predictor_type": "binary_classifier"}, "text/csv;label_size=0", "have no labels"),
        ({"predictor_type": "binary_classifier", "feature_dim": "9"}, "text/csv", "feature_dim=9"),
    ],
)
def test_bad_input(
    tmp_path: Path, hyperparameters: dict[str, str], content_type: str, message: str
) -> None:
    features, labels = separable(60)
    write_csv(tmp_path / "train" / "t.csv", features, labels)
    with pytest.raises(AlgorithmError, match=message):
        run(
            "linear-learner",
            hyperparameters,
            {"train": tmp_path / "train"},
            {"train": content_type},
            tmp_path,
        )


def test_binary_labels_must_be_zero_or_one(tmp_path: Path) -> None:
    features, labels = separable(60)
    write_csv(tmp_path / "train" / "t.csv", features, labels * 2 + 1)
    with pytest.raises(AlgorithmError, match="Labels must be 0 or 1"):
        run(
            "linear-learner",
            {"predictor_type": "binary_classifier"},
            {"train": tmp_path / "train"},
            {"train": "text/csv"},
            tmp_path,
        )
