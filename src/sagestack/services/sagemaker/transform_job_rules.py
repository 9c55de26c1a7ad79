"""The cross-field rules CreateTransformJob checks beyond what the model states, in SageMaker's
words where they are known (the CreateTransformJob and DataProcessing API docs), and what
sagestack cannot run yet, said plainly.

`check_create` raises ValidationException for the first rule a request breaks; nothing is stored
before it has passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagestack.resources.transform_jobs import JsonPathError, parse_path
from sagestack.services.sagemaker.training_job_rules import check_s3_uri, not_supported
from sagestack.spec.errors import ValidationException

#: SageMaker's ceiling on one request's payload, and on MaxConcurrentTransforms x MaxPayloadInMB.
MAX_PAYLOAD_MB = 100
#: The content types DataProcessing can read (the docs: "JSON and CSV format only").
DATA_PROCESSING_TYPES = frozenset({"text/csv", "application/json", "application/jsonlines"})


def check_create(request: Mapping[str, Any], model: Mapping[str, Any]) -> None:
    """`model` is the spec of the model the job names (its existence is checked by the caller)."""
    containers = model.get("Containers") or [model.get("PrimaryContainer") or {}]
    if len(containers) > 1:
        raise not_supported("A model with several containers (an inference pipeline)")
    if containers[0].get("Mode") == "MultiModel":
        raise not_supported("A multi-model container in a transform job")
    _check_payload(request)
    source = request["TransformInput"]["DataSource"]["S3DataSource"]
    if source["S3DataType"] not in ("S3Prefix", "ManifestFile"):
        raise not_supported(f"S3DataType {source['S3DataType']} in a transform job")
    check_s3_uri("TransformInput.DataSource.S3DataSource.S3Uri", source["S3Uri"])
    check_s3_uri("TransformOutput.S3OutputPath", request["TransformOutput"]["S3OutputPath"])
    capture = request.get("DataCaptureConfig")
    if capture is not None:
        check_s3_uri("DataCaptureConfig.DestinationS3Uri", capture["DestinationS3Uri"])
        if capture.get("GenerateInferenceId"):
            raise not_supported("DataCaptureConfig.GenerateInferenceId")
    _check_data_processing(request)


def _check_payload(request: Mapping[str, Any]) -> None:
    payload = request.get("MaxPayloadInMB")
    if payload is None:
        return
    if payload > MAX_PAYLOAD_MB:
        raise ValidationException(
            f"MaxPayloadInMB ({payload}) cannot be greater than {MAX_PAYLOAD_MB} MB."
        )
    concurrency = request.get("MaxConcurrentTransforms")
    if concurrency and payload and concurrency * payload > MAX_PAYLOAD_MB:
        raise ValidationException(
            f"The product of MaxConcurrentTransforms ({concurrency}) and MaxPayloadInMB "
            f"({payload}) cannot exceed {MAX_PAYLOAD_MB} MB."
        )
    split = request["TransformInput"].get("SplitType", "None")
    if payload == 0 and split != "None" and request.get("BatchStrategy") == "MultiRecord":
        raise ValidationException(
            "MaxPayloadInMB 0 (no limit, for chunked payloads) cannot be combined with "
            "BatchStrategy MultiRecord: a batch needs a size limit."
        )


def _check_data_processing(request: Mapping[str, Any]) -> None:
    processing = request.get("DataProcessing")
    if not processing:
        return
    for member in ("InputFilter", "OutputFilter"):
        expression = processing.get(member)
        if expression is None:
            continue
        try:
            parse_path(expression)
        except JsonPathError as error:
            raise ValidationException(
                f"Invalid JSONPath expression {expression!r} for DataProcessing.{member}: {error}"
            ) from None
    active = (
        processing.get("InputFilter", "$") != "$"
        or processing.get("OutputFilter", "$") != "$"
        or processing.get("JoinSource", "None") == "Input"
    )
    content_type = str(request["TransformInput"].get("ContentType") or "text/csv")
    media = content_type.partition(";")[0].strip().lower()
    if active and media not in DATA_PROCESSING_TYPES:
        raise ValidationException(
            f"DataProcessing supports input in CSV and JSON format only (text/csv, "
            f"application/json, application/jsonlines); TransformInput.ContentType is "
            f"{content_type}."
        )
