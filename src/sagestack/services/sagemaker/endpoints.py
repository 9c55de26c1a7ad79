"""Endpoints: CreateEndpoint, DescribeEndpoint, ListEndpoints, DeleteEndpoint, UpdateEndpoint,
UpdateEndpointWeightsAndCapacities.

The handlers resolve the endpoint configuration and its models into the record's `Deployment`
(see `sagestack.resources.endpoints`), move the status and wake the reconciler; the endpoint
controller starts and stops the replicas, reports what runs in `state` and removes a deleted
endpoint's record. Every status change goes through `transition`, and every write is a
compare-and-set on the record's generation, retried when the controller wrote first.

Besides the config's variants (each with its model's spec under "Model"), the Deployment keeps
the config sections DescribeEndpoint echoes (DataCaptureConfig, AsyncInferenceConfig,
ExplainerConfig, MetricsConfig), so an endpoint keeps showing what it was deployed with after
its config is deleted or replaced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources.arns import arn
from sagestack.resources.endpoints import KIND, variant_summaries
from sagestack.resources.lifecycles import transition
from sagestack.resources.records import Event, ResourceRecord
from sagestack.services.sagemaker.listing import ListRules
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.spec.errors import ResourceInUse, ValidationException
from sagestack.spec.pagination import TokenCodec
from sagestack.store.base import Change, RecordBusy, ResourceStore, change_record

LIST_ENDPOINTS = ListRules(
    kind=KIND,
    sort_columns={"Name": "Name", "CreationTime": "CreationTime", "Status": "Status"},
)

#: Statuses UpdateEndpoint starts from; any other is an update, creation or deletion under way.
_UPDATABLE = frozenset({"InService", "Failed", "UpdateRollbackFailed"})
#: Statuses DeleteEndpoint refuses: the endpoint's instances are being changed.
_IN_PROGRESS = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
#: Config sections a Deployment keeps for DescribeEndpoint.
_CONFIG_SECTIONS = ("DataCaptureConfig", "AsyncInferenceConfig", "ExplainerConfig", "MetricsConfig")
#: How many times a write is retried when the controller changed the record in between.

#: A change to an endpoint record: the changed record and its event, or None when there is
#: nothing to write; raises ValidationException when the change is not allowed.


class EndpointsApi(ResourceApi):
    kind = KIND
    noun = "endpoint"

    def __init__(self, store: ResourceStore, tokens: TokenCodec, wake: Callable[[], None]) -> None:
        super().__init__(store, tokens)
        self.wake = wake

    @operation("CreateEndpoint")
    def create_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        deployment = self._deployment(ctx, request["EndpointConfigName"])
        spec: dict[str, Any] = {
            "EndpointConfigName": deployment["EndpointConfigName"],
            "Deployment": deployment,
        }
        if request.get("DeploymentConfig"):
            spec["DeploymentConfig"] = request["DeploymentConfig"]
        state = {
            "ProductionVariants": variant_summaries(
                deployment["ProductionVariants"], current={}, status="Creating", now=ctx.now
            )
        }
        record = self.create_record(
            ctx, request["EndpointName"], spec, request.get("Tags"), status="Creating", state=state
        )
        self.wake()
        return {"EndpointArn": record.arn}

    @operation("DescribeEndpoint")
    def describe_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return described(self.require(ctx, request["EndpointName"]))

    @operation("ListEndpoints")
    def list_endpoints(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, next_token = self.list_page(ctx, request, LIST_ENDPOINTS)
        endpoints = [
            {
                "EndpointName": r.name,
                "EndpointArn": r.arn,
                "CreationTime": r.creation_time,
                "LastModifiedTime": r.last_modified_time,
                "EndpointStatus": r.status,
            }
            for r in records
        ]
        return {"Endpoints": endpoints, "NextToken": next_token}

    @operation("DeleteEndpoint")
    def delete_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        def delete(record: ResourceRecord) -> tuple[ResourceRecord, Event] | None:
            if record.status == "Deleting":
                return None  # already on its way out
            if record.status in _IN_PROGRESS:
                # As SageMaker: an endpoint being created, updated or rolled back cannot be
                # deleted until it settles (InService, Failed or UpdateRollbackFailed).
                raise ValidationException(f'Cannot delete in-progress endpoint "{record.arn}".')
            return transition(record, "Deleting", now=ctx.now)

        self._change(ctx, request["EndpointName"], delete)
        self.wake()
        return {}

    @operation("UpdateEndpoint")
    def update_endpoint(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        config_name = request["EndpointConfigName"]
        excluded = {
            p["VariantPropertyType"] for p in request.get("ExcludeRetainedVariantProperties", [])
        }

        def update(record: ResourceRecord) -> tuple[ResourceRecord, Event]:
            if record.status not in _UPDATABLE:
                raise in_progress(record)
            current = record.spec["EndpointConfigName"]
            if current.lower() == config_name.lower():
                raise ValidationException(
                    "Cannot update endpoint with the currently in use endpoint configuration "
                    f'"{current}".'
                )
            deployment = self._deployment(ctx, config_name)
            if request.get("RetainAllVariantProperties"):
                deployment = _retained(deployment, record.spec["Deployment"], excluded)
            spec = {
                key: value
                for key, value in record.spec.items()
                if key not in ("DeploymentConfig", "DesiredWeightsAndCapacities")
            }
            spec.update(EndpointConfigName=deployment["EndpointConfigName"], Deployment=deployment)
            if request.get("DeploymentConfig"):
                spec["DeploymentConfig"] = request["DeploymentConfig"]
            elif request.get("RetainDeploymentConfig") and "DeploymentConfig" in record.spec:
                spec["DeploymentConfig"] = record.spec["DeploymentConfig"]
            changed, event = transition(
                record,
                "Updating",
                now=ctx.now,
                detail={"EndpointConfigName": deployment["EndpointConfigName"]},
            )
            state = {key: value for key, value in changed.state.items() if key != "FailureReason"}
            return dataclasses.replace(changed, spec=spec, state=state), event

        record = self._change(ctx, request["EndpointName"], update)
        self.wake()
        return {"EndpointArn": record.arn}

    @operation("UpdateEndpointWeightsAndCapacities")
    def update_endpoint_weights_and_capacities(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        desired = _checked_desired(request["DesiredWeightsAndCapacities"])

        def update(record: ResourceRecord) -> tuple[ResourceRecord, Event]:
            deployment = _reweighted(record, desired)
            if record.status != "InService":
                if record.status not in _UPDATABLE:
                    raise in_progress(record)
                raise ValidationException(
                    f'Cannot update weights and capacities of endpoint "{record.arn}" in status '
                    f"{record.status}; only an InService endpoint can be updated this way."
                )
            spec = {**record.spec, "Deployment": deployment, "DesiredWeightsAndCapacities": desired}
            changed, event = transition(
                record, "Updating", now=ctx.now, detail={"DesiredWeightsAndCapacities": desired}
            )
            summaries = _summaries_updating(
                changed.state.get("ProductionVariants", []), deployment, desired, now=ctx.now
            )
            state = {
                **{key: value for key, value in changed.state.items() if key != "FailureReason"},
                "ProductionVariants": summaries,
            }
            return dataclasses.replace(changed, spec=spec, state=state), event

        record = self._change(ctx, request["EndpointName"], update)
        self.wake()
        return {"EndpointArn": record.arn}

    # -- records ----------------------------------------------------------------------------

    def _deployment(self, ctx: RequestContext, config_name: str) -> dict[str, Any]:
        """The endpoint configuration `config_name` resolved: its variants, each with the spec of
        its model under "Model", and the config sections DescribeEndpoint echoes."""
        config = self.store.get("endpoint-config", ctx.account, ctx.region, config_name)
        if config is None:
            config_arn = arn("endpoint-config", ctx.account, ctx.region, config_name)
            raise ValidationException(f'Could not find endpoint configuration "{config_arn}".')
        resolved: dict[str, list[dict[str, Any]]] = {}
        for key in ("ProductionVariants", "ShadowProductionVariants"):
            for variant in config.spec.get(key, ()):
                model_name = variant.get("ModelName")
                if model_name is None:
                    raise ValidationException(
                        f'Endpoint configuration "{config.arn}" has variants without a model '
                        "(for inference components), which sagestack cannot host yet; give "
                        "every production variant a ModelName."
                    )
                model = self.store.get("model", ctx.account, ctx.region, model_name)
                if model is None:
                    model_arn = arn("model", ctx.account, ctx.region, model_name)
                    raise ValidationException(f'Could not find model "{model_arn}".')
                resolved.setdefault(key, []).append({**variant, "Model": dict(model.spec)})
        deployment: dict[str, Any] = {"EndpointConfigName": config.name, **resolved}
        deployment.update(
            (section, config.spec[section])
            for section in _CONFIG_SECTIONS
            if section in config.spec
        )
        return deployment

    def _change(self, ctx: RequestContext, name: str, change: Change) -> ResourceRecord:
        arn = self.arn_of(ctx, name)
        try:
            record = change_record(self.store, arn, change)
        except RecordBusy:
            raise ResourceInUse(f"Endpoint {name} is changing too often; try again.") from None
        if record is None:
            raise ValidationException(f'Could not find endpoint "{arn}".')
        return record


def in_progress(record: ResourceRecord) -> ValidationException:
    """SageMaker's refusal to change an endpoint that is being created, updated or deleted."""
    return ValidationException(f'Cannot update in-progress endpoint "{record.arn}".')


