"""The scikit-learn server with only default handlers: every content type in and out, the
error statuses, the routes, and the wire behaviour the platform's proxy relies on."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse
from sklearn.linear_model import LogisticRegression

from tests.unit.containers.serving.support import ModelServer, runtime

FEATURES = np.random.default_rng(0).normal(size=(120, 4))
LABELS = (FEATURES[:, 0] + FEATURES[:, 1] > 0).astype(int) + (FEATURES[:, 2] > 1).astype(int)
ROWS = np.array([[1.5, 0.5, 2.0, 0.0], [-2.0, -1.0, 0.0, 1.0], [0.1, -0.3, 1.2, 0.4]])


def npy(array: object) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array))
    return buffer.getvalue()


def csv(array: np.ndarray) -> str:
    return "\n".join(",".join(str(value) for value in row) for row in array)


@pytest.fixture(scope="module")
def model() -> LogisticRegression:
    return LogisticRegression(max_iter=500).fit(FEATURES, LABELS)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, model: LogisticRegression
) -> Iterator[ModelServer]:
    base = tmp_path_factory.mktemp("sklearn")
    (base / "model").mkdir()
    joblib.dump(model, base / "model" / "model.joblib")
    with ModelServer(base, runtime("script", "sklearn")) as server:
        yield server.start()


@pytest.fixture
def expected(model: LogisticRegression) -> list[int]:
    return [int(label) for label in model.predict(ROWS.astype(np.float32))]


def test_ping_and_startup_line(server: ModelServer) -> None:
    assert server.request("GET", "/ping")[0] == 200
    assert server.request("HEAD", "/ping")[0] == 200
    line = next(line for line in server.output().splitlines() if "Model loaded" in line)
    assert "framework sklearn" in line
    assert "model_fn=default(sklearn)" in line
    assert "1 worker listening on 127.0.0.1:" in line


def test_json_in_json_out(server: ModelServer, expected: list[int]) -> None:
    status, headers, body = server.invoke(json.dumps(ROWS.tolist()), "application/json")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == expected


def test_csv_in_every_accept(server: ModelServer, expected: list[int]) -> None:
    status, headers, body = server.invoke(csv(ROWS), "text/csv", "text/csv")
    assert (status, headers["content-type"]) == (200, "text/csv")
    assert [int(line) for line in body.decode().split()] == expected
    status, headers, body = server.invoke(csv(ROWS), "text/csv; charset=utf-8", "*/*")
    assert (status, headers["content-type"], json.loads(body)) == (
        200,
        "application/json",
        expected,
    )
    status, headers, body = server.invoke(csv(ROWS), "text/csv", "application/x-npy")
    assert headers["content-type"] == "application/x-npy"
    assert np.load(io.BytesIO(body)).tolist() == expected
    status, headers, body = server.invoke(csv(ROWS), "text/csv", "application/xml, text/csv")
    assert (status, headers["content-type"]) == (200, "text/csv")


def test_npy_answers_npy_by_default(server: ModelServer, expected: list[int]) -> None:
    status, headers, body = server.invoke(npy(ROWS), "application/x-npy")
    assert (status, headers["content-type"]) == (200, "application/x-npy")
    assert np.load(io.BytesIO(body)).tolist() == expected


def test_npz_sparse_input(server: ModelServer, model: LogisticRegression) -> None:
    buffer = io.BytesIO()
    scipy.sparse.save_npz(buffer, scipy.sparse.csr_matrix(ROWS))
    status, _, body = server.invoke(buffer.getvalue(), "application/x-npz", "application/json")
    assert status == 200
    assert json.loads(body) == model.predict(scipy.sparse.csr_matrix(ROWS)).tolist()


def test_unsupported_content_type_is_415(server: ModelServer) -> None:
    status, _, body = server.invoke("hello", "text/plain")
    assert status == 415
    assert b"text/plain" in body
    assert server.invoke("[[1,2,3,4]]", None)[0] == 415


def test_unsupported_accept_is_406(server: ModelServer) -> None:
    status, _, body = server.invoke("[[1,2,3,4]]", "application/json", "application/xml")
    assert status == 406
    assert b"application/xml" in body


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"[[1, 2,", "application/json"),
        (b"1,2,x,4", "text/csv"),
        (b"not an npy file", "application/x-npy"),
        (b"", "application/json"),
        (b"\xff\xfe", "text/csv"),
    ],
)
def test_unreadable_input_is_400(server: ModelServer, body: bytes, content_type: str) -> None:
    assert server.invoke(body, content_type)[0] == 400


def test_predict_error_is_500_with_the_message(server: ModelServer) -> None:
    status, _, body = server.invoke("[[1, 2]]", "application/json")  # 2 features, not 4
    assert status == 500
    assert b"ValueError" in body
    assert b"features" in body
    assert "Invocation failed (500)" in server.output()
    assert "Traceback" in server.output()


def test_execution_parameters(server: ModelServer) -> None:
    status, headers, body = server.request("GET", "/execution-parameters")
    assert (status, headers["content-type"]) == (200, "application/json")
    assert json.loads(body) == {
        "MaxConcurrentTransforms": 1,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }


def test_other_paths_and_methods(server: ModelServer) -> None:
    assert server.request("GET", "/models")[0] == 404
    assert server.request("GET", "/invocations")[0] == 405
    assert (
        server.request(
            "POST", "/invocations?x=1", "[[0,0,0,0]]", {"Content-Type": "application/json"}
        )[0]
        == 200
    )


def test_keep_alive_and_large_bodies(server: ModelServer, model: LogisticRegression) -> None:
    connection = server.connection
    rows = np.random.default_rng(3).normal(size=(20_000, 4))
    status, _, body = server.invoke(npy(rows), "application/x-npy", "application/json")
    assert status == 200
    assert json.loads(body) == model.predict(rows).tolist()
    for _ in range(50):
        assert server.invoke("[[0, 0, 0, 0]]", "application/json")[0] == 200
    assert server.connection is connection  # every request on the one connection


def test_chunked_request_body(server: ModelServer, expected: list[int]) -> None:
    connection = server.connect()
    chunks = iter([b"[[1.5, 0.5, 2.0, 0.0], ", b"[-2.0, -1.0, 0.0, 1.0], [0.1, -0.3, 1.2, 0.4]]"])
    connection.request(
        "POST",
        "/invocations",
        body=chunks,
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())) == (200, expected)
    connection.close()


def test_unix_socket_and_default_accept(tmp_path: Path, model: LogisticRegression) -> None:
    (tmp_path / "model").mkdir()
    joblib.dump(model, tmp_path / "model" / "custom-name.pkl")
    env = runtime("script", "sklearn") | {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}
    with ModelServer(tmp_path, env, unix_socket=tmp_path / "replica.sock") as server:
        server.start()
        status, headers, body = server.invoke(csv(ROWS), "text/csv")
        assert (status, headers["content-type"]) == (200, "text/csv")
        assert [int(v) for v in body.split()] == model.predict(ROWS.astype(np.float32)).tolist()
        assert server.invoke(csv(ROWS), "text/csv", "application/json")[2].startswith(b"[")
