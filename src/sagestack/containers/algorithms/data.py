"""Reading a channel's files (File mode) into features and labels, as the built-in algorithms
read them: CSV without a header and with the label in the first column (`label_size=0` for
none), LIBSVM, Parquet (label first) and RecordIO-protobuf. Files whose names start with `.` or
`_` (such as Spark's `_SUCCESS`) are skipped, as the SageMaker images skip them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp

from sagestack.containers.algorithms import recordio
from sagestack.containers.algorithms.errors import AlgorithmError

CSV = "text/csv"
LIBSVM = "text/libsvm"
PARQUET = "application/x-parquet"
RECORDIO = "application/x-recordio-protobuf"
JSON = "application/json"
JSONLINES = "application/jsonlines"

#: Spellings each format goes by in ContentType (the XGBoost image's list, plus JSON lines').
_ALIASES = {
    "csv": CSV,
    "text/csv": CSV,
    "libsvm": LIBSVM,
    "text/libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
    "parquet": PARQUET,
    "application/x-parquet": PARQUET,
    "recordio-protobuf": RECORDIO,
    "application/x-recordio-protobuf": RECORDIO,
    "application/json": JSON,
    "application/jsonlines": JSONLINES,
    "application/x-jsonlines": JSONLINES,
    "application/json-lines": JSONLINES,
}

Matrix: TypeAlias = np.ndarray | sp.csr_matrix


@dataclass
class Dataset:
    """Rows of one channel: features, labels (None when the format carries none), weights."""

    features: Matrix
    labels: np.ndarray | None
    weights: np.ndarray | None = None

    @property
    def rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def columns(self) -> int:
        return int(self.features.shape[1])


def parse_content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """The canonical media type and its parameters (`text/csv; label_size=0`); unknown types
    come back lower-cased as given."""
    if not value:
        return "", {}
    media, *rest = value.split(";")
    params = {}
    for item in rest:
        key, _, param = item.partition("=")
        if key.strip():
            params[key.strip().lower()] = param.strip().strip('"')
    media = media.strip().lower()
    return _ALIASES.get(media, media), params


def label_size(params: dict[str, str], default: int) -> int:
    value = params.get("label_size", str(default))
    if value not in ("0", "1"):
        raise AlgorithmError(f"label_size={value} is not supported: use 0 or 1")
    return int(value)


def data_files(directory: Path) -> list[Path]:
    """Every data file under a channel directory, in name order."""
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and not any(part.startswith((".", "_")) for part in path.relative_to(directory).parts)
    )


def _stack(parts: Sequence[Dataset], where: str) -> Dataset:
    if not parts:
        return Dataset(np.zeros((0, 0)), None)
    widths = {part.columns for part in parts}
    sparse = any(sp.issparse(part.features) for part in parts)
    if len(widths) > 1 and not sparse:
        raise AlgorithmError(f"Files in {where} have different numbers of columns: {widths}")
    if sparse:
        width = max(widths)
        blocks = [sp.csr_matrix(part.features) for part in parts]
        blocks = [block if block.shape[1] == width else _widen(block, width) for block in blocks]
        features: Matrix = sp.vstack(blocks, format="csr")
    else:
        features = np.vstack([np.asarray(part.features) for part in parts])
    has_labels = [part.labels is not None for part in parts]
    if any(has_labels) and not all(has_labels):
        raise AlgorithmError(f"Some files in {where} have labels and others do not")
    labels = (
        np.concatenate([p.labels for p in parts if p.labels is not None])
        if all(has_labels)
        else None
    )
    weights = None
    if any(part.weights is not None for part in parts):
        weights = np.concatenate(
            [p.weights if p.weights is not None else np.ones(p.rows) for p in parts]
        )
    return Dataset(features, labels, weights)


def _widen(block: sp.csr_matrix, width: int) -> sp.csr_matrix:
    return sp.csr_matrix((block.data, block.indices, block.indptr), shape=(block.shape[0], width))


def parse_csv(data: bytes, labels: int, where: str, weights: bool = False) -> Dataset:
    """CSV without a header; the first `labels` columns are the label, and with `weights` the
    next one is the instance weight (XGBoost's csv_weights)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not data.strip():
        return Dataset(np.zeros((0, 0)), None)
    if not data.endswith(b"\n"):
        data += b"\n"  # Arrow finds no row in a lone line without its newline
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
        )
    except pa.ArrowInvalid as error:
        raise AlgorithmError(f"Unable to read CSV data in {where}: {error}") from None
    try:
        matrix = np.column_stack(
            [column.to_numpy(zero_copy_only=False).astype(np.float64) for column in table.columns]
        )
    except (ValueError, TypeError):
        raise AlgorithmError(
            f"CSV data in {where} is not all numeric (a header row, or text values?)"
        ) from None
    skip = labels + (1 if weights else 0)
    if matrix.shape[1] <= skip:
        raise AlgorithmError(f"CSV data in {where} has no feature columns after the label")
    label = matrix[:, 0] if labels else None
    weight = matrix[:, 1] if weights else None
    return Dataset(np.ascontiguousarray(matrix[:, skip:]), label, weight)


