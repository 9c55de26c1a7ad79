"""The rules of an algorithm resource: what CreateAlgorithm accepts as a TrainingSpecification,
and what a CreateTrainingJob naming the algorithm (AlgorithmSpecification.AlgorithmName) must
respect: its channels, input modes, content types, compression, instance types and
hyperparameters, whose defaults are filled in. The messages are the SageMaker Python SDK's
(`AlgorithmEstimator`), which checks the same rules client-side, so a client sees one wording
whichever side catches the mistake.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sagestack.spec.errors import ValidationException

_RANGE_OF_TYPE = {
    "Integer": "IntegerParameterRangeSpecification",
    "Continuous": "ContinuousParameterRangeSpecification",
    "Categorical": "CategoricalParameterRangeSpecification",
}


def check_training_specification(training: Mapping[str, Any]) -> None:
    """ValidationException for a TrainingSpecification SageMaker would refuse."""
    names = [spec["Name"] for spec in training.get("SupportedHyperParameters", [])]
    _unique("SupportedHyperParameters", names)
    for spec in training.get("SupportedHyperParameters", []):
        _check_hyperparameter_spec(spec)
    _unique("TrainingChannels", [channel["Name"] for channel in training["TrainingChannels"]])
    if not training["SupportedTrainingInstanceTypes"]:
        raise ValidationException("SupportedTrainingInstanceTypes must list at least one type.")
    metrics = [metric["Name"] for metric in training.get("MetricDefinitions", [])]
    _unique("MetricDefinitions", metrics)
    for objective in training.get("SupportedTuningJobObjectiveMetrics", []):
        if objective["MetricName"] not in metrics:
            raise ValidationException(
                f"Objective metric {objective['MetricName']} in "
                "SupportedTuningJobObjectiveMetrics is not in MetricDefinitions."
            )


def _unique(where: str, names: list[str]) -> None:
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValidationException(f"Names in {where} must be unique: {', '.join(duplicated)}.")


def _check_hyperparameter_spec(spec: Mapping[str, Any]) -> None:
    name, kind, ranges = spec["Name"], spec["Type"], spec.get("Range") or {}
    given = [member for member, value in ranges.items() if value is not None]
    expected = _RANGE_OF_TYPE.get(kind)
    if given and (len(given) != 1 or given[0] != expected):
        raise ValidationException(
            f"Hyperparameter {name} is of Type {kind}, so its Range must be "
            f"{expected or 'absent (FreeText has no range)'}; got {', '.join(given)}."
        )
    if kind in ("Integer", "Continuous") and given:
        bounds = ranges[expected]
        low = _number(kind, bounds["MinValue"], f"MinValue of hyperparameter {name}")
        high = _number(kind, bounds["MaxValue"], f"MaxValue of hyperparameter {name}")
        if low > high:
            raise ValidationException(
                f"MinValue {bounds['MinValue']} of hyperparameter {name} is greater than "
                f"its MaxValue {bounds['MaxValue']}."
            )
    if "DefaultValue" in spec:
        _check_value(spec, spec["DefaultValue"])


def _number(kind: str, text: str, what: str) -> float:
    try:
        value = float(int(text)) if kind == "Integer" else float(text)
    except ValueError:
        raise ValidationException(f"{what} must be {kind.lower()}: {text!r}.") from None
    if math.isnan(value) or math.isinf(value):
        raise ValidationException(f"{what} must be a finite number: {text!r}.")
    return value


def _supported_range(spec: Mapping[str, Any]) -> str:
    ranges = spec.get("Range") or {}
    if spec["Type"] == "Categorical" and ranges.get(_RANGE_OF_TYPE["Categorical"]):
        return str(
            {"Name": spec["Name"], "Values": ranges[_RANGE_OF_TYPE["Categorical"]]["Values"]}
        )
    bounds = ranges.get(_RANGE_OF_TYPE.get(spec["Type"], ""))
    if not bounds:
        return "any"
    return str(
        {"Name": spec["Name"], "MinValue": bounds["MinValue"], "MaxValue": bounds["MaxValue"]}
    )


def _check_value(spec: Mapping[str, Any], value: str) -> None:
    """ValidationException unless `value` has the hyperparameter's type and is in its range."""
    kind, ranges = spec["Type"], spec.get("Range") or {}
    if kind in ("Integer", "Continuous"):
        try:
            number = float(int(value)) if kind == "Integer" else float(value)
        except ValueError:
            raise ValidationException(
                f"Invalid value: {value} for hyperparameter {spec['Name']}: it must be "
                f"{'an integer' if kind == 'Integer' else 'a number'}."
            ) from None
        bounds = ranges.get(_RANGE_OF_TYPE[kind])
        if bounds and not float(bounds["MinValue"]) <= number <= float(bounds["MaxValue"]):
            raise ValidationException(
                f"Invalid value: {value} Supported range: {_supported_range(spec)}"
            )
    elif kind == "Categorical":
        values = (ranges.get(_RANGE_OF_TYPE[kind]) or {}).get("Values")
        if values is not None and value not in values:
            raise ValidationException(
                f"Invalid value: {value} Supported range: {_supported_range(spec)}"
            )