def _retained(
    deployment: Mapping[str, Any], previous: Mapping[str, Any], excluded: set[str]
) -> dict[str, Any]:
    """`deployment` keeping the instance counts and weights of `previous` for variants of the
    same name (RetainAllVariantProperties), except the properties in `excluded`."""
    old = {v["VariantName"]: v for v in previous["ProductionVariants"]}
    variants = []
    for variant in deployment["ProductionVariants"]:
        kept = dict(variant)
        before = old.get(variant["VariantName"])
        if before is not None:
            if "DesiredInstanceCount" not in excluded and "InitialInstanceCount" in before:
                kept["InitialInstanceCount"] = before["InitialInstanceCount"]
            if "DesiredWeight" not in excluded:
                kept["InitialVariantWeight"] = before.get("InitialVariantWeight", 1.0)
        variants.append(kept)
    return {**deployment, "ProductionVariants": variants}


def _checked_desired(entries: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """UpdateEndpointWeightsAndCapacities' entries by variant name, checked on their own."""
    desired: dict[str, dict[str, Any]] = {}
    for entry in entries:
        name = entry["VariantName"]
        if name in desired:
            raise ValidationException(
                f'The variant name "{name}" was non-unique within the request.'
            )
        changes = {
            key: entry[key]
            for key in ("DesiredWeight", "DesiredInstanceCount", "ServerlessUpdateConfig")
            if entry.get(key) is not None
        }
        if not changes:
            raise ValidationException(
                f'Variant "{name}": specify DesiredWeight, DesiredInstanceCount or '
                "ServerlessUpdateConfig."
            )
        if changes.get("DesiredInstanceCount") == 0:
            raise ValidationException(
                f'Variant "{name}": DesiredInstanceCount must be at least 1; scaling to zero '
                "is supported only for endpoints that host inference components."
            )
        desired[name] = changes
    return desired


def _reweighted(record: ResourceRecord, desired: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The record's Deployment with the desired weights, counts and serverless settings."""
    deployment = record.spec["Deployment"]
    variants = {v["VariantName"]: dict(v) for v in deployment["ProductionVariants"]}
    unknown = [name for name in desired if name not in variants]
    if unknown:
        raise ValidationException(
            f'The variant name(s) "{", ".join(unknown)}" is/are not present within endpoint '
            f'configuration "{record.spec["EndpointConfigName"]}".'
        )
    for name, changes in desired.items():
        variant = variants[name]
        serverless = "ServerlessConfig" in variant
        if "DesiredWeight" in changes:
            variant["InitialVariantWeight"] = float(changes["DesiredWeight"])
        if "DesiredInstanceCount" in changes:
            if serverless:
                raise ValidationException(
                    f'Variant "{name}" is serverless: update it with ServerlessUpdateConfig, '
                    "not DesiredInstanceCount."
                )
            variant["InitialInstanceCount"] = int(changes["DesiredInstanceCount"])
        if "ServerlessUpdateConfig" in changes:
            if not serverless:
                raise ValidationException(
                    f'Variant "{name}" is not serverless: ServerlessUpdateConfig does not apply.'
                )
            variant["ServerlessConfig"] = {
                **variant["ServerlessConfig"],
                **changes["ServerlessUpdateConfig"],
            }
    ordered = [variants[v["VariantName"]] for v in deployment["ProductionVariants"]]
    if sum(float(v.get("InitialVariantWeight", 1.0)) for v in ordered) <= 0:
        raise ValidationException(
            "The sum of DesiredWeight across the endpoint's production variants must be "
            "greater than 0."
        )
    return {**deployment, "ProductionVariants": ordered}


def _summaries_updating(
    summaries: Sequence[Mapping[str, Any]],
    deployment: Mapping[str, Any],
    desired: Mapping[str, Any],
    *,
    now: float,
) -> list[dict[str, Any]]:
    """The variants' summaries with the new desired weights and counts; the variants being
    changed show the Updating VariantStatus."""
    variants = {v["VariantName"]: v for v in deployment["ProductionVariants"]}
    updated = []
    for summary in summaries:
        shown = dict(summary)
        name = shown["VariantName"]
        variant = variants.get(name)
        if variant is not None and name in desired:
            shown["DesiredWeight"] = float(variant.get("InitialVariantWeight", 1.0))
            shown["DesiredInstanceCount"] = int(variant.get("InitialInstanceCount", 1))
            if "ServerlessConfig" in variant:
                shown["DesiredServerlessConfig"] = variant["ServerlessConfig"]
            shown["VariantStatus"] = [{"Status": "Updating", "StartTime": now}]
        updated.append(shown)
    return updated


def described(record: ResourceRecord) -> dict[str, Any]:
    """DescribeEndpoint's output. The config, its sections and the variants shown are those of
    the deployment the replicas serve; the one being rolled out is the PendingDeploymentSummary
    (while Creating, or Updating to a new config)."""
    desired = record.spec["Deployment"]
    current = record.state.get("ActiveDeployment") or desired
    output: dict[str, Any] = {
        "EndpointName": record.name,
        "EndpointArn": record.arn,
        "EndpointConfigName": current["EndpointConfigName"],
        "ProductionVariants": record.state.get("ProductionVariants"),
        "ShadowProductionVariants": record.state.get("ShadowProductionVariants"),
        "EndpointStatus": record.status,
        "FailureReason": record.state.get("FailureReason"),
        "CreationTime": record.creation_time,
        "LastModifiedTime": record.last_modified_time,
        "LastDeploymentConfig": record.spec.get("DeploymentConfig"),
    }
    capture = current.get("DataCaptureConfig")
    if capture is not None:
        enabled = bool(capture.get("EnableCapture", True))
        output["DataCaptureConfig"] = {
            "EnableCapture": enabled,
            "CaptureStatus": "Started" if enabled else "Stopped",
            "CurrentSamplingPercentage": capture["InitialSamplingPercentage"],
            "DestinationS3Uri": capture["DestinationS3Uri"],
            "KmsKeyId": capture.get("KmsKeyId", ""),
        }
    for section in ("AsyncInferenceConfig", "ExplainerConfig", "MetricsConfig"):
        output[section] = current.get(section)
    # UpdateEndpoint rolls out a new config; UpdateEndpointWeightsAndCapacities only rescales.
    rolling_out = record.status == "Creating" or (
        record.status == "Updating" and "DesiredWeightsAndCapacities" not in record.spec
    )
    if rolling_out:
        output["PendingDeploymentSummary"] = _pending(desired, since=record.last_modified_time)
    return output


def _pending(deployment: Mapping[str, Any], *, since: float) -> dict[str, Any]:
    """PendingDeploymentSummary of a deployment whose replicas are being started."""
    variants = deployment["ProductionVariants"]
    summaries = variant_summaries(variants, current={}, status="Creating", now=since)
    for summary, variant in zip(summaries, variants, strict=True):
        if "InstanceType" in variant:
            summary["InstanceType"] = variant["InstanceType"]
        if "ServerlessConfig" in variant:
            summary["DesiredServerlessConfig"] = variant["ServerlessConfig"]
    return {
        "EndpointConfigName": deployment["EndpointConfigName"],
        "ProductionVariants": summaries,
        "StartTime": since,
    }
