"""UpdateModelPackage's rules: which members change and how, as one pure function of the
record, so the API can apply it as a compare-and-set (the validation controller writes the
same records)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sagestack.resources.records import Event, ResourceRecord
from sagestack.spec.errors import ValidationException

#: Members replaced as sent.
_REPLACED = (
    "ModelApprovalStatus",
    "ApprovalDescription",
    "InferenceSpecification",
    "SourceUri",
    "ModelLifeCycle",
    "ModelPackageRegistrationType",
)
_UPDATABLE = (
    *_REPLACED,
    "CustomerMetadataProperties",
    "CustomerMetadataPropertiesToRemove",
    "AdditionalInferenceSpecificationsToAdd",
    "ModelCard",
)
#: The most custom metadata entries a package may carry (CustomerMetadataMap's max).
MAX_METADATA = 50


def updated(
    record: ResourceRecord, request: Mapping[str, Any], who: Mapping[str, Any], now: float
) -> tuple[ResourceRecord, Event | None]:
    """The package after UpdateModelPackage, and its Updated event (detail: the changed
    fields, as the "Model Package State Change" event's UpdatedModelPackageFields)."""
    changes = [key for key in _UPDATABLE if request.get(key) is not None]
    if not changes:
        raise ValidationException(
            "UpdateModelPackage needs at least one member to update besides ModelPackageArn."
        )
    if "ModelPackageVersion" not in record.spec:
        raise ValidationException(
            f"UpdateModelPackage updates versioned model packages only; {record.arn} is "
            "not part of a model package group."
        )
    spec = dict(record.spec)
    for key in _REPLACED:
        if request.get(key) is not None:
            spec[key] = request[key]
    _update_metadata(spec, request)
    _add_inference_specifications(spec, request.get("AdditionalInferenceSpecificationsToAdd"))
    card = request.get("ModelCard")
    if card is not None:
        current = dict(spec.get("ModelCard", {}))
        if current.get("ModelCardStatus") == "Archived":
            raise ValidationException("Model Card is in Archived state.")
        spec["ModelCard"] = {**current, **card}
    spec["LastModifiedBy"] = dict(who)
    fields = sorted(
        "CustomerMetadataProperties"
        if key.startswith("CustomerMetadata")
        else "AdditionalInferenceSpecifications"
        if key.startswith("Additional")
        else key
        for key in changes
    )
    changed = dataclasses.replace(record, spec=spec, last_modified_time=now)
    event = Event(
        arn=record.arn,
        kind=record.kind,
        account=record.account,
        region=record.region,
        type="Updated",
        time=now,
        status=record.status,
        detail={"UpdatedModelPackageFields": sorted(set(fields))},
    )
    return changed, event


def _update_metadata(spec: dict[str, Any], request: Mapping[str, Any]) -> None:
    added = request.get("CustomerMetadataProperties") or {}
    removed = request.get("CustomerMetadataPropertiesToRemove") or []
    both = sorted(set(added) & set(removed))
    if both:
        raise ValidationException(
            "CustomerMetadataProperties and CustomerMetadataPropertiesToRemove cannot name "
            f"the same key: {', '.join(both)}."
        )
    if not added and not removed:
        return
    metadata = {**spec.get("CustomerMetadataProperties", {}), **added}
    for key in removed:
        metadata.pop(key, None)
    if len(metadata) > MAX_METADATA:
        raise ValidationException(
            f"A model package can have at most {MAX_METADATA} CustomerMetadataProperties; "
            f"this update would give it {len(metadata)}."
        )
    if metadata:
        spec["CustomerMetadataProperties"] = metadata
    else:
        spec.pop("CustomerMetadataProperties", None)


def _add_inference_specifications(
    spec: dict[str, Any], added: list[Mapping[str, Any]] | None
) -> None:
    if not added:
        return
    current = list(spec.get("AdditionalInferenceSpecifications", []))
    names = {entry["Name"] for entry in current}
    for entry in added:
        if entry["Name"] in names:
            raise ValidationException(
                f"An additional inference specification named {entry['Name']} already exists "
                "in this model package."
            )
        names.add(entry["Name"])
        current.append(dict(entry))
    if len(current) > 15:
        raise ValidationException(
            "A model package can have at most 15 AdditionalInferenceSpecifications."
        )
    spec["AdditionalInferenceSpecifications"] = current
