"""The cross-field rules CreateTrainingJob checks beyond what the model states, in SageMaker's
words where they are known, and what sagestack cannot run yet, said plainly.

`check_create` raises ValidationException for the first rule a request breaks; nothing is stored
before it has passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sagestack.spec.errors import ValidationException

#: SageMaker's limit on MaxRuntimeInSeconds: 28 days.
MAX_RUNTIME_SECONDS = 28 * 24 * 3600

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_SUPPORTED_S3_DATA_TYPES = ("S3Prefix", "ManifestFile")

#: An algorithm resource's existence, by name or ARN (CreateAlgorithm's records).
AlgorithmExists = Callable[[str], bool]


def not_supported(what: str) -> ValidationException:
    return ValidationException(f"{what} is not supported by sagestack yet.")


def check_create(request: Mapping[str, Any], algorithm_exists: AlgorithmExists) -> None:
    if "ServerlessJobConfig" in request:
        raise not_supported("ServerlessJobConfig (serverless training jobs)")
    _check_algorithm(request, algorithm_exists)
    _check_resources(request.get("ResourceConfig"))
    _check_stopping(request)
    _check_channels(request)
    for where, uri in _s3_uris(request):
        check_s3_uri(where, uri)


def _check_algorithm(request: Mapping[str, Any], algorithm_exists: AlgorithmExists) -> None:
    algorithm = request.get("AlgorithmSpecification")
    if algorithm is None:
        raise ValidationException("AlgorithmSpecification is required for a training job.")
    image, name = algorithm.get("TrainingImage"), algorithm.get("AlgorithmName")
    if bool(image) == bool(name):
        raise ValidationException(
            "Specify exactly one of TrainingImage or AlgorithmName in AlgorithmSpecification."
        )
    if name and not algorithm_exists(name):
        raise ValidationException(f'Could not find algorithm "{name}".')
    if algorithm["TrainingInputMode"] == "Pipe":
        raise not_supported("Pipe input mode (AlgorithmSpecification.TrainingInputMode)")


def _check_resources(resources: Mapping[str, Any] | None) -> None:
    if resources is None:
        raise ValidationException("ResourceConfig is required for a training job.")
    if resources.get("InstanceGroups"):
        raise not_supported("ResourceConfig.InstanceGroups (heterogeneous clusters)")
    if "InstanceType" not in resources or "InstanceCount" not in resources:
        raise ValidationException("ResourceConfig must specify InstanceType and InstanceCount.")
    count = resources["InstanceCount"]
    if count < 1:
        raise ValidationException(
            f"1 validation error detected: Value '{count}' at 'resourceConfig.instanceCount' "
            "failed to satisfy constraint: Member must have value greater than or equal to 1"
        )


def _check_stopping(request: Mapping[str, Any]) -> None:
    stopping = request.get("StoppingCondition", {})
    runtime = stopping.get("MaxRuntimeInSeconds")
    if runtime is not None and runtime > MAX_RUNTIME_SECONDS:
        raise ValidationException(
            f"Invalid MaxRuntimeInSeconds: {runtime}. A training job can run for at most "
            f"{MAX_RUNTIME_SECONDS} seconds (28 days)."
        )
    wait = stopping.get("MaxWaitTimeInSeconds")
    if not request.get("EnableManagedSpotTraining"):
        if wait is not None:
            raise ValidationException(
                "Invalid MaxWaitTimeInSeconds. It is only supported when "
                "EnableManagedSpotTraining is set to true"
            )
        return
    if wait is None or wait < (runtime if runtime is not None else 86400):
        raise ValidationException(
            "Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal "
            "to MaxRuntimeInSeconds"
        )


def _check_channels(request: Mapping[str, Any]) -> None:
    channels = request.get("InputDataConfig", [])
    names = [channel["ChannelName"] for channel in channels]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValidationException(
            f"Channel names must be unique within InputDataConfig; "
            f"duplicated: {', '.join(duplicates)}."
        )
    default_mode = request["AlgorithmSpecification"]["TrainingInputMode"]
    for channel in channels:
        name = channel["ChannelName"]
        mode = channel.get("InputMode", default_mode)
        if mode == "Pipe":
            raise not_supported(f"Pipe input mode (channel {name})")
        compression = channel.get("CompressionType", "None")
        if compression != "None":
            raise ValidationException(
                f"Invalid compression type for channel {name}: {mode} mode only supports NONE, "
                f"got {compression} instead"
            )
        _check_data_source(name, channel["DataSource"])


def _check_data_source(channel: str, source: Mapping[str, Any]) -> None:
    given = [member for member, value in source.items() if value is not None]
    if len(given) != 1:
        raise ValidationException(
            f"The DataSource of channel {channel} must specify exactly one of S3DataSource, "
            "FileSystemDataSource or DatasetSource."
        )
    if given[0] != "S3DataSource":
        raise not_supported(f"{given[0]} (channel {channel})")
    data_type = source["S3DataSource"]["S3DataType"]
    if data_type not in _SUPPORTED_S3_DATA_TYPES:
        raise not_supported(f"S3DataType {data_type} (channel {channel})")


def _s3_uris(request: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    yield "OutputDataConfig.S3OutputPath", request["OutputDataConfig"]["S3OutputPath"]
    for channel in request.get("InputDataConfig", []):
        source = channel["DataSource"].get("S3DataSource")
        if source is not None:
            yield f"channel {channel['ChannelName']}", source["S3Uri"]
    for member, key in (
        ("CheckpointConfig", "S3Uri"),
        ("DebugHookConfig", "S3OutputPath"),
        ("TensorBoardOutputConfig", "S3OutputPath"),
        ("ProfilerConfig", "S3OutputPath"),
    ):
        uri = request.get(member, {}).get(key)
        if uri is not None:
            yield f"{member}.{key}", uri


def check_s3_uri(where: str, uri: str) -> None:
    """ValidationException unless `uri` is `s3://<valid bucket name>[/<key>]`."""
    bucket = uri[5:].split("/", 1)[0] if uri.startswith("s3://") else ""
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ValidationException(
            f"Invalid S3 URI for {where}: {uri!r}. Specify it as s3://bucket/prefix."
        )
