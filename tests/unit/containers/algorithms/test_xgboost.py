"""The XGBoost algorithm: real learning on every input format, its log lines, its model file,
and prediction in every content type."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from sagestack.containers.algorithms import (
    AlgorithmError,
    UnsupportedAccept,
    UnsupportedContentType,
    load_model,
    predict,
    recordio,
)
from tests.unit.containers.algorithms.samples import (
    run,
    sdk_dense,
    write_csv,
    write_libsvm,
)

#: The regex SageMaker's XGBoost metric definitions use for validation:rmse.
VALIDATION_RMSE = re.compile(
    r".*\[[0-9]+\].*#011validation-rmse:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*"
)


def regression(rows: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.default_rng(seed)
    features = generator.uniform(-2, 2, (rows, 3))
    return features, features[:, 0] ** 2 + 2 * features[:, 1]


@pytest.mark.filterwarnings("ignore:.*Unknown file format")  # xgboost's note on a bare name
def test_csv_regression_learns_and_logs_metric_lines(tmp_path: Path) -> None:
    features, labels = regression()
    train_dir = tmp_path / "train"
    write_csv(train_dir / "part-0.csv", features[:300], labels[:300])
    write_csv(tmp_path / "validation" / "v.csv", features[300:], labels[300:])
    (train_dir / "_SUCCESS").write_text("")
    model_dir, lines = run(
        "xgboost",
        {"num_round": "60", "max_depth": "4", "eta": "0.3", "objective": "reg:squarederror"},
        {"train": train_dir, "validation": tmp_path / "validation"},
        {"train": "text/csv", "validation": "text/csv"},
        tmp_path,
    )
    rounds = [line for line in lines if re.match(r"\[\d+\]", line)]
    assert rounds[0].startswith("[0]#011train-rmse:")
    values = [float(m.group(1)) for line in rounds if (m := VALIDATION_RMSE.match(line))]
    assert len(values) == 60
    assert values[-1] < 0.5 and values[0] > 1.0  # labels spread over about 2.4 (std)
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model"))
    assert booster.num_boosted_rounds() == 60


def test_libsvm_is_the_default_and_classifies(tmp_path: Path) -> None:
    generator = np.random.default_rng(1)
    features = generator.normal(size=(300, 4))
    labels = (features[:, 0] + features[:, 2] > 0).astype(float)
    write_libsvm(tmp_path / "train" / "data.libsvm", features, labels)
    model_dir, lines = run(
        "xgboost",
        {"num_round": "30", "objective": "binary:logistic", "eval_metric": "error,logloss"},
        {"train": tmp_path / "train"},
        {"train": None},
        tmp_path,
    )
    assert "train-error:" in lines[-2] and "#011train-logloss:" in lines[-2]
    error = float(re.search(r"train-error:([0-9.]+)", lines[-2]).group(1))  # type: ignore[union-attr]
    assert error < 0.05
    model = load_model("xgboost", model_dir)
    body = "\n".join(
        " ".join(f"{i + 1}:{v}" for i, v in enumerate(row)) for row in features[:20]
    ).encode()
    answer, content_type = predict("xgboost", model, body, "text/libsvm", "application/json")
    scores = [item["score"] for item in json.loads(answer)["predictions"]]
    assert content_type == "application/json"
    assert np.mean((np.array(scores) > 0.5) == labels[:20]) >= 0.9


def test_parquet_and_recordio_training(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    features, labels = regression(300, seed=2)
    (tmp_path / "pq").mkdir()
    columns = {"label": labels} | {f"f{i}": features[:, i] for i in range(3)}
    pq.write_table(pa.table(columns), tmp_path / "pq" / "data.parquet")
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "data.rec").write_bytes(sdk_dense(features.astype(np.float32), labels))
    for channel, content_type in (("pq", "application/x-parquet"), ("rec", None)):
        kind = content_type or "application/x-recordio-protobuf"
        _, lines = run(
            "xgboost",
            {"num_round": "40", "max_depth": "4"},
            {"train": tmp_path / channel},
            {"train": kind},
            tmp_path / f"out-{channel}",
        )
        final = float(re.search(r"train-rmse:([0-9.]+)", lines[-2]).group(1))  # type: ignore[union-attr]
        assert final < 0.3, channel


def test_csv_weights_and_early_stopping(tmp_path: Path) -> None:
    features, labels = regression(300, seed=3)
    weights = np.ones(300)
    write_csv(tmp_path / "train" / "t.csv", np.column_stack([weights, features]), labels)
    noise = np.random.default_rng(9).normal(size=(60, 3))
    write_csv(tmp_path / "validation" / "v.csv", np.column_stack([np.ones(60), noise]), noise[:, 2])
    model_dir, lines = run(
        "xgboost",
        {"num_round": "200", "csv_weights": "1", "early_stopping_rounds": "5", "eta": "0.5"},
        {"train": tmp_path / "train", "validation": tmp_path / "validation"},
        {"train": "text/csv", "validation": "text/csv"},
        tmp_path,
    )
    rounds = [line for line in lines if re.match(r"\[\d+\]", line)]
    assert len(rounds) < 200
    model = load_model("xgboost", model_dir)
    assert model.booster.attr("best_iteration") is not None


def test_multiclass_softprob_predicts_a_row_per_record(tmp_path: Path) -> None:
    generator = np.random.default_rng(4)
    labels = generator.integers(0, 3, 240).astype(float)
    features = np.column_stack(
        [labels * 3 + generator.normal(0, 0.3, 240), generator.normal(size=240)]
    )
    write_csv(tmp_path / "train" / "t.csv", features, labels)
    hyperparameters = {"num_round": "20", "objective": "multi:softprob", "num_class": "3"}
    model_dir, _ = run(
        "xgboost", hyperparameters, {"train": tmp_path / "train"}, {"train": "text/csv"}, tmp_path
    )
    model = load_model("xgboost", model_dir)
    body = "\n".join(",".join(map(str, row)) for row in features[:10]).encode()
    answer, content_type = predict("xgboost", model, body, "text/csv", "text/csv")
    rows = [list(map(float, line.split(","))) for line in answer.decode().splitlines()]
    assert content_type == "text/csv" and len(rows) == 10 and len(rows[0]) == 3
    assert [int(np.argmax(row)) for row in rows] == labels[:10].astype(int).tolist()


def _trained(tmp_path: Path) -> tuple[object, np.ndarray]:
    features, labels = regression(200, seed=5)
    write_csv(tmp_path / "train" / "t.csv", features, labels)
    model_dir, _ = run(
        "xgboost",
        {"num_round": "10"},
        {"train": tmp_path / "train"},
        {"train": "text/csv"},
        tmp_path,
    )
    return load_model("xgboost", model_dir), features[:4]


def test_predict_in_every_format(tmp_path: Path) -> None:
    model, rows = _trained(tmp_path)
    csv_body = "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()
    expected, csv_type = predict("xgboost", model, csv_body, "text/csv", "*/*")
    assert csv_type == "text/csv"
    reference = [float(line) for line in expected.decode().splitlines()]
    assert len(reference) == 4
    from_recordio, _ = predict(
        "xgboost", model, recordio.write_dense(rows), "application/x-recordio-protobuf", "text/csv"
    )
    np.testing.assert_allclose([float(x) for x in from_recordio.split()], reference, rtol=1e-6)
    lines, kind = predict("xgboost", model, csv_body, "text/csv", "application/jsonlines")
    assert kind == "application/jsonlines"
    assert [json.loads(line)["score"] for line in lines.decode().splitlines()] == pytest.approx(
        reference
    )
    records, kind = predict("xgboost", model, csv_body, "", "application/x-recordio-protobuf")
    (record,) = recordio.read_records(records)
    assert list(record.features["values"].float32_tensor.values) == pytest.approx(reference)
    assert predict("xgboost", model, b"", "text/csv", "text/csv") == (b"", "text/csv")


def test_predict_refuses_unknown_types(tmp_path: Path) -> None:
    model, _ = _trained(tmp_path)
    with pytest.raises(UnsupportedContentType) as refused:
        predict("xgboost", model, b"{}", "application/json", "text/csv")
    assert refused.value.status == 415
    with pytest.raises(UnsupportedAccept) as not_acceptable:
        predict("xgboost", model, b"1,2,3", "text/csv", "application/x-npy")
    assert not_acceptable.value.status == 406
    with pytest.raises(AlgorithmError, match="larger than"):
        predict("xgboost", model, b"1,2,3,4,5", "text/csv", "text/csv")


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        ({}, "Missing required hyperparameter: num_round"),
        ({"num_round": "ten"}, "num_round: value 'ten' is not an integer"),
        ({"num_round": "5", "objective": "reg:nonsense"}, "Unknown objective function"),
        ({"num_round": "5", "objective": "multi:softmax"}, "num_class"),
    ],
)
def test_bad_hyperparameters(tmp_path: Path, hyperparameters: dict[str, str], message: str) -> None:
    features, labels = regression(50)
    write_csv(tmp_path / "train" / "t.csv", features, labels)
    with pytest.raises(AlgorithmError, match=message):
        run(
            "xgboost",
            hyperparameters,
            {"train": tmp_path / "train"},
            {"train": "text/csv"},
            tmp_path,
        )


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        ("label,a,b\n1,2,3\n", "text/csv", "not all numeric"),
        ("1\n2\n3\n", "text/csv", "no feature columns"),
        ("", "text/csv", "No data in train channel"),
        ("1,2\n", "application/x-npy", "not an accepted ContentType"),
        ("1,2\n", "text/csv;label_size=0", "have no labels"),
        ("not libsvm at all\n", None, "is not LIBSVM"),
    ],
)
def test_bad_data(tmp_path: Path, content: str, content_type: str | None, message: str) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "data").write_text(content)
    with pytest.raises(AlgorithmError, match=message):
        run(
            "xgboost",
            {"num_round": "2"},
            {"train": tmp_path / "train"},
            {"train": content_type},
            tmp_path,
        )


def test_missing_train_channel(tmp_path: Path) -> None:
    with pytest.raises(AlgorithmError, match="Missing required channel: train"):
        run("xgboost", {"num_round": "2"}, {}, {}, tmp_path)
