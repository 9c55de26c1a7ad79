"""User entry points (SAGEMAKER_PROGRAM): partial handler sets over a framework's defaults,
transform_fn with a context, handler errors and time limits, several workers, and models that
fail to load."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor

from tests.unit.containers.serving.support import ModelServer, runtime

PREDICT_MODULE = """
    import os
    import time

    import joblib


    class Refused(Exception):
        status_code = 400


    def model_fn(model_dir):
        return {"tree": joblib.load(os.path.join(model_dir, "tree.bin")), "scale": 10.0}


    def predict_fn(data, model):
        if data[0][0] == -1:
            raise RuntimeError("boom: negative sentinel")
        if data[0][0] == -2:
            raise Refused("the model refuses this row")
        if data[0][0] == -3:
            time.sleep(30)
        return model["tree"].predict(data) * model["scale"]
"""

TRANSFORM_MODULE = """
    import json


    def model_fn(model_dir, context):
        with open(f"{model_dir}/greeting.txt") as file:
            return {"greeting": file.read(), "dir": context.system_properties["model_dir"]}


    def transform_fn(model, body, content_type, accept, context):
        answer = {
            "greeting": model["greeting"],
            "model_dir": model["dir"],
            "body_type": type(body).__name__,
            "body": body if isinstance(body, str) else body.hex(),
            "content_type": content_type,
            "accept": accept,
            "custom": context.get_request_header(0, "X-Amzn-SageMaker-Custom-Attributes"),
        }
        return json.dumps(answer), "application/json"
"""

WORKER_MODULE = """
    import os
    import random
    import time


    def model_fn(model_dir):
        time.sleep(random.uniform(0, 0.3))
        open(os.path.join(model_dir, f"loaded-{os.getpid()}"), "w").close()
        return os.getpid()


    def transform_fn(model, body, content_type, accept):
        return str(model), "text/plain"
