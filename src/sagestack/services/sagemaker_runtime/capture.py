"""Data capture: sampled request/response pairs written to S3 in SageMaker's JSON Lines format.

InvokeEndpoint only decides whether a request is sampled and queues the pair (a deque append);
a writer thread turns what is queued into one object per endpoint, variant and hour every
second, and `close` writes what is left. The layout is SageMaker's:

    <DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm>-<ss>-<mmm>-<uuid>.jsonl

one line per invocation: {"captureData": {"endpointInput": {...}, "endpointOutput": {...}},
"eventMetadata": {"eventId", "inferenceId"?, "customAttributes"?, "inferenceTime"},
"eventVersion": "0"}. A body whose content type is one of the config's CsvContentTypes or
JsonContentTypes is kept as text with encoding CSV or JSON; any other as BASE64.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sagestack.serving.routing import CaptureSettings
from sagestack.storage.base import ObjectStore, split_s3_uri

LOG = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Captured:
    """One sampled invocation, as queued on the request path."""

    settings: CaptureSettings
    endpoint: str
    variant: str
    time: float
    request: bytes
    request_type: str
    response: bytes
    response_type: str
    inference_id: str | None
    custom_attributes: str | None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _payload(
    settings: CaptureSettings, mode: str, data: bytes, content_type: str
) -> dict[str, Any]:
    kind = _media_type(content_type)
    encoding = "BASE64"
    if kind in settings.csv_types:
        encoding = "CSV"
    elif kind in settings.json_types:
        encoding = "JSON"
    text = None
    if encoding != "BASE64":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"
    return {
        "observedContentType": content_type,
        "mode": mode,
        "data": text if text is not None else base64.b64encode(data).decode("ascii"),
        "encoding": encoding,
    }


def capture_line(event: Captured) -> str:
    """The JSON line SageMaker writes for one invocation."""
    data: dict[str, Any] = {}
    if event.settings.inputs:
        data["endpointInput"] = _payload(event.settings, "INPUT", event.request, event.request_type)
    if event.settings.outputs:
        data["endpointOutput"] = _payload(
            event.settings, "OUTPUT", event.response, event.response_type
        )
    metadata: dict[str, Any] = {"eventId": str(uuid.uuid4())}
    if event.inference_id:
        metadata["inferenceId"] = event.inference_id
    if event.custom_attributes:
        metadata["customAttributes"] = [event.custom_attributes]
    metadata["inferenceTime"] = datetime.fromtimestamp(event.time, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    return json.dumps(
        {"captureData": data, "eventMetadata": metadata, "eventVersion": "0"},
        separators=(",", ":"),
    )


def object_key(prefix: str, endpoint: str, variant: str, first: float) -> str:
    """`<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/mm-ss-mmm-<uuid>.jsonl` for a file whose
    first event happened at `first`."""
    moment = datetime.fromtimestamp(first, UTC)
    name = f"{moment:%M-%S}-{moment.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    parts = [prefix, endpoint, variant, f"{moment:%Y/%m/%d/%H}", name]
    return "/".join(part for part in parts if part)


class CaptureWriter:
    """The queue of sampled invocations and the thread that writes them to S3."""

    def __init__(
        self,
        objects: ObjectStore,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self._objects = objects
        self._pending: deque[Captured] = deque()
        self._random = (rng or random.Random()).random
        self._flush_seconds = flush_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def sampled(self, settings: CaptureSettings) -> bool:
        """Whether this request is captured (InitialSamplingPercentage of them)."""
        return settings.percentage >= 100 or self._random() * 100 < settings.percentage

    def submit(self, event: Captured) -> None:
        """Queue a sampled invocation (no I/O); the writer thread starts on first use."""
        self._pending.append(event)
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="data capture", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def flush(self) -> None:
        """Write everything queued: one object per destination, endpoint, variant and hour."""
        events: list[Captured] = []
        while self._pending:
            try:
                events.append(self._pending.popleft())
            except IndexError:
                break
        for (destination, endpoint, variant, _), group in _files(events).items():
            try:
                bucket, prefix = split_s3_uri(destination)
                key = object_key(prefix.rstrip("/"), endpoint, variant, group[0].time)
                body = "".join(capture_line(event) + "\n" for event in group).encode()
                self._objects.put_object(bucket, key, body, content_type="application/jsonl")
            except Exception:
                LOG.exception("data capture of %s/%s to %s failed", endpoint, variant, destination)

    def reset(self) -> None:
        self._pending.clear()

    def close(self) -> None:
        """Stop the writer and write what is left."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join()
        self.flush()


def _files(events: Iterable[Captured]) -> dict[tuple[str, str, str, int], list[Captured]]:
    files: dict[tuple[str, str, str, int], list[Captured]] = {}
    for event in events:
        hour = int(event.time // 3600)
        key = (event.settings.destination, event.endpoint, event.variant, hour)
        files.setdefault(key, []).append(event)
    return files
