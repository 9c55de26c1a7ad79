"""Each framework image's default handlers, used for whatever the user's module leaves out:
scikit-learn's, XGBoost's (framework mode), PyTorch's, and the toolkit's generic ones for
TensorFlow, Hugging Face and plain Python, which have no default model_fn here.

Heavy libraries are imported when a handler first runs, so a server pays only for its own.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sagestack.containers.serving import codecs
from sagestack.containers.serving.codecs import CSV, JSON, LIBSVM, NPY, NPZ, TEXT_TYPES


class ModelLoadError(Exception):
    """The model directory holds nothing the default model_fn can load."""


@dataclass(frozen=True, slots=True)
class Defaults:
    name: str
    model_fn: Callable[[str], Any]
    input_fn: Callable[[bytes | str, str], Any]
    predict_fn: Callable[[Any, Any], Any]
    output_fn: Callable[[Any, str], tuple[bytes, str]]
    #: The response type when the request names none: by the request's content type.
    default_accept: Callable[[str], str]


def _no_model_fn(framework: str) -> Callable[[str], Any]:
    def model_fn(model_dir: str) -> Any:
        raise ModelLoadError(
            f"The {framework} server has no default model_fn: define model_fn(model_dir) "
            "in the entry point (SAGEMAKER_PROGRAM)."
        )

    return model_fn


def _model_file(model_dir: str, preferred: str, suffixes: Sequence[str], kind: str) -> Path:
    """`preferred` in model_dir, else its only file with one of `suffixes`."""
    root = Path(model_dir)
    if (root / preferred).is_file():
        return root / preferred
    found = sorted(p for p in root.iterdir() if p.is_file() and p.suffix in suffixes)
    if len(found) == 1:
        return found[0]
    listed = ", ".join(p.name for p in found) or "none"
    raise ModelLoadError(
        f"Cannot choose the {kind} model in {model_dir}: expected {preferred} or a single "
        f"{' / '.join(suffixes)} file (found {listed}); or define model_fn in SAGEMAKER_PROGRAM."
    )


def _encoder(accepts: Sequence[str], fallback: str) -> Callable[[Any, str], tuple[bytes, str]]:
    def output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
        chosen = codecs.choose_accept(accept, accepts, fallback)
        return codecs.encode(prediction, chosen), chosen

    return output_fn


def _predict(data: Any, model: Any) -> Any:
    if hasattr(model, "predict"):
        return model.predict(data)
    if callable(model):
        return model(data)
    raise TypeError(f"The model ({type(model).__name__}) has no predict(); define predict_fn")


def _decoder(supported: Sequence[str], text_dtype: Any = None) -> Callable[[bytes | str, str], Any]:
    def input_fn(body: bytes | str, content_type: str) -> Any:
        media = codecs.media_type(content_type)
        if media not in supported:
            raise codecs.UnsupportedMediaType(content_type, supported)
        return codecs.decode(body, media, text_dtype if media in TEXT_TYPES else None)

    return input_fn


# scikit-learn ----------------------------------------------------------------------------


def _sklearn_model_fn(model_dir: str) -> Any:
    joblib = importlib.import_module("joblib")
    return joblib.load(_model_file(model_dir, "model.joblib", (".joblib", ".pkl"), "scikit-learn"))


# XGBoost -------------------------------------------------------------------------------


def _xgboost_model_fn(model_dir: str) -> Any:
    import xgboost as xgb

    path = _model_file(model_dir, "xgboost-model", (".json", ".ubj", ".bin", ".model"), "XGBoost")
    raw = path.read_bytes()
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(raw))  # JSON or UBJSON, told apart by their content
    except xgb.core.XGBoostError:
        model = pickle.loads(raw)  # older images pickled the Booster; the user's own artifact
    else:
        return booster
    if not isinstance(model, xgb.Booster) and not hasattr(model, "predict"):
        raise ModelLoadError(f"{path.name} is not an XGBoost model")
    return model


_XGBOOST_INPUTS = (CSV, LIBSVM, JSON, NPY)


def _xgboost_input_fn(body: bytes | str, content_type: str) -> Any:
    import xgboost as xgb

    media = codecs.media_type(content_type)
    if media == LIBSVM:
        from sagestack.containers.algorithms.data import parse_libsvm
        from sagestack.containers.algorithms.errors import AlgorithmError

        try:
            features = parse_libsvm(codecs.as_bytes(body), "the request", with_labels=False)
        except AlgorithmError as error:
            raise codecs.InvocationError(str(error)) from None
        return xgb.DMatrix(features.features)
    if media not in _XGBOOST_INPUTS:
        raise codecs.UnsupportedMediaType(content_type, _XGBOOST_INPUTS)
    array = codecs.decode(body, media, np.float32 if media in TEXT_TYPES else None)
    return xgb.DMatrix(array.reshape(1, -1) if array.ndim == 1 else array)


def _xgboost_predict_fn(data: Any, model: Any) -> Any:
    import xgboost as xgb

    if isinstance(model, xgb.Booster):
        return model.predict(data, validate_features=False)
    return model.predict(data)


# PyTorch -------------------------------------------------------------------------------


def _torch() -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise ModelLoadError("PyTorch is not installed in sagestack's environment") from None


def _pytorch_model_fn(model_dir: str) -> Any:
    torch = _torch()
    path = Path(model_dir) / "model.pt"
    if not path.is_file():
        raise ModelLoadError(
            f"No TorchScript model.pt in {model_dir}: save one with torch.jit.save, or define "
            "model_fn in SAGEMAKER_PROGRAM."
        )
    return torch.jit.load(str(path), map_location="cpu")


_PYTORCH_INPUTS = (JSON, CSV, NPY)


def _pytorch_input_fn(body: bytes | str, content_type: str) -> Any:
    media = codecs.media_type(content_type)
    if media not in _PYTORCH_INPUTS:
        raise codecs.UnsupportedMediaType(content_type, _PYTORCH_INPUTS)
    array = codecs.decode(body, media, np.float32 if media in TEXT_TYPES else None)
    try:
        return _torch().from_numpy(array)
    except ModelLoadError:  # a user model_fn without torch: hand over the array
        return array


def _pytorch_predict_fn(data: Any, model: Any) -> Any:
    torch = _torch()
    model.eval()
    with torch.no_grad():
        return model(data)


def _pytorch_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
    if hasattr(prediction, "detach"):
        prediction = prediction.detach().cpu().numpy()
    return _encoder((JSON, CSV, NPY), JSON)(prediction, accept)


# ---------------------------------------------------------------------------------------


def _json_unless(request_type: str) -> Callable[[str], str]:
    """JSON, or the request's own type when it is `request_type` (the SDK's Numpy pair)."""
    return lambda content_type: (
        request_type if codecs.media_type(content_type) == request_type else JSON
    )


def defaults(framework: str) -> Defaults:
    if framework == "sklearn":
        return Defaults(
            "sklearn",
            _sklearn_model_fn,
            _decoder((JSON, CSV, NPY, NPZ), np.float32),
            _predict,
            _encoder((JSON, CSV, NPY), JSON),
            _json_unless(NPY),
        )
    if framework == "xgboost":
        return Defaults(
            "xgboost",
            _xgboost_model_fn,
            _xgboost_input_fn,
            _xgboost_predict_fn,
            _encoder((CSV, JSON, NPY), CSV),
            lambda _: CSV,
        )
    if framework == "pytorch":
        return Defaults(
            "pytorch",
            _pytorch_model_fn,
            _pytorch_input_fn,
            _pytorch_predict_fn,
            _pytorch_output_fn,
            lambda _: JSON,
        )
    return Defaults(
        framework,
        _no_model_fn(framework),
        _decoder((JSON, CSV, NPY, NPZ)),
        _predict,
        _encoder((JSON, CSV, NPY), JSON),
        _json_unless(NPY),
    )
