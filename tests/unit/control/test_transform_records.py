"""Splitting, batching and DataProcessing of batch transform records (pure parts)."""

from __future__ import annotations

import io
import json
import struct

import pytest

from sagestack.control.transform_data import DataProcessingError, DataProcessor
from sagestack.control.transform_records import RECORDIO_MAGIC, RecordError, payloads
from sagestack.resources.transform_jobs import JsonPathError, parse_path, select


def bodies(data: bytes, split: str, multi: bool, limit: int | None) -> list[bytes]:
    return [p.body for p in payloads(io.BytesIO(data), split, multi, limit)]


def test_multi_record_lines_are_cut_at_the_last_line_break_that_fits() -> None:
    data = b"".join(f"{i},{i}\n".encode() for i in range(100))
    cut = list(payloads(io.BytesIO(data), "Line", True, 64))
    assert b"".join(p.body for p in cut) == data
    assert all(len(p.body) <= 64 and p.body.endswith(b"\n") for p in cut)
    assert sum(p.records for p in cut) == 100


def test_the_last_line_needs_no_line_break_and_blank_lines_are_not_records() -> None:
    cut = list(payloads(io.BytesIO(b"1\n\n2\n3"), "Line", True, 1024))
    assert [p.body for p in cut] == [b"1\n\n2\n3"] and cut[0].records == 3
    assert bodies(b"1\r\n\n2\n3", "Line", False, 1024) == [b"1", b"2", b"3"]


def test_record_by_record_batching_keeps_the_parts() -> None:
    cut = list(payloads(io.BytesIO(b"aa\nbb\ncc\n"), "Line", True, 6, keep_parts=True))
    assert [(p.body, p.parts) for p in cut] == [(b"aa\nbb\n", (b"aa", b"bb")), (b"cc\n", (b"cc",))]


def test_a_record_larger_than_the_payload_limit_is_refused() -> None:
    with pytest.raises(RecordError, match="Too much data for max payload size"):
        bodies(b"x" * 100 + b"\n", "Line", True, 10)
    with pytest.raises(RecordError):
        bodies(b"x" * 100, "None", False, 10)
    assert bodies(b"x" * 100, "None", False, None) == [b"x" * 100]


def recordio(payload: bytes) -> bytes:
    padding = b"\0" * ((4 - len(payload) % 4) % 4)
    return struct.pack("<II", RECORDIO_MAGIC, len(payload)) + payload + padding


def tfrecord(payload: bytes) -> bytes:
    return struct.pack("<Q", len(payload)) + b"\0" * 4 + payload + b"\0" * 4


def test_recordio_and_tfrecord_records_keep_their_framing() -> None:
    records = [recordio(b"abc"), recordio(b"defgh"), recordio(b"")]
    assert bodies(b"".join(records), "RecordIO", False, None) == records
    assert bodies(b"".join(records), "RecordIO", True, 100) == [b"".join(records)]
    framed = [tfrecord(b"one"), tfrecord(b"three")]
    assert bodies(b"".join(framed), "TFRecord", False, None) == framed
    with pytest.raises(RecordError):
        bodies(b"not recordio at all", "RecordIO", False, None)
    with pytest.raises(RecordError, match="truncated"):
        bodies(records[1][:-3], "RecordIO", False, None)


def test_jsonpath_subset() -> None:
    row = ["id-1", "0.5", "0.7", "x"]
    assert select(row, parse_path("$[1:]")) == ["0.5", "0.7", "x"]
    assert select(row, parse_path("$[0,2:]")) == ["id-1", "0.7", "x"]
    assert select(row, parse_path("$[-1]")) == "x"
    record = {"id": 1, "features": [1, 2], "SageMakerOutput": 3}
    assert select(record, parse_path("$.features")) == [1, 2]
    assert select(record, parse_path("$['id','SageMakerOutput']")) == {
        "id": 1,
        "SageMakerOutput": 3,
    }
    assert select(record, parse_path("$")) == record
    with pytest.raises(JsonPathError):
        select(row, parse_path("$[9]"))
    for bad in ("features", "$..a", "$[1:2:3]", "$[", "$.a b["):
        with pytest.raises(JsonPathError):
            parse_path(bad)


def test_csv_join_appends_the_inference_and_filters_the_result() -> None:
    processor = DataProcessor(
        {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
        "text/csv",
        "text/csv",
    )
    assert processor.prepare(b"id-7,1.5,2") == b"1.5,2"
    assert processor.finish([b"id-7,1.5,2", b'"a,b",3,4'], b"9.5\n10\n") == [
        b"id-7,9.5",
        b'"a,b",10',
    ]
    with pytest.raises(DataProcessingError, match="cannot be associated"):
        processor.finish([b"a,1", b"b,2"], b"1\n")


def test_json_join_adds_sagemaker_output_or_wraps_the_input() -> None:
    processor = DataProcessor({"JoinSource": "Input"}, "application/jsonlines", "application/json")
    joined = processor.finish([b'{"id": 1}', b"[1, 2]"], b'{"predictions": [0.5, 0.25]}')
    assert [json.loads(item) for item in joined] == [
        {"id": 1, "SageMakerOutput": 0.5},
        {"SageMakerInput": [1, 2], "SageMakerOutput": 0.25},
    ]
