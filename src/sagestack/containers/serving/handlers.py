"""The handler chain one request goes through, built once when the model loads.

Script mode follows the inference toolkit's `transformer.py`: the user's module
(SAGEMAKER_PROGRAM, looked up in the source directory, then in `model/code/`) may define
`model_fn`, `input_fn`, `predict_fn`, `output_fn`, or `transform_fn` in place of the last three;
what it leaves out comes from the framework's defaults. Every handler may take one extra trailing
`context`; which call to make is decided from its arity at load time, not per request. Text
bodies (JSON, CSV) reach handlers as `str`, as the toolkit hands them over. Algorithm mode calls
the built-in algorithm's `load_model` and `predict`.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sagestack.containers.algorithms.errors import AlgorithmError, UnsupportedContentType
from sagestack.containers.serving import codecs
from sagestack.containers.serving.frameworks import ModelLoadError, defaults
from sagestack.containers.serving.settings import ServingSettings

CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
_CHAIN = ("input_fn", "predict_fn", "output_fn")


class RequestProcessor:
    """One request's headers, as Multi Model Server's RequestProcessor offers them."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = headers

    def get_request_properties(self) -> Mapping[str, str]:
        return self._headers

    def get_request_property(self, key: str) -> str | None:
        return self._headers.get(key.lower())


class Context:
    """The `context` handlers may take: the toolkit's (MMS's) Context, as far as handlers use
    it: system properties, the request's headers, its custom attributes."""

    def __init__(self, model_dir: str, model_name: str) -> None:
        self.model_name = model_name
        self.system_properties: dict[str, Any] = {
            "model_dir": model_dir,
            "gpu_id": None,
            "batch_size": 1,
            "server_name": "sagestack",
        }
        self.request_processor: list[RequestProcessor] = [RequestProcessor({})]

    def get_request_header(self, idx: int, key: str) -> str | None:
        return self.request_processor[idx].get_request_property(key)

    def get_all_request_header(self, idx: int) -> Mapping[str, str]:
        return self.request_processor[idx].get_request_properties()

    def get_request_id(self, idx: int = 0) -> str | None:
        return self.get_request_header(idx, "x-amzn-sagemaker-inference-id")

    @property
    def custom_attributes(self) -> str | None:
        return self.get_request_header(0, CUSTOM_ATTRIBUTES)


def _arity(function: Callable[..., Any], arguments: int, name: str) -> bool:
    """Whether `function` takes the trailing context argument (raises when it takes neither
    `arguments` nor `arguments + 1` parameters, as the toolkit does on its first call)."""
    count = len(inspect.signature(function).parameters)
    if count not in (arguments, arguments + 1):
        raise TypeError(f"{name} takes {count} arguments; expected {arguments} (+ context)")
    return count == arguments + 1


def _bound(function: Callable[..., Any], arguments: int, name: str, context: Context) -> Any:
    if _arity(function, arguments, name):
        return lambda *args: function(*args, context)
    return function


def load_user_module(settings: ServingSettings) -> ModuleType | None:
    """The module SAGEMAKER_PROGRAM names, or `inference.py` when it is there; None without."""
    program = settings.program or "inference.py"
    for directory in settings.code_dirs:
        if (directory / program).is_file():
            sys.path.insert(0, str(directory))
            return importlib.import_module(program.removesuffix(".py"))
    if settings.program:
        where = " or ".join(str(d) for d in settings.code_dirs)
        raise ModelLoadError(f"The entry point {settings.program} is not in {where}")
    return None


@dataclass(frozen=True, slots=True)
class Answer:
    """What goes back to the client: a status (204 for an algorithm's empty answer, as the
    XGBoost image sends it), the body and its Content-Type."""

    status: int
    body: bytes
    content_type: str
    #: A streamed answer (the handler returned an iterator or generator): sent chunk by chunk
    #: with chunked transfer encoding, as SageMaker's response streaming expects.
    chunks: Iterator[bytes] | None = None


