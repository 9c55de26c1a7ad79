"""The cross-field rules CreateProcessingJob checks beyond what the model states, in SageMaker's
words where they are known (the API reference's own sentences otherwise), and what sagestack
cannot run yet, said plainly.

`check_create` raises ValidationException for the first rule a request breaks; nothing is stored
before it has passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sagestack.services.sagemaker.training_job_rules import check_s3_uri, not_supported
from sagestack.spec.errors import ValidationException

#: Where every LocalPath of a processing job must lie (the API reference: "must begin with").
PROCESSING_ROOT = "/opt/ml/processing/"


def check_create(request: Mapping[str, Any]) -> None:
    _check_cluster(request["ProcessingResources"]["ClusterConfig"])
    if not request["AppSpecification"].get("ImageUri"):
        raise ValidationException("AppSpecification.ImageUri must name the image to run.")
    inputs = request.get("ProcessingInputs", [])
    outputs = request.get("ProcessingOutputConfig", {}).get("Outputs", [])
    _check_unique("ProcessingInputs", "InputName", [i["InputName"] for i in inputs])
    _check_unique("ProcessingOutputs", "OutputName", [o["OutputName"] for o in outputs])
    paths: list[str] = []
    for index, item in enumerate(inputs):
        paths.append(_check_input(f"ProcessingInputs[{index}]", item))
    _check_unique("ProcessingInputs", "LocalPath", paths)
    output_paths = [_check_output(f"ProcessingOutputs[{i}]", o) for i, o in enumerate(outputs)]
    _check_unique("ProcessingOutputs", "LocalPath", output_paths)


def _check_cluster(cluster: Mapping[str, Any]) -> None:
    if cluster.get("InstancePreferences"):
        raise not_supported("ProcessingResources.ClusterConfig.InstancePreferences")
    if "InstanceType" not in cluster or "InstanceCount" not in cluster:
        raise ValidationException(
            "ProcessingResources.ClusterConfig must specify InstanceType and InstanceCount."
        )


def _check_unique(where: str, member: str, values: Sequence[str]) -> None:
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise ValidationException(
            f"{member} must be unique within {where}; duplicated: {', '.join(duplicates)}."
        )


def _check_local_path(where: str, path: str | None) -> str:
    if not path:
        raise ValidationException(
            f"{where}.LocalPath is required (it is optional only when AppManaged is true)."
        )
    parts = path.split("/")
    if not path.startswith(PROCESSING_ROOT) or ".." in parts or path == PROCESSING_ROOT:
        raise ValidationException(
            f"{where}.LocalPath {path!r} is invalid: LocalPath is an absolute path that must "
            f"begin with {PROCESSING_ROOT}."
        )
    return path.rstrip("/")


def _check_input(where: str, item: Mapping[str, Any]) -> str:
    if item.get("AppManaged"):
        raise not_supported(f"AppManaged inputs ({where})")
    if item.get("DatasetDefinition") is not None:
        source = next(iter(item["DatasetDefinition"]), "DatasetDefinition")
        raise ValidationException(
            f"{where}: DatasetDefinition inputs ({source}) are not available in sagestack: "
            "it cannot run Athena or Redshift queries. Run the query yourself and give its "
            "result as an S3Input."
        )
    s3 = item.get("S3Input")
    if s3 is None:
        raise ValidationException(
            f"{where} must specify exactly one of S3Input or DatasetDefinition."
        )
    path = _check_local_path(f"{where}.S3Input", s3.get("LocalPath"))
    mode = s3.get("S3InputMode", "File")
    if mode == "Pipe":
        raise not_supported(f"Pipe input mode ({where}.S3Input.S3InputMode)")
    if s3.get("S3CompressionType", "None") == "Gzip":
        raise ValidationException(
            f"{where}.S3Input: S3CompressionType Gzip can only be used when Pipe mode is "
            "specified as the S3InputMode."
        )
    check_s3_uri(f"{where}.S3Input.S3Uri", s3["S3Uri"])
    return path


def _check_output(where: str, item: Mapping[str, Any]) -> str:
    if item.get("AppManaged"):
        raise not_supported(f"AppManaged outputs ({where})")
    if item.get("FeatureStoreOutput") is not None:
        raise not_supported(f"FeatureStoreOutput ({where})")
    s3 = item.get("S3Output")
    if s3 is None:
        raise ValidationException(f"{where} must specify S3Output.")
    path = _check_local_path(f"{where}.S3Output", s3.get("LocalPath"))
    check_s3_uri(f"{where}.S3Output.S3Uri", s3["S3Uri"])
    return path
