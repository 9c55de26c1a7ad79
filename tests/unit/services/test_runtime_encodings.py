"""The event-stream encoding (read back by botocore's own parser) and data capture's lines."""

from __future__ import annotations

import json

from botocore.eventstream import EventStreamBuffer

from sagestack.services.sagemaker_runtime import eventstream
from sagestack.services.sagemaker_runtime.capture import Captured, capture_line, object_key
from sagestack.serving.routing import CaptureSettings


def test_payload_parts_and_errors_parse_with_botocore() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(eventstream.payload_part(b"hello "))
    buffer.add_data(eventstream.stream_error("ModelStreamError", "broken", "StreamBroken"))
    part, error = list(buffer)
    assert part.headers[":event-type"] == "PayloadPart"
    assert part.payload == b"hello "
    assert error.headers[":exception-type"] == "ModelStreamError"
    assert json.loads(error.payload) == {"Message": "broken", "ErrorCode": "StreamBroken"}


def _settings(**header: list[str]) -> CaptureSettings:
    config = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 50,
        "DestinationS3Uri": "s3://bkt/capture/",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    if header:
        config["CaptureContentTypeHeader"] = header
    settings = CaptureSettings.of(config)
    assert settings is not None
    return settings


def test_a_capture_line_encodes_bodies_by_their_content_type() -> None:
    event = Captured(
        _settings(),
        "ep",
        "AllTraffic",
        1700000000.25,
        b"1,2",
        "text/csv",
        b"\x00\x01",
        "application/x-npy",
        "inf-1",
        "trace=1",
    )
    line = json.loads(capture_line(event))
    assert line["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "1,2",
        "encoding": "CSV",
    }
    assert line["captureData"]["endpointOutput"]["encoding"] == "BASE64"
    assert line["captureData"]["endpointOutput"]["data"] == "AAE="
    metadata = line["eventMetadata"]
    assert (
        metadata["inferenceId"] == "inf-1" and metadata["inferenceTime"] == "2023-11-14T22:13:20Z"
    )
    assert line["eventVersion"] == "0"


def test_configured_content_types_replace_the_defaults() -> None:
    settings = _settings(JsonContentTypes=["application/jsonlines"])
    event = Captured(
        settings,
        "ep",
        "v",
        0.0,
        b"1,2",
        "text/csv",
        b'{"a":1}',
        "application/jsonlines",
        None,
        None,
    )
    data = json.loads(capture_line(event))["captureData"]
    assert data["endpointInput"]["encoding"] == "BASE64"
    assert data["endpointOutput"]["encoding"] == "JSON"


def test_capture_files_are_laid_out_by_endpoint_variant_and_hour() -> None:
    key = object_key("capture", "ep", "AllTraffic", 1700000000.25)
    head, name = key.rsplit("/", 1)
    assert head == "capture/ep/AllTraffic/2023/11/14/22"
    assert name.startswith("13-20-250-") and name.endswith(".jsonl")