"""


def write_module(directory: Path, name: str, source: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(textwrap.dedent(source))


@pytest.fixture(scope="module")
def tree() -> DecisionTreeRegressor:
    features = np.random.default_rng(4).uniform(0, 5, size=(80, 2))
    return DecisionTreeRegressor(max_depth=3).fit(features, features.sum(axis=1))


@pytest.fixture(scope="module")
def predict_server(
    tmp_path_factory: pytest.TempPathFactory, tree: DecisionTreeRegressor
) -> Iterator[ModelServer]:
    base = tmp_path_factory.mktemp("predict-fn")
    (base / "model").mkdir()
    joblib.dump(tree, base / "model" / "tree.bin")
    write_module(base / "code", "inference.py", PREDICT_MODULE)
    env = runtime("script", "sklearn") | {
        "SAGEMAKER_PROGRAM": "inference.py",
        "SAGEMAKER_MODEL_SERVER_TIMEOUT": "1",
    }
    with ModelServer(base, env) as server:
        yield server.start()


def test_user_model_fn_and_predict_fn_with_default_io(
    predict_server: ModelServer, tree: DecisionTreeRegressor
) -> None:
    rows = [[1.0, 2.0], [4.5, 0.5]]
    status, _, body = predict_server.invoke(json.dumps(rows), "application/json")
    assert status == 200
    want = (tree.predict(np.asarray(rows, dtype=np.float32)) * 10).tolist()
    assert json.loads(body) == pytest.approx(want)
    status, headers, body = predict_server.invoke("1,2\n4.5,0.5", "text/csv", "text/csv")
    assert headers["content-type"] == "text/csv"
    assert [float(v) for v in body.split()] == pytest.approx(want)
    line = next(line for line in predict_server.output().splitlines() if "Model loaded" in line)
    assert "model_fn=inference.py" in line
    assert "input_fn=default(sklearn)" in line
    assert "predict_fn=inference.py" in line


def test_handler_exceptions(predict_server: ModelServer) -> None:
    status, _, body = predict_server.invoke("[[-1, 0]]", "application/json")
    assert status == 500
    assert body == b"RuntimeError: boom: negative sentinel"
    status, _, body = predict_server.invoke("[[-2, 0]]", "application/json")
    assert (status, body) == (400, b"the model refuses this row")
    assert 'raise RuntimeError("boom: negative sentinel")' in predict_server.output()


def test_handler_time_limit(predict_server: ModelServer) -> None:
    started = time.monotonic()
    status, _, body = predict_server.invoke("[[-3, 0]]", "application/json")
    assert status == 504
    assert b"1 seconds" in body
    assert time.monotonic() - started < 10
    assert predict_server.invoke("[[1, 1]]", "application/json")[0] == 200


def test_transform_fn_with_context_from_the_repacked_layout(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "greeting.txt").write_text("hello")
    write_module(tmp_path / "model" / "code", "serve.py", TRANSFORM_MODULE)
    env = runtime("script", "python") | {"SAGEMAKER_PROGRAM": "serve.py"}
    with ModelServer(tmp_path, env) as server:
        server.start()
        attributes = "trace=abc,tier=gold"
        status, headers, body = server.invoke(
            '{"a": 1}',
            "application/json",
            "application/json",
            **{"X-Amzn-SageMaker-Custom-Attributes": attributes},
        )
        assert (status, headers["content-type"]) == (200, "application/json")
        assert json.loads(body) == {
            "greeting": "hello",
            "model_dir": str(tmp_path / "model"),
            "body_type": "str",
            "body": '{"a": 1}',
            "content_type": "application/json",
            "accept": "application/json",
            "custom": attributes,
        }
        status, _, body = server.invoke(b"\x00\x01", "application/octet-stream")
        answer = json.loads(body)
        assert (answer["body_type"], answer["body"]) == ("bytes", "0001")
        assert answer["accept"] == "application/json"  # the default when none is sent
        assert answer["custom"] is None


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(child) for child in text.split()}


def test_two_workers(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    write_module(tmp_path / "code", "inference.py", WORKER_MODULE)
    env = runtime("script", "python") | {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}
    with ModelServer(tmp_path, env) as server:
        server.start()
        assert server.process is not None
        loaded = {int(p.name.split("-")[1]) for p in (tmp_path / "model").glob("loaded-*")}
        assert len(loaded) == 2  # green only once both workers have loaded
        assert _children(server.process.pid) == loaded
        parameters = json.loads(server.request("GET", "/execution-parameters")[2])
        assert parameters["MaxConcurrentTransforms"] == 2
        assert int(server.invoke("x", "text/plain")[2]) in loaded
        assert "2 workers listening" in server.output()

        victim = sorted(loaded)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(list((tmp_path / "model").glob("loaded-*"))) < 3:  # the replacement loaded
            assert time.monotonic() < deadline, server.output()
            assert server.process.poll() is None, server.output()
            time.sleep(0.02)
        assert victim not in _children(server.process.pid)
        server.connection = None
        assert server.invoke("x", "text/plain")[0] == 200
    assert server.process.wait() == 0
    assert f"Worker {victim} exited" in server.output()


FAILING_MODEL_FN = """
    def model_fn(model_dir):
        raise FileNotFoundError("no weights in " + model_dir)
"""


@pytest.mark.parametrize(
    ("env", "module", "message"),
    [
        ({}, FAILING_MODEL_FN, "FileNotFoundError: no weights in"),
        ({"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}, FAILING_MODEL_FN, "no weights in"),
        (
            {},
            "def transform_fn(m, b, c, a): pass\ndef input_fn(b, c): pass\n",
            "transform_fn cannot be defined together with input_fn",
        ),
        ({"SAGEMAKER_PROGRAM": "missing.py"}, None, "The entry point missing.py is not in"),
        ({}, "def model_fn(a, b, c): pass\n", "model_fn takes 3 arguments"),
        ({}, None, "The python server has no default model_fn"),
        ({"SAGESTACK_RUNTIME": '{"mode": "script", "name": "cobol"}'}, None, "cobol"),
    ],
)
def test_model_that_fails_to_load(
    tmp_path: Path, env: dict[str, str], module: str | None, message: str
) -> None:
    (tmp_path / "model").mkdir()
    if module is not None:
        write_module(tmp_path / "code", "inference.py", module)
    with ModelServer(tmp_path, runtime("script", "python") | env) as server:
        assert server.run_to_exit() != 0
        assert message in server.output()
        if module == FAILING_MODEL_FN:
            assert "Traceback (most recent call last)" in server.output()


def test_pytorch_without_torch(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    hidden = tmp_path / "no-torch"  # an environment without torch: its import fails
    write_module(hidden, "torch.py", "raise ModuleNotFoundError(\"No module named 'torch'\")\n")
    env = runtime("script", "pytorch") | {"PYTHONPATH": str(hidden)}
    with ModelServer(tmp_path, env) as server:
        assert server.run_to_exit() == 1
        assert "PyTorch is not installed in sagestack's environment" in server.output()
