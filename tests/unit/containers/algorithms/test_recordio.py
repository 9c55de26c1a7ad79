"""RecordIO-protobuf: reading bytes made the SDK's way, and our writer through our reader."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import scipy.sparse as sp

from sagestack.containers.algorithms import AlgorithmError, recordio
from tests.unit.containers.algorithms.samples import sdk_dense, sdk_frame, sdk_record


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_reads_sdk_dense_tensors_of_each_type(dtype: type) -> None:
    features = (np.arange(12).reshape(4, 3) - 5).astype(dtype)
    labels = np.array([0, 1, 2, 1])
    matrix, read_labels = recordio.to_arrays(recordio.read_records(sdk_dense(features, labels)))
    assert isinstance(matrix, np.ndarray)
    np.testing.assert_array_equal(matrix, features.astype(np.float64))
    np.testing.assert_array_equal(read_labels, labels)


def test_reads_sdk_records_without_labels() -> None:
    features = np.random.default_rng(0).random((5, 2)).astype(np.float32)
    matrix, labels = recordio.to_arrays(recordio.read_records(sdk_dense(features)))
    np.testing.assert_allclose(matrix, features)
    assert labels is None


def test_reads_sparse_records_as_csr() -> None:
    payload = sdk_frame(
        sdk_record(np.array([1.5, 2.5]), np.array([1.0]), keys=np.array([0, 7]), width=10)
    ) + sdk_frame(sdk_record(np.array([3.0]), np.array([0.0]), keys=np.array([4]), width=10))
    matrix, labels = recordio.to_arrays(recordio.read_records(payload))
    assert sp.issparse(matrix)
    assert matrix.shape == (2, 10)
    assert matrix.toarray()[0, 7] == 2.5 and matrix.toarray()[1, 4] == 3.0
    np.testing.assert_array_equal(labels, [1.0, 0.0])


def test_writer_matches_the_sdk_bytes() -> None:
    features = np.array([[1.0, 2.0], [3.0, 4.5]])
    labels = np.array([1, 0])
    assert recordio.write_dense(features, labels) == sdk_dense(features, labels)
    as32 = features.astype(np.float32)
    assert recordio.write_dense(as32) == sdk_dense(as32)


def test_writer_round_trips_through_reader() -> None:
    features = np.random.default_rng(3).normal(size=(50, 7))
    labels = np.random.default_rng(4).normal(size=50)
    matrix, read_labels = recordio.to_arrays(
        recordio.read_records(recordio.write_dense(features, labels))
    )
    np.testing.assert_array_equal(matrix, features)
    np.testing.assert_array_equal(read_labels, labels)


def test_prediction_records_carry_outputs_in_label() -> None:
    data = recordio.write_labels(
        [{"closest_cluster": 1.0, "distance_to_cluster": 0.5}, {"score": [0.25, 0.75]}]
    )
    first, second = recordio.read_records(data)
    assert first.label["closest_cluster"].float32_tensor.values[0] == 1.0
    assert first.label["distance_to_cluster"].float32_tensor.values[0] == 0.5
    assert list(second.label["score"].float32_tensor.values) == [0.25, 0.75]
    assert len(data) % 4 == 0


def test_multi_part_records_are_joined_with_the_magic_between() -> None:
    """MXNet splits a payload where the magic number occurs; the reader rejoins it."""
    payload = sdk_record(np.array([1.0, 2.0, 3.0]))
    magic = struct.pack("<I", recordio.MAGIC)
    head, tail = payload[:5], payload[5:]
    whole = head + magic + tail

    def part(flag: int, chunk: bytes) -> bytes:
        word = flag << 29 | len(chunk)
        return magic + struct.pack("<I", word) + chunk + b"\0" * (-len(chunk) % 4)

    assert list(recordio.iter_payloads(part(1, head) + part(3, tail))) == [whole]


def test_bad_magic_and_truncation_are_algorithm_errors() -> None:
    with pytest.raises(AlgorithmError, match="bad magic"):
        recordio.read_records(b"1.0,2.0,3.0\n")
    good = sdk_dense(np.ones((2, 2)))
    with pytest.raises(AlgorithmError, match="Truncated"):
        recordio.read_records(good[:-6])


def test_records_with_different_widths_are_refused() -> None:
    data = sdk_frame(sdk_record(np.ones(2))) + sdk_frame(sdk_record(np.ones(3)))
    with pytest.raises(AlgorithmError, match="different numbers of features"):
        recordio.to_arrays(recordio.read_records(data))
