"""Error answers in the shape of the model server each framework's image runs.

What a client sees of a failed invocation is the container's own answer (InvokeEndpoint's
ModelError carries it as OriginalMessage; an async failure file holds it), and the SageMaker
images differ:

- scikit-learn, XGBoost and the built-in algorithms serve through gunicorn and Flask (the
  inference toolkit's worker): errors are plain text.
- PyTorch runs TorchServe with the inference toolkit's handler service. A handler's exception
  is caught by the toolkit's `Transformer.transform`, which sets the response status (500, or
  the toolkit error's own: 415 for an unsupported content type, ...) and answers
  "<message>\\n<traceback>" as text. TorchServe's own refusals (no such route, method, model)
  and a worker's failure are its `ErrorResponse` JSON: `{"code", "type", "message"}`, printed
  by Gson (two-space indent, HTML-safe escapes such as \\u0027 for `'`, a final newline).
- Hugging Face runs Multi Model Server with its own handler service, which turns every handler
  exception into `PredictionException(str(e), 400)`; MMS answers that as the same JSON with
  code 400 and type InternalServerException (what MMS's `Job.sendError` always names).

Only the error path goes through here; a successful answer never does.
"""

from __future__ import annotations

import json
import traceback

from sagestack.containers.serving.handlers import Answer, failure_status

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"

#: TorchServe's and MMS's canned messages for a request no route takes.
NO_ROUTE = "Requested resource is not found, please refer to API document."
NO_METHOD = "Requested method is not allowed, please refer to API document."

#: The exception class TorchServe / MMS name in `type` for the status they answer with.
_JAVA_TYPES = {
    400: "BadRequestException",
    404: "ResourceNotFoundException",
    405: "MethodNotAllowedException",
    408: "RequestTimeoutException",
    409: "ConflictStatusException",
    503: "ServiceUnavailableException",
}
#: Gson's HTML-safe escapes (its default), applied to the JSON text Python writes.
_GSON_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "=": "\\u003d",
        "'": "\\u0027",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def gson_error(status: int, kind: str, message: str) -> bytes:
    """TorchServe's / MMS's ErrorResponse body, byte for byte as Gson's pretty printer makes it."""
    text = json.dumps(
        {"code": status, "type": kind, "message": message}, indent=2, ensure_ascii=False
    )
    return (text + "\n").translate(_GSON_ESCAPES).encode()


class TextErrors:
    """gunicorn + Flask (scikit-learn, XGBoost, built-in algorithms): plain text."""

    def refusal(self, status: int, message: str, kind: str | None = None) -> Answer:
        """The server's own refusal (route, method, size, model not loaded, time limit)."""
        return Answer(status, message.encode(), TEXT)

    def failure(self, error: Exception) -> Answer:
        """A handler's exception; called inside the `except` block that caught it."""
        status = failure_status(error)
        message = str(error) or type(error).__name__
        if status >= 500:
            message = f"{type(error).__name__}: {message}"
        return Answer(status, message.encode(), TEXT)


class TorchServeErrors(TextErrors):
    """TorchServe with the SageMaker inference toolkit (PyTorch)."""

    def refusal(self, status: int, message: str, kind: str | None = None) -> Answer:
        if status == 404 and kind is None:
            message = NO_ROUTE
        elif status == 405:
            message = NO_METHOD
        kind = kind or _JAVA_TYPES.get(status, "InternalServerException")
        return Answer(status, gson_error(status, kind, message), JSON)

    def failure(self, error: Exception) -> Answer:
        """The toolkit's `handle_error`: its status, then "<message>\\n<traceback>"."""
        message = str(error) or type(error).__name__
        body = f"{message}\n{traceback.format_exc()}"
        return Answer(failure_status(error), body.encode(), TEXT)


class MultiModelServerErrors(TorchServeErrors):
    """Multi Model Server with the Hugging Face inference toolkit."""

    def failure(self, error: Exception) -> Answer:
        """`PredictionException(str(e), 400)`, answered by MMS's `Job.sendError`."""
        return Answer(400, gson_error(400, "InternalServerException", str(error)), JSON)


ErrorStyle = TextErrors

_STYLES: dict[str, ErrorStyle] = {
    "pytorch": TorchServeErrors(),
    "huggingface": MultiModelServerErrors(),
}


def error_style(mode: str, name: str) -> ErrorStyle:
    """The error shape of the image a runtime stands in for (text unless it is known)."""
    return _STYLES.get(name, TextErrors()) if mode == "script" else TextErrors()
