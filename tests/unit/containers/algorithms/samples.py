"""Small generated data sets and channel directories for the built-in algorithm tests."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from sagestack.containers.algorithms import train


def write_csv(path: Path, features: np.ndarray, labels: np.ndarray | None = None) -> Path:
    """CSV as AWS wants it: no header, the label (if any) first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    matrix = features if labels is None else np.column_stack([labels, features])
    path.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in matrix) + "\n")
    return path


def write_libsvm(path: Path, features: np.ndarray, labels: np.ndarray) -> Path:
    """One-based LIBSVM, zero values left out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for label, row in zip(labels, features, strict=True):
        cells = " ".join(f"{i + 1}:{v!r}" for i, v in enumerate(row.tolist()) if v != 0)
        lines.append(f"{label:g} {cells}")
    path.write_text("\n".join(lines) + "\n")
    return path


def blobs(rows: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three well-separated clusters in 2-D: (features, cluster of each row, centers)."""
    generator = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [10.0, 10.0], [-10.0, 10.0]])
    members = generator.integers(0, 3, rows)
    return centers[members] + generator.normal(0, 0.5, (rows, 2)), members, centers


def separable(rows: int = 300, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A linearly separable binary set in 4-D with a margin."""
    generator = np.random.default_rng(seed)
    features = generator.normal(0, 1, (rows, 4))
    score = features @ np.array([2.0, -1.0, 0.5, 0.0])
    keep = np.abs(score) > 0.3
    return features[keep], (score[keep] > 0).astype(np.float64)


def run(
    name: str,
    hyperparameters: dict[str, str],
    channels: dict[str, Path],
    content_types: dict[str, str | None],
    root: Path,
) -> tuple[Path, list[str]]:
    """Train in process; returns the model directory and the lines it logged."""
    lines: list[str] = []
    model_dir = root / "model"
    train(name, hyperparameters, channels, content_types, model_dir, root / "output", lines.append)
    return model_dir, lines


# -- RecordIO-protobuf bytes made the SageMaker SDK's way, with an independent wire encoder ----


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _tensor(values: np.ndarray, keys: np.ndarray | None = None, width: int | None = None) -> bytes:
    """A Value holding the tensor the SDK's _resolve_type picks for the dtype."""
    if values.dtype == np.float32:
        number, packed = 2, values.astype("<f4").tobytes()
    elif values.dtype == np.float64:
        number, packed = 3, values.astype("<f8").tobytes()
    else:
        number, packed = 7, b"".join(_varint(int(v) & 0xFFFFFFFFFFFFFFFF) for v in values)
    body = _field(1, packed)
    if keys is not None:
        body += _field(2, b"".join(_varint(int(k)) for k in keys))
        body += _field(3, _varint(int(width or 0)))
    return _field(number, body)


def _map_entry(field_number: int, key: str, value: bytes) -> bytes:
    return _field(field_number, _field(1, key.encode()) + _field(2, value))


def sdk_record(
    features: np.ndarray,
    label: np.ndarray | None = None,
    keys: np.ndarray | None = None,
    width: int | None = None,
) -> bytes:
    """One Record as `write_numpy_to_dense_tensor` (or, with keys, the sparse writer) makes it."""
    payload = _map_entry(1, "values", _tensor(features, keys, width))
    if label is not None:
        payload += _map_entry(2, "values", _tensor(label))
    return payload


def sdk_frame(payload: bytes) -> bytes:
    """The SDK's `_write_recordio`: native-order magic and length, padding to 4 bytes."""
    padding = (((len(payload) + 3) >> 2) << 2) - len(payload)
    return struct.pack("I", 0xCED7230A) + struct.pack("I", len(payload)) + payload + b"\0" * padding


def sdk_dense(features: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    return b"".join(
        sdk_frame(sdk_record(row, None if labels is None else labels[i : i + 1]))
        for i, row in enumerate(features)
    )