Invoke = Callable[[bytes, str, str, Mapping[str, str]], Answer]


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model ready to answer: the per-request call, with every handler already resolved."""

    invoke: Invoke
    description: str  # which handlers serve it, for the startup line


def _as_body(result: Any, content_type: str) -> bytes:
    """The bytes of a handler's result. Toolkit handlers return str or bytes; anything else
    (a user's output_fn that hands back an array) is encoded to the response type rather than
    failing the request."""
    if isinstance(result, bytes):
        return result
    if isinstance(result, str):
        return result.encode()
    if isinstance(result, bytearray | memoryview):
        return bytes(result)
    if result is None:
        return b""
    return codecs.encode(result, content_type)


def _answer(result: Any, content_type: str) -> Answer:
    """A handler's result as an Answer: an iterator (a generator that yields parts of the
    response) streams, each part encoded as `_as_body` encodes a whole body."""
    if isinstance(result, Iterator):
        return Answer(200, b"", content_type, (_as_body(part, content_type) for part in result))
    return Answer(200, _as_body(result, content_type), content_type)


def load_script(settings: ServingSettings) -> LoadedModel:
    framework = defaults(settings.name)
    module = load_user_module(settings)
    user = {
        name: getattr(module, name)
        for name in ("model_fn", "transform_fn", *_CHAIN)
        if callable(getattr(module, name, None))
    }
    if "transform_fn" in user and any(name in user for name in _CHAIN):
        raise ValueError(
            "transform_fn cannot be defined together with input_fn, predict_fn or output_fn"
        )
    model_dir = str(settings.model_dir)
    context = Context(model_dir, settings.base.name)
    model_fn = user.get("model_fn", framework.model_fn)
    model = _bound(model_fn, 1, "model_fn", context)(model_dir)
    arities = {"transform_fn": 4} if "transform_fn" in user else dict.fromkeys(_CHAIN, 2)
    handlers = {
        name: _bound(user[name] if name in user else getattr(framework, name), arity, name, context)
        for name, arity in arities.items()
    }
    takes_context = any(_arity(user[name], arities[name], name) for name in user if name in arities)
    if "transform_fn" in user:
        transform = handlers["transform_fn"]
    else:
        input_fn, predict_fn, output_fn = (handlers[name] for name in _CHAIN)

        def transform(model: Any, body: bytes | str, content_type: str, accept: str) -> Any:
            return output_fn(predict_fn(input_fn(body, content_type), model), accept)

    configured_accept = settings.default_accept
    default_accept = framework.default_accept

    def invoke(body: bytes, content_type: str, accept: str, headers: Mapping[str, str]) -> Answer:
        if not accept or accept == codecs.ANY:
            accept = configured_accept or default_accept(content_type)
        data: bytes | str = body
        if codecs.media_type(content_type) in codecs.TEXT_TYPES:
            data = codecs.as_text(body)
        if takes_context:
            context.request_processor = [RequestProcessor(headers)]
        result = transform(model, data, content_type, accept)
        if isinstance(result, tuple):
            return _answer(result[0], str(result[1]))
        return _answer(result, accept)

    source = settings.program or "inference.py"
    listed = ", ".join(
        f"{name}={source if name in user else f'default({framework.name})'}"
        for name in ("model_fn", *arities)
    )
    return LoadedModel(invoke, f"framework {settings.name} ({listed})")


def load_algorithm(settings: ServingSettings) -> LoadedModel:
    from sagestack.containers import algorithms

    name = settings.name
    model = algorithms.load_model(name, settings.model_dir)
    configured_accept = settings.default_accept

    def invoke(body: bytes, content_type: str, accept: str, headers: Mapping[str, str]) -> Answer:
        if configured_accept and (not accept or accept == codecs.ANY):
            accept = configured_accept
        payload, response_type = algorithms.predict(name, model, body, content_type, accept)
        return Answer(204 if not payload else 200, payload, response_type)

    return LoadedModel(invoke, f"built-in algorithm {name}")


def load(settings: ServingSettings) -> LoadedModel:
    """Load the model (the slow part of startup); raises whatever stops it from loading.

    The XGBoost image chooses between script and algorithm mode itself, at start-up, by
    whether SAGEMAKER_PROGRAM names a module: the SDK's XGBoostModel without an entry point
    sends `SAGEMAKER_PROGRAM: ""`, and that model is served by the built-in algorithm."""
    if settings.mode == "algorithm" or (settings.name == "xgboost" and settings.program == ""):
        return load_algorithm(settings)
    return load_script(settings)


def failure_status(error: BaseException) -> int:
    """The HTTP status of a handler's exception: the request's fault (400/406/415) when the
    code says so, else 500."""
    if isinstance(error, codecs.InvocationError | UnsupportedContentType):
        return int(error.status)
    if isinstance(error, AlgorithmError):
        return 400
    status = getattr(error, "status_code", None)  # the toolkit's own errors carry one
    if isinstance(status, int) and 400 <= status <= 599:
        return status
    return 500