def parse_libsvm(data: bytes, where: str, with_labels: bool = True) -> Dataset:
    """LIBSVM lines `label[:weight] index:value ...` (inference requests may leave the label
    out); indices are taken as one-based when none is 0, as XGBoost's parser guesses."""
    labels, weights, rows, columns, values = [], [], [], [], []
    has_weights = False
    row = 0
    for raw_line in data.decode("utf-8", "replace").splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = line.split()
        try:
            if with_labels:
                label_text, _, weight_text = tokens[0].partition(":")
                labels.append(float(label_text))
                weights.append(float(weight_text) if weight_text else 1.0)
                has_weights = has_weights or bool(weight_text)
                tokens = tokens[1:]
            for token in tokens:
                index, colon, value = token.partition(":")
                if index == "qid" or not colon:  # a request's leading label is ignored
                    continue
                rows.append(row)
                columns.append(int(index))
                values.append(float(value))
        except ValueError:
            raise AlgorithmError(f"Line {raw_line[:40]!r} in {where} is not LIBSVM") from None
        row += 1
    column_array = np.asarray(columns, dtype=np.int64)
    if len(column_array) and column_array.min() >= 1:
        column_array -= 1
    width = int(column_array.max()) + 1 if len(column_array) else 0
    features = sp.csr_matrix(
        (np.asarray(values, dtype=np.float64), (np.asarray(rows, dtype=np.int64), column_array)),
        shape=(row, width),
    )
    label_array = np.asarray(labels, dtype=np.float64) if with_labels else None
    return Dataset(features, label_array, np.asarray(weights) if has_weights else None)


def _read_parquet(path: Path) -> Dataset:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        matrix = np.column_stack(
            [column.to_numpy(zero_copy_only=False).astype(np.float64) for column in table.columns]
        )
    except (pa.ArrowException, ValueError, TypeError) as error:
        raise AlgorithmError(f"Unable to read Parquet file {path.name}: {error}") from None
    if matrix.shape[1] < 2:
        raise AlgorithmError(f"Parquet file {path.name} needs a label column and features")
    return Dataset(np.ascontiguousarray(matrix[:, 1:]), matrix[:, 0])


def parse_recordio(data: bytes) -> Dataset:
    features, labels = recordio.to_arrays(recordio.read_records(data))
    return Dataset(features, labels)


def read_channel(
    directory: Path,
    media: str,
    params: dict[str, str],
    *,
    csv_labels: int = 1,
    csv_weights: bool = False,
) -> Dataset:
    """Every file of a channel in one format, stacked."""
    where = f"channel {directory.name}"
    parts = []
    for path in data_files(directory):
        if media == PARQUET:
            parts.append(_read_parquet(path))
            continue
        data = path.read_bytes()
        if media == CSV:
            labels = label_size(params, csv_labels)
            parts.append(parse_csv(data, labels, f"{where} ({path.name})", csv_weights))
        elif media == LIBSVM:
            parts.append(parse_libsvm(data, f"{where} ({path.name})"))
        elif media == RECORDIO:
            parts.append(parse_recordio(data))
        else:
            raise AlgorithmError(f"Content type {media} is not supported")
    return _stack([part for part in parts if part.rows], where)
