"""DataProcessing for batch transform: InputFilter, JoinSource and OutputFilter, as SageMaker
documents them in "Associate prediction results with input records".

CSV records are taken as JSON arrays of their fields (kept as the text they were, so what is
written back is what was read); JSON and JSON Lines records as the JSON they hold. InputFilter
picks what the model gets. With JoinSource Input each record's inference is joined to the whole
input record: for CSV the inference's fields are appended to the row; for JSON the inference goes
into the object under `SageMakerOutput`, or, when the record is not an object, the result is
`{"SageMakerInput": record, "SageMakerOutput": inference}`. OutputFilter then picks what is
written. A response to a batch of N records must hold N inferences (N lines, or a JSON array of
N, or a JSON object whose one member is such an array) to be joined.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sagestack.resources.transform_jobs import JsonPathError, parse_path, select

CSV = "text/csv"


class DataProcessingError(Exception):
    """A record or an inference does not fit the job's DataProcessing."""


def media_type(value: str | None) -> str:
    return (value or "").partition(";")[0].strip().lower()


def _csv_fields(text: str) -> list[str]:
    return next(csv.reader([text]), [])


def _csv_line(fields: Sequence[Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")
    writer.writerow([_field(value) for value in fields])
    return buffer.getvalue()


def _field(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


class DataProcessor:
    """The job's DataProcessing, applied record by record."""

    def __init__(
        self, processing: Mapping[str, Any], content_type: str | None, accept: str | None
    ) -> None:
        self.input_filter = parse_path(processing.get("InputFilter") or "$")
        self.output_filter = parse_path(processing.get("OutputFilter") or "$")
        self.join = processing.get("JoinSource") == "Input"
        self.csv_input = media_type(content_type) in ("", CSV)
        self.accept = media_type(accept)

    @property
    def filters_input(self) -> bool:
        return bool(self.input_filter)

    @property
    def per_record_output(self) -> bool:
        """Whether inferences must be split per record (to join or filter them)."""
        return self.join or bool(self.output_filter)

    @property
    def active(self) -> bool:
        return self.filters_input or self.per_record_output

    def _parse_input(self, record: bytes) -> Any:
        text = record.decode("utf-8", errors="replace")
        if self.csv_input:
            return _csv_fields(text)
        try:
            return json.loads(text)
        except ValueError as error:
            raise DataProcessingError(f"A record is not valid JSON: {error}") from None

    def _render(self, value: Any) -> bytes:
        if self.csv_input and isinstance(value, list):
            return _csv_line(value).encode()
        if self.csv_input and isinstance(value, str):
            return value.encode()
        return json.dumps(value, separators=(",", ":")).encode()

    def prepare(self, record: bytes) -> bytes:
        """What the model gets for `record` (InputFilter applied)."""
        if not self.input_filter:
            return record
        try:
            return self._render(select(self._parse_input(record), self.input_filter))
        except JsonPathError as error:
            raise DataProcessingError(f"InputFilter cannot be applied: {error}") from None

    def finish(self, originals: Sequence[bytes], response: bytes) -> list[bytes]:
        """The output records of a request: its inferences, joined and filtered."""
        inferences = self._split(response, len(originals))
        written = []
        for original, inference in zip(originals, inferences, strict=True):
            value = self._parse_output(inference)
            if self.join:
                value = self._joined(self._parse_input(original), value)
            try:
                value = select(value, self.output_filter)
            except JsonPathError as error:
                raise DataProcessingError(f"OutputFilter cannot be applied: {error}") from None
            written.append(self._render(value))
        return written

    def _split(self, response: bytes, count: int) -> list[bytes]:
        if count == 1:
            return [response.strip()]
        lines = [line for line in response.splitlines() if line.strip()]
        if len(lines) == count:
            return lines
        try:
            document = json.loads(response)
        except ValueError:
            document = None
        if isinstance(document, dict) and len(document) == 1:
            document = next(iter(document.values()))
        if isinstance(document, list) and len(document) == count:
            return [json.dumps(item).encode() for item in document]
        raise DataProcessingError(
            f"The model returned {len(lines)} inference line(s) for a request of {count} "
            "records, so they cannot be associated with their input records"
        )

    def _parse_output(self, inference: bytes) -> Any:
        text = inference.decode("utf-8", errors="replace").strip()
        if self.accept == CSV:
            return _csv_fields(text)
        try:
            return json.loads(text)
        except ValueError:
            return _csv_fields(text) if self.csv_input else text

    def _joined(self, record: Any, inference: Any) -> Any:
        if self.csv_input:
            fields = list(record) if isinstance(record, list) else [record]
            return fields + (list(inference) if isinstance(inference, list) else [inference])
        if isinstance(record, dict):
            return {**record, "SageMakerOutput": inference}
        return {"SageMakerInput": record, "SageMakerOutput": inference}
