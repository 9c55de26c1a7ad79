"""Error answers in each framework's shape: TorchServe (PyTorch) answers a handler's exception
as the inference toolkit's "<message>\\n<traceback>" text and its own refusals as Gson-printed
ErrorResponse JSON; Multi Model Server (Hugging Face) answers a handler's exception as JSON
with code 400; the Flask-based images (scikit-learn) answer text."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sagestack.containers.serving.errors import error_style, gson_error
from tests.unit.containers.serving.support import ModelServer, runtime

MODULE = """
    import json


    def model_fn(model_dir):
        return "model"


    def transform_fn(model, body, content_type, accept):
        body = body.decode() if isinstance(body, bytes) else body
        if body == "boom":
            raise ValueError("it's <broken> & wrong")
        return json.dumps({"echo": body}), "application/json"
"""


def test_gson_error_is_byte_for_byte_what_torchserve_prints() -> None:
    assert gson_error(400, "InternalServerException", "'gptj'") == (
        b'{\n  "code": 400,\n  "type": "InternalServerException",\n'
        b'  "message": "\\u0027gptj\\u0027"\n}\n'
    )
    assert b"\\u003cx\\u003e \\u0026 a\\u003db" in gson_error(500, "T", "<x> & a=b")
    assert "é" in gson_error(500, "T", "é").decode()  # Gson leaves non-ASCII as it is


def test_frameworks_choose_their_error_shape() -> None:
    assert type(error_style("script", "pytorch")).__name__ == "TorchServeErrors"
    assert type(error_style("script", "huggingface")).__name__ == "MultiModelServerErrors"
    assert type(error_style("script", "sklearn")).__name__ == "TextErrors"
    assert type(error_style("algorithm", "xgboost")).__name__ == "TextErrors"


def _server(tmp_path: Path, framework: str) -> ModelServer:
    (tmp_path / "model").mkdir()
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(textwrap.dedent(MODULE))
    env = {**runtime("script", framework), "SAGEMAKER_PROGRAM": "inference.py"}
    return ModelServer(tmp_path, env)


@pytest.fixture
def pytorch(tmp_path: Path) -> Iterator[ModelServer]:
    with _server(tmp_path, "pytorch").start() as server:
        yield server


@pytest.fixture
def huggingface(tmp_path: Path) -> Iterator[ModelServer]:
    with _server(tmp_path, "huggingface").start() as server:
        yield server


def test_pytorch_handler_failure_is_the_toolkits_message_and_traceback(
    pytorch: ModelServer,
) -> None:
    status, _, body = pytorch.invoke("boom", "text/plain")
    assert status == 500
    message, _, trace = body.decode().partition("\n")
    assert message == "it's <broken> & wrong"
    assert trace.startswith("Traceback (most recent call last):")
    assert trace.rstrip().endswith("ValueError: it's <broken> & wrong")
    # the server still answers on the same connection
    assert pytorch.invoke("ok", "text/plain")[2] == b'{"echo": "ok"}'


def test_pytorch_refusals_are_torchserve_error_responses(pytorch: ModelServer) -> None:
    status, headers, body = pytorch.request("GET", "/nowhere")
    assert (status, headers["content-type"]) == (404, "application/json")
    assert json.loads(body) == {
        "code": 404,
        "type": "ResourceNotFoundException",
        "message": "Requested resource is not found, please refer to API document.",
    }
    status, _, body = pytorch.request("GET", "/invocations")
    assert status == 405
    assert json.loads(body)["type"] == "MethodNotAllowedException"
    assert body.endswith(b"}\n") and b'\n  "code": 405,' in body


def test_huggingface_handler_failure_is_mms_json_with_code_400(
    huggingface: ModelServer,
) -> None:
    status, headers, body = huggingface.invoke("boom", "text/plain")
    assert (status, headers["content-type"]) == (400, "application/json")
    assert body == gson_error(400, "InternalServerException", "it's <broken> & wrong")
    assert json.loads(body)["message"] == "it's <broken> & wrong"


def test_sklearn_errors_stay_text(tmp_path: Path) -> None:
    with _server(tmp_path, "sklearn").start() as server:
        status, headers, body = server.invoke("boom", "text/plain")
        assert (status, body) == (500, b"ValueError: it's <broken> & wrong")
        assert headers["content-type"].startswith("text/plain")
        status, _, body = server.request("GET", "/nowhere")
        assert (status, body) == (404, b"No route for /nowhere")
