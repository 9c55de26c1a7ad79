"""Request decoding and response encoding as the SageMaker inference toolkit does them
(`decoder.py` / `encoder.py`): JSON, CSV and NPY in both directions, NPZ (a scipy sparse
matrix) in; plus the errors that carry an HTTP status back to the client.

The toolkit answers an unknown Accept with 415 too; here it is 406, as the XGBoost image and
the built-in algorithms answer, so a client can tell which header was wrong.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
NPZ = "application/x-npz"
LIBSVM = "text/libsvm"
ANY = "*/*"

#: Bodies of these types reach a user's input_fn as text, as the toolkit hands them over.
TEXT_TYPES = frozenset({JSON, CSV})
_ALIASES = {"text/x-libsvm": LIBSVM, "libsvm": LIBSVM, "csv": CSV}


class InvocationError(Exception):
    """A request the model cannot answer as sent: its `status` goes back to the client."""

    status = 400


class UnsupportedMediaType(InvocationError):
    status = 415

    def __init__(self, content_type: str, supported: Sequence[str]) -> None:
        shown = content_type or "(none)"
        super().__init__(
            f"Content type {shown} is not supported by this model. Supported: "
            f"{', '.join(supported)}"
        )


class NotAcceptable(InvocationError):
    status = 406

    def __init__(self, accept: str, supported: Sequence[str]) -> None:
        super().__init__(
            f"Accept type {accept} is not supported by this model. Supported: "
            f"{', '.join(supported)}"
        )


def media_type(value: str | None) -> str:
    """`text/csv; charset=utf-8` → `text/csv` (lower-cased, parameters dropped)."""
    if not value:
        return ""
    media = value.partition(";")[0].strip().lower()
    return _ALIASES.get(media, media)


def choose_accept(accept: str, supported: Sequence[str], default: str) -> str:
    """The first type of an Accept list this model produces; `*/*` (or nothing) is
    `default`. Raises NotAcceptable when none is produced."""
    for item in accept.split(","):
        media = media_type(item)
        if media in ("", ANY):
            return default
        if media in supported:
            return media
    raise NotAcceptable(accept, supported)


def as_text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvocationError("The request body is not UTF-8 text") from None


def as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def decode(body: bytes | str, content_type: str, dtype: Any = None) -> Any:
    """The array a request body holds: a numpy array (2-D for CSV, one row per line), or a
    scipy sparse matrix for NPZ. Raises UnsupportedMediaType or InvocationError (400)."""
    media = media_type(content_type)
    if not as_bytes(body).strip():
        raise InvocationError("The request body is empty")
    try:
        if media == JSON:
            return np.asarray(json.loads(body), dtype=dtype)
        if media == CSV:
            text = io.StringIO(as_text(body))
            return np.loadtxt(text, delimiter=",", ndmin=2, dtype=dtype or np.float64)
        if media == NPY:
            return np.load(io.BytesIO(as_bytes(body)), allow_pickle=False)
        if media == NPZ:
            import scipy.sparse

            return scipy.sparse.load_npz(io.BytesIO(as_bytes(body)))
    except InvocationError:
        raise
    except Exception as error:  # numpy and json say "unreadable" in many ways
        raise InvocationError(f"Unable to read the {media} request: {error}") from None
    raise UnsupportedMediaType(content_type, (JSON, CSV, NPY, NPZ))


def _plain(value: Any) -> Any:
    """What json.dumps cannot take on its own: numpy (and torch) arrays and scalars."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode(prediction: Any, accept: str) -> bytes:
    """The response body of a prediction in `accept` (JSON, CSV or NPY)."""
    media = media_type(accept)
    if media == JSON:
        if hasattr(prediction, "tolist"):
            prediction = prediction.tolist()
        return json.dumps(prediction, default=_plain).encode()
    if media == CSV:
        stream = io.StringIO()
        np.savetxt(stream, np.atleast_1d(np.asarray(prediction)), delimiter=",", fmt="%s")
        return stream.getvalue().encode()
    if media == NPY:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(prediction))
        return buffer.getvalue()
    raise NotAcceptable(accept, (JSON, CSV, NPY))
