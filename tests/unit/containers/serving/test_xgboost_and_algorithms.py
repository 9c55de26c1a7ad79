"""XGBoost in framework mode (a Booster with default handlers) and a built-in algorithm
(k-means trained by `containers.algorithms`), checked against the same models in process."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from sagestack.containers.algorithms import load_model, predict, train
from tests.unit.containers.serving.support import ModelServer, runtime

ROWS = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-2.0, 1.0, 0.25]], dtype=np.float32)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    features = np.random.default_rng(1).normal(size=(200, 3))
    labels = 2 * features[:, 0] - features[:, 1] + features[:, 2] ** 2
    return xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(features, labels), 10)


@pytest.fixture(scope="module")
def xgboost_server(
    tmp_path_factory: pytest.TempPathFactory, booster: xgb.Booster
) -> Iterator[ModelServer]:
    base = tmp_path_factory.mktemp("xgboost")
    (base / "model").mkdir()
    booster.save_model(base / "model" / "model.ubj")
    with ModelServer(base, runtime("script", "xgboost")) as server:
        yield server.start()


@pytest.fixture(scope="module")
def expected(booster: xgb.Booster) -> np.ndarray:
    return booster.predict(xgb.DMatrix(ROWS))


def test_xgboost_csv_by_default(xgboost_server: ModelServer, expected: np.ndarray) -> None:
    body = "\n".join(",".join(str(v) for v in row) for row in ROWS)
    status, headers, answer = xgboost_server.invoke(body, "text/csv")
    assert (status, headers["content-type"]) == (200, "text/csv")
    np.testing.assert_allclose([float(v) for v in answer.split()], expected, rtol=1e-6)


def test_xgboost_libsvm_json_npy(xgboost_server: ModelServer, expected: np.ndarray) -> None:
    libsvm = "\n".join(" ".join(f"{i}:{v}" for i, v in enumerate(row)) for row in ROWS)
    status, _, answer = xgboost_server.invoke(libsvm, "text/libsvm", "application/json")
    assert status == 200
    np.testing.assert_allclose(json.loads(answer), expected, rtol=1e-6)
    status, _, answer = xgboost_server.invoke(
        json.dumps(ROWS.tolist()), "application/json", "application/json"
    )
    np.testing.assert_allclose(json.loads(answer), expected, rtol=1e-6)
    status, headers, answer = xgboost_server.invoke(
        npy(ROWS), "application/x-npy", "application/x-npy"
    )
    assert headers["content-type"] == "application/x-npy"
    np.testing.assert_array_equal(np.load(io.BytesIO(answer)), expected)


def test_xgboost_errors(xgboost_server: ModelServer) -> None:
    assert xgboost_server.invoke("1,2,3", "application/x-parquet")[0] == 415
    assert xgboost_server.invoke("1,2,3", "text/csv", "application/jsonlines")[0] == 406
    assert xgboost_server.invoke("1,2,three", "text/csv")[0] == 400


@pytest.fixture(scope="module")
def kmeans_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("kmeans")
    generator = np.random.default_rng(2)
    centers = np.array([[0.0, 0.0], [8.0, 8.0], [-8.0, 8.0]])
    points = centers[generator.integers(0, 3, 150)] + generator.normal(0, 0.4, (150, 2))
    (base / "train").mkdir()
    (base / "train" / "data.csv").write_text("\n".join(f"{x},{y}" for x, y in points))
    hyperparameters = {"k": "3", "feature_dim": "2"}
    content_types: dict[str, str | None] = {"train": "text/csv;label_size=0"}
    train(
        "kmeans",
        hyperparameters,
        {"train": base / "train"},
        content_types,
        base / "model",
        base / "output",
        lambda line: None,
    )
    return base


@pytest.fixture(scope="module")
def kmeans_server(kmeans_model: Path) -> Iterator[ModelServer]:
    with ModelServer(kmeans_model, runtime("algorithm", "kmeans")) as server:
        yield server.start()


@pytest.mark.parametrize(
    ("content_type", "accept"),
    [
        ("text/csv", "application/json"),
        ("text/csv", None),
        ("application/json", "text/csv"),
        ("text/csv", "application/jsonlines"),
    ],
)
def test_kmeans_answers_as_in_process(
    kmeans_server: ModelServer, kmeans_model: Path, content_type: str, accept: str | None
) -> None:
    points = [[0.1, 0.2], [7.5, 8.2], [-8.1, 7.7]]
    if content_type == "text/csv":
        body = "\n".join(",".join(str(v) for v in row) for row in points).encode()
    else:
        body = json.dumps({"instances": [{"features": row} for row in points]}).encode()
    model = load_model("kmeans", kmeans_model / "model")
    want, want_type = predict("kmeans", model, body, content_type, accept or "")
    status, headers, answer = kmeans_server.invoke(body, content_type, accept)
    assert (status, headers["content-type"], answer) == (200, want_type, want)


def test_kmeans_errors(kmeans_server: ModelServer) -> None:
    status, _, body = kmeans_server.invoke("1,2", "application/x-npy")
    assert status == 415
    assert b"application/x-npy" in body
    assert kmeans_server.invoke("1,2", "text/csv", "image/png")[0] == 406
    assert kmeans_server.invoke("1,2,3", "text/csv")[0] == 400  # 3 features, not 2
    status, headers, body = kmeans_server.invoke("", "text/csv")
    assert (status, body) == (204, b"")
    assert "content-length" not in headers
    assert kmeans_server.invoke("1,2", "text/csv")[0] == 200  # the connection is still good
    assert "built-in algorithm kmeans" in kmeans_server.output()
