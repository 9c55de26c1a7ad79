"""EndpointConfig: CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs,
DeleteEndpointConfig, with the cross-resource checks SageMaker makes on create."""

from __future__ import annotations

from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources.arns import arn
from sagestack.services.sagemaker.listing import ListRules
from sagestack.services.sagemaker.models import ModelsApi
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.spec.errors import ValidationException

LIST_ENDPOINT_CONFIGS = ListRules(kind="endpoint-config")

_NOT_SPEC = {"EndpointConfigName", "Tags"}


def _described_variant(variant: dict[str, Any]) -> dict[str, Any]:
    shown = dict(variant)
    if "ServerlessConfig" not in shown:
        shown.setdefault("InitialVariantWeight", 1.0)
    return shown


class EndpointConfigsApi(ResourceApi):
    kind = "endpoint-config"
    noun = "endpoint configuration"

    @operation("CreateEndpointConfig")
    def create_endpoint_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        variants = request["ProductionVariants"]
        shadows = request.get("ShadowProductionVariants", [])
        self._check_variants(ctx, variants + shadows, request)
        if sum(v.get("InitialVariantWeight", 1.0) for v in variants) <= 0:
            raise ValidationException(
                "The sum of InitialVariantWeight across ProductionVariants must be greater than 0."
            )
        if request.get("AsyncInferenceConfig") and any("ServerlessConfig" in v for v in variants):
            raise ValidationException(
                "AsyncInferenceConfig is not supported for endpoints with serverless variants."
            )
        spec = {key: value for key, value in request.items() if key not in _NOT_SPEC}
        record = self.create_record(ctx, request["EndpointConfigName"], spec, request.get("Tags"))
        return {"EndpointConfigArn": record.arn}

    def _check_variants(
        self, ctx: RequestContext, variants: list[dict[str, Any]], request: dict[str, Any]
    ) -> None:
        names = [v["VariantName"] for v in variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValidationException(
                f"Variant names must be unique across ProductionVariants and "
                f"ShadowProductionVariants; duplicated: {', '.join(duplicates)}."
            )
        with_model = [v for v in variants if "ModelName" in v]
        if with_model and len(with_model) != len(variants):
            raise ValidationException(
                "Either every variant or no variant must specify ModelName "
                "(variants without a model are for inference components)."
            )
        if not with_model and not request.get("ExecutionRoleArn"):
            raise ValidationException(
                "ExecutionRoleArn is required for an endpoint configuration whose variants "
                "host inference components (no ModelName)."
            )
        for variant in variants:
            self._check_variant(ctx, variant)

    def _check_variant(self, ctx: RequestContext, variant: dict[str, Any]) -> None:
        name = variant["VariantName"]
        serverless = "ServerlessConfig" in variant
        if serverless and ("InstanceType" in variant or "InitialInstanceCount" in variant):
            raise ValidationException(
                f"Variant {name}: ServerlessConfig cannot be combined with InstanceType "
                "or InitialInstanceCount."
            )
        if not serverless and not ("InstanceType" in variant and "InitialInstanceCount" in variant):
            raise ValidationException(
                f"Variant {name}: specify InstanceType and InitialInstanceCount, "
                "or ServerlessConfig."
            )
        model_name = variant.get("ModelName")
        if model_name is None:
            return
        if self.store.get(ModelsApi.kind, ctx.account, ctx.region, model_name) is None:
            model_arn = arn(ModelsApi.kind, ctx.account, ctx.region, model_name)
            raise ValidationException(f'Could not find model "{model_arn}".')

    @operation("DescribeEndpointConfig")
    def describe_endpoint_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        record = self.require(ctx, request["EndpointConfigName"])
        output: dict[str, Any] = dict(record.spec)
        output["ProductionVariants"] = [_described_variant(v) for v in output["ProductionVariants"]]
        if "ShadowProductionVariants" in output:
            output["ShadowProductionVariants"] = [
                _described_variant(v) for v in output["ShadowProductionVariants"]
            ]
        output.update(
            EndpointConfigName=record.name,
            EndpointConfigArn=record.arn,
            CreationTime=record.creation_time,
        )
        return output

    @operation("ListEndpointConfigs")
    def list_endpoint_configs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, next_token = self.list_page(ctx, request, LIST_ENDPOINT_CONFIGS)
        configs = [
            {
                "EndpointConfigName": r.name,
                "EndpointConfigArn": r.arn,
                "CreationTime": r.creation_time,
            }
            for r in records
        ]
        return {"EndpointConfigs": configs, "NextToken": next_token}

    @operation("DeleteEndpointConfig")
    def delete_endpoint_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        self.delete_record(ctx, request["EndpointConfigName"])
        return {}
