"""Request and response formats shared by the built-in algorithms' inference containers
(AWS's "Common data formats for inference"): requests in CSV, JSON (`{"instances": [...]}`),
JSON lines or RecordIO-protobuf; answers as JSON `{"predictions": [...]}`, JSON lines, CSV or
one RecordIO-protobuf record per prediction with the outputs in `label`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from sagestack.containers.algorithms import recordio
from sagestack.containers.algorithms.data import (
    CSV,
    JSON,
    JSONLINES,
    RECORDIO,
    Matrix,
    label_size,
    parse_content_type,
    parse_csv,
    parse_recordio,
)
from sagestack.containers.algorithms.errors import (
    AlgorithmError,
    UnsupportedAccept,
    UnsupportedContentType,
)

Prediction = Mapping[str, float | Sequence[float]]


def choose_accept(accept: str | None, supported: Sequence[str], default: str) -> str:
    """The response type: the first supported type of Accept; a missing or `*/*` Accept gets
    the container's default."""
    if not accept or not accept.strip():
        return default
    for item in accept.split(","):
        media, _ = parse_content_type(item)
        if media in ("*/*", ""):
            return default
        if media in supported:
            return media
    raise UnsupportedAccept(accept, supported)


def _instance_row(instance: Any) -> tuple[np.ndarray, np.ndarray | None, int | None]:
    """(values, keys or None, declared width or None) of one JSON instance."""
    if isinstance(instance, list):
        return np.asarray(instance, dtype=np.float64), None, None
    if not isinstance(instance, dict):
        raise AlgorithmError("Each JSON instance must be an object or a list of numbers")
    if "features" in instance and isinstance(instance["features"], list):
        return np.asarray(instance["features"], dtype=np.float64), None, None
    tensor = (
        instance.get("data", {}).get("features") if isinstance(instance.get("data"), dict) else None
    )
    if isinstance(tensor, list):
        return np.asarray(tensor, dtype=np.float64), None, None
    if not isinstance(tensor, dict) or "values" not in tensor:
        raise AlgorithmError('A JSON instance needs "features" or "data": {"features": {...}}')
    values = np.asarray(tensor["values"], dtype=np.float64)
    keys = tensor.get("keys") or None
    shape = tensor.get("shape") or None
    return (
        values,
        np.asarray(keys, dtype=np.int64) if keys is not None else None,
        int(shape[0]) if shape else None,
    )


def _rows_to_matrix(instances: Sequence[Any], width: int | None) -> Matrix:
    try:
        rows = [_instance_row(instance) for instance in instances]
    except (TypeError, ValueError):
        raise AlgorithmError("JSON features must be numbers") from None
    if not any(keys is not None for _, keys, _ in rows):
        if len({len(values) for values, _, _ in rows}) > 1:
            raise AlgorithmError("JSON instances have different numbers of features")
        return np.vstack([values for values, _, _ in rows]) if rows else np.zeros((0, 0))
    indices = [keys if keys is not None else np.arange(len(values)) for values, keys, _ in rows]
    declared = [shape for _, _, shape in rows if shape is not None]
    columns = max(
        [width or 0, *declared, *[int(index.max()) + 1 for index in indices if len(index)]]
    )
    indptr = np.cumsum([0] + [len(values) for values, _, _ in rows])
    data = np.concatenate([values for values, _, _ in rows])
    return sp.csr_matrix((data, np.concatenate(indices), indptr), shape=(len(rows), columns))


def decode_request(body: bytes, content_type: str | None, width: int | None = None) -> Matrix:
    """The feature matrix of a request in one of the common formats."""
    media, params = parse_content_type(content_type or CSV)
    if media == CSV:
        return parse_csv(body, label_size(params, 0), "the request").features
    if media == RECORDIO:
        return parse_recordio(body).features
    if media in (JSON, JSONLINES):
        try:
            if media == JSON:
                document = json.loads(body)
                instances = document.get("instances") if isinstance(document, dict) else document
                if instances is None:
                    instances = [document]
            else:
                lines = body.decode("utf-8").splitlines()
                instances = [json.loads(line) for line in lines if line.strip()]
        except (ValueError, UnicodeDecodeError) as error:
            raise AlgorithmError(f"Unable to parse {media} request: {error}") from None
        if not isinstance(instances, list):
            raise AlgorithmError('"instances" must be a list')
        return _rows_to_matrix(instances, width)
    raise UnsupportedContentType(content_type or "", (CSV, JSON, JSONLINES, RECORDIO))


def _plain(value: float | Sequence[float]) -> float | int | list[float]:
    """JSON-ready numbers: integers (class labels) stay integers, as AWS answers them."""
    if isinstance(value, Sequence):
        return [float(item) for item in value]
    if isinstance(value, int | np.integer):
        return int(value)
    return float(value)


def encode_predictions(predictions: Sequence[Prediction], accept: str) -> bytes:
    """The response body of per-record outputs in the chosen type."""
    if accept == JSON:
        rows = [{name: _plain(value) for name, value in row.items()} for row in predictions]
        return json.dumps({"predictions": rows}).encode()
    if accept == JSONLINES:
        return "".join(
            json.dumps({name: _plain(value) for name, value in row.items()}) + "\n"
            for row in predictions
        ).encode()
    if accept == RECORDIO:
        return recordio.write_labels(predictions)
    if accept == CSV:
        lines = []
        for row in predictions:
            cells: list[str] = []
            for value in row.values():
                plain = _plain(value)
                cells.extend(repr(item) for item in (plain if isinstance(plain, list) else [plain]))
            lines.append(",".join(cells) + "\n")
        return "".join(lines).encode()
    raise UnsupportedAccept(accept, (JSON, JSONLINES, RECORDIO, CSV))
