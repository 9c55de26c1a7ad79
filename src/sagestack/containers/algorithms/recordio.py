"""RecordIO-protobuf (`application/x-recordio-protobuf`), the format of the SDK's `record_set()`.

Framing is MXNet RecordIO: per record a little-endian magic word 0xced7230a, a length word whose
upper 3 bits are a continuation flag (0 whole, 1 first, 2 middle, 3 last part) and lower 29 bits
the byte length, the payload, and zero padding to 4 bytes. When MXNet splits a record, the
magic word that stood between two parts belongs to the payload. Each payload is an
`aialgs.data.Record` protobuf (the SDK's record.proto): `features` and `label` are maps from a
name ("values" for plain vectors) to a Value holding a Float32/Float64/Int32 tensor with
`values`, sparse `keys` and `shape`. The schema is built at run time from its descriptor, so the
well-kept protobuf runtime does the wire work and no generated module is checked in.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from sagestack.containers.algorithms.errors import AlgorithmError

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_LENGTH_MASK = (1 << 29) - 1
_TENSORS = ("float32_tensor", "float64_tensor", "int32_tensor")


def _record_class() -> Any:
    fdp = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(
        name="sagestack_aialgs_record.proto", package="aialgs.data", syntax="proto2"
    )
    for name, value_type in (
        ("Float32Tensor", fdp.TYPE_FLOAT),
        ("Float64Tensor", fdp.TYPE_DOUBLE),
        ("Int32Tensor", fdp.TYPE_INT32),
    ):
        tensor = file.message_type.add(name=name)
        for number, (field, kind) in enumerate(
            (("values", value_type), ("keys", fdp.TYPE_UINT64), ("shape", fdp.TYPE_UINT64)), 1
        ):
            added = tensor.field.add(name=field, number=number, type=kind, label=fdp.LABEL_REPEATED)
            added.options.packed = True
    raw = file.message_type.add(name="Bytes")
    raw.field.add(name="value", number=1, type=fdp.TYPE_BYTES, label=fdp.LABEL_REPEATED)
    raw.field.add(name="content_type", number=2, type=fdp.TYPE_STRING, label=fdp.LABEL_OPTIONAL)
    value = file.message_type.add(name="Value")
    value.oneof_decl.add(name="value")
    for name, number, type_name in (
        ("float32_tensor", 2, "Float32Tensor"),
        ("float64_tensor", 3, "Float64Tensor"),
        ("int32_tensor", 7, "Int32Tensor"),
        ("bytes", 9, "Bytes"),
    ):
        value.field.add(
            name=name,
            number=number,
            type=fdp.TYPE_MESSAGE,
            type_name=f".aialgs.data.{type_name}",
            label=fdp.LABEL_OPTIONAL,
            oneof_index=0,
        )
    record = file.message_type.add(name="Record")
    for name, number in (("features", 1), ("label", 2)):
        entry = record.nested_type.add(name=f"{name.capitalize()}Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=fdp.TYPE_STRING, label=fdp.LABEL_OPTIONAL)
        entry.field.add(
            name="value",
            number=2,
            type=fdp.TYPE_MESSAGE,
            type_name=".aialgs.data.Value",
            label=fdp.LABEL_OPTIONAL,
        )
        record.field.add(
            name=name,
            number=number,
            type=fdp.TYPE_MESSAGE,
            type_name=f".aialgs.data.Record.{name.capitalize()}Entry",
            label=fdp.LABEL_REPEATED,
        )
    for name, number in (("uid", 3), ("metadata", 4), ("configuration", 5)):
        record.field.add(name=name, number=number, type=fdp.TYPE_STRING, label=fdp.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("aialgs.data.Record"))


#: The protobuf message class of `aialgs.data.Record`.
Record: Any = _record_class()


def iter_payloads(data: bytes) -> Iterator[bytes]:
    """The record payloads of a RecordIO byte string, joining multi-part records."""
    position, parts = 0, []
    while position + 8 <= len(data):
        magic, word = struct.unpack_from("<II", data, position)
        if magic != MAGIC:
            raise AlgorithmError(f"Not RecordIO-protobuf data: bad magic number at byte {position}")
        flag, length = word >> 29, word & _LENGTH_MASK
        start = position + 8
        if start + length > len(data):
            raise AlgorithmError("Truncated RecordIO-protobuf data")
        parts.append(data[start : start + length])
        position = start + ((length + 3) & ~3)
        if flag in (0, 3):
            yield _MAGIC_BYTES.join(parts)
            parts = []
    if position != len(data) and data[position:].strip(b"\0"):
        raise AlgorithmError("Truncated RecordIO-protobuf data")


def frame(payload: bytes) -> bytes:
    """One whole RecordIO record, as the SDK writes it (never split)."""
    return struct.pack("<II", MAGIC, len(payload)) + payload + b"\0" * (-len(payload) % 4)


def read_records(data: bytes) -> list[Any]:
    records = []
    for payload in iter_payloads(data):
        record = Record()
        try:
            record.ParseFromString(payload)
        except Exception as error:  # the runtime's DecodeError: not a Record
            raise AlgorithmError(f"Not RecordIO-protobuf data: {error}") from None
        records.append(record)
    return records


def _tensor(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind not in _TENSORS:
        raise AlgorithmError(f"RecordIO-protobuf value of type {kind} is not supported")
    return getattr(value, kind)


def to_arrays(records: Sequence[Any]) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray | None]:
    """Features (dense, or CSR when any record is sparse) and labels (None when no record has
    one) of `features["values"]` / `label["values"]`."""
    rows: list[np.ndarray] = []
    keys: list[np.ndarray | None] = []
    width = 0
    labels: list[float] = []
    for record in records:
        if "values" not in record.features:
            raise AlgorithmError("RecordIO-protobuf record without features['values']")
        tensor = _tensor(record.features["values"])
        values = np.asarray(tensor.values, dtype=np.float64)
        rows.append(values)
        if len(tensor.keys):
            keys.append(np.asarray(tensor.keys, dtype=np.int64))
            width = max(width, int(tensor.shape[0]) if len(tensor.shape) else 0)
        else:
            keys.append(None)
        if "values" in record.label:
            label_values = _tensor(record.label["values"]).values
            labels.append(float(label_values[0]) if len(label_values) else np.nan)
    if labels and len(labels) != len(records):
        raise AlgorithmError("Some RecordIO-protobuf records have a label and others do not")
    label_array = np.asarray(labels, dtype=np.float64) if labels else None
    if any(key is not None for key in keys):
        indices = [
            key if key is not None else np.arange(len(row))
            for key, row in zip(keys, rows, strict=True)
        ]
        width = max([width] + [int(index.max()) + 1 for index in indices if len(index)])
        indptr = np.cumsum([0] + [len(row) for row in rows])
        features = sp.csr_matrix(
            (np.concatenate(rows), np.concatenate(indices), indptr), shape=(len(rows), width)
        )
        return features, label_array
    if len({len(row) for row in rows}) > 1:
        raise AlgorithmError("RecordIO-protobuf records have different numbers of features")
    dense = np.vstack(rows) if rows else np.zeros((0, 0))
    return dense, label_array


def _set_tensor(value: Any, array: np.ndarray) -> None:
    if array.dtype == np.float32:
        value.float32_tensor.values.extend(array.tolist())
    elif np.issubdtype(array.dtype, np.integer):
        value.int32_tensor.values.extend(array.tolist())
    else:
        value.float64_tensor.values.extend(array.astype(np.float64).tolist())


def write_dense(features: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    """Records of a matrix (one per row) and optional labels, typed as the SDK's
    `write_numpy_to_dense_tensor` types them: float32, int → Int32, anything else float64."""
    if features.ndim != 2:
        raise ValueError("features must be a matrix")
    chunks = []
    for index, row in enumerate(features):
        record = Record()
        _set_tensor(record.features["values"], row)
        if labels is not None:
            _set_tensor(record.label["values"], np.asarray([labels[index]], dtype=labels.dtype))
        chunks.append(frame(record.SerializeToString()))
    return b"".join(chunks)


def write_labels(rows: Sequence[Mapping[str, float | Sequence[float]]]) -> bytes:
    """Prediction records: one Record per prediction, each output in `label` as float32 values,
    the shape the built-in algorithms answer with."""
    chunks = []
    for row in rows:
        record = Record()
        for name, value in row.items():
            values = list(value) if isinstance(value, Sequence) else [value]
            record.label[name].float32_tensor.values.extend(float(item) for item in values)
        chunks.append(frame(record.SerializeToString()))
    return b"".join(chunks)