def applied(request: Mapping[str, Any], algorithm: Mapping[str, Any]) -> dict[str, Any]:
    """The CreateTrainingJob request checked against the algorithm (its CreateAlgorithm
    request as stored), with the algorithm's default hyperparameters and metric definitions
    filled in. ValidationException names the first rule broken."""
    name = algorithm["AlgorithmName"]
    training = algorithm["TrainingSpecification"]
    request = dict(request)
    spec_algorithm = dict(request["AlgorithmSpecification"])
    mode = spec_algorithm["TrainingInputMode"]
    resources = request["ResourceConfig"]
    supported_types = training["SupportedTrainingInstanceTypes"]
    if resources.get("InstanceType") not in supported_types:
        raise ValidationException(
            f"Invalid instance_type: {resources.get('InstanceType')}. {name} supports the "
            f"following instance types: {supported_types}"
        )
    if resources.get("InstanceCount", 1) > 1 and not training.get("SupportsDistributedTraining"):
        raise ValidationException(
            f"Distributed training is not supported by {name}. Please set instance_count=1"
        )
    _check_channels(name, training["TrainingChannels"], request.get("InputDataConfig", []), mode)
    request["HyperParameters"] = _hyperparameters(
        name, training.get("SupportedHyperParameters", []), request.get("HyperParameters") or {}
    )
    if not request["HyperParameters"]:
        del request["HyperParameters"]
    if "MetricDefinitions" not in spec_algorithm and training.get("MetricDefinitions"):
        spec_algorithm["MetricDefinitions"] = training["MetricDefinitions"]
    request["AlgorithmSpecification"] = spec_algorithm
    return request


def _check_channels(
    name: str, specs: list[Mapping[str, Any]], channels: list[Mapping[str, Any]], mode: str
) -> None:
    by_name = {spec["Name"]: spec for spec in specs}
    given = [channel["ChannelName"] for channel in channels]
    for channel in channels:
        spec = by_name.get(channel["ChannelName"])
        if spec is None:
            raise ValidationException(
                f"Unknown input channel: {channel['ChannelName']} is not supported by: {name}"
            )
        channel_mode = channel.get("InputMode", mode)
        if channel_mode not in spec["SupportedInputModes"]:
            raise ValidationException(
                f"Invalid input mode: {channel_mode}. {name} only supports: "
                f"{spec['SupportedInputModes']} for channel {spec['Name']}"
            )
        content_type = channel.get("ContentType")
        supported = spec.get("SupportedContentTypes") or []
        if content_type is not None and supported and content_type not in supported:
            raise ValidationException(
                f"Invalid content type: {content_type}. Channel {spec['Name']} of {name} "
                f"only supports: {supported}"
            )
        compression = channel.get("CompressionType", "None")
        compressions = spec.get("SupportedCompressionTypes") or ["None"]
        if compression not in compressions:
            raise ValidationException(
                f"Invalid compression type: {compression}. Channel {spec['Name']} of {name} "
                f"only supports: {compressions}"
            )
    for spec in specs:
        if spec.get("IsRequired") and spec["Name"] not in given:
            raise ValidationException(f"Required input channel: {spec['Name']} Was not provided.")


def _hyperparameters(
    name: str, specs: list[Mapping[str, Any]], given: Mapping[str, str]
) -> dict[str, str]:
    by_name = {spec["Name"]: spec for spec in specs}
    result: dict[str, str] = {}
    for key, value in given.items():
        spec = by_name.get(key)
        if spec is None:
            raise ValidationException(f"Invalid hyperparameter: {key} is not supported by {name}")
        _check_value(spec, value)
        result[key] = value
    for spec in specs:
        if spec["Name"] in result:
            continue
        if "DefaultValue" in spec:
            result[spec["Name"]] = spec["DefaultValue"]
        elif spec.get("IsRequired"):
            raise ValidationException(f"Required hyperparameter: {spec['Name']} is not set")
    return result
