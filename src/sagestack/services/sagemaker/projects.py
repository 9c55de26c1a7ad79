"""Projects: CreateProject, DescribeProject, UpdateProject, ListProjects, DeleteProject, with
CloudFormation template providers (seed 003); and `OperationInvoker`, through which the project
controller provisions a template's resources with the API's own handlers.

The handlers check the request, write the desired state and wake the reconciler; the project
controller (control/projects.py) reads each template from the object store and creates,
updates or deletes its resources. AWS Service Catalog is not part of sagestack, so
ServiceCatalogProvisioningDetails is refused with a pointer to template providers.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from sagestack.api.context import RequestContext
from sagestack.api.registry import OperationRegistry, operation
from sagestack.resources import projects
from sagestack.resources.projects import KIND, OperationFailed, Principal, template_location
from sagestack.resources.records import Event, ResourceRecord
from sagestack.services.sagemaker.listing import ListRules
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.services.sagemaker.tags import checked_tags
from sagestack.spec.catalog import load_service
from sagestack.spec.errors import (
    ConflictException,
    ResourceInUse,
    ServiceError,
    ValidationException,
)
from sagestack.spec.pagination import TokenCodec
from sagestack.spec.shaping import shape_output
from sagestack.spec.validation import validate_input
from sagestack.store.base import Change, RecordBusy, ResourceStore, change_record

LIST_PROJECTS = ListRules(kind=KIND)

NO_SERVICE_CATALOG = (
    "AWS Service Catalog is not available in sagestack, so {member} cannot be used; "
    "provision the project from a CloudFormation template in S3 with TemplateProviders "
    "(CfnTemplateProvider) instead."
)


class ProjectsApi(ResourceApi):
    kind = KIND
    noun = "project"

    def __init__(self, store: ResourceStore, tokens: TokenCodec, wake: Callable[[], None]) -> None:
        super().__init__(store, tokens)
        self.wake = wake

    @operation("CreateProject")
    def create_project(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("ServiceCatalogProvisioningDetails") is not None:
            raise ValidationException(
                NO_SERVICE_CATALOG.format(member="ServiceCatalogProvisioningDetails")
            )
        providers = [_checked_provider(p) for p in request.get("TemplateProviders") or []]
        names = [p["CfnTemplateProvider"]["TemplateName"] for p in providers]
        if len(names) != len(set(names)):
            raise ValidationException("TemplateName must be unique within the project.")
        checked_tags(request.get("Tags") or [])
        project_id = projects.new_project_id()
        user = _user_context(ctx)
        spec: dict[str, Any] = {
            "ProjectId": project_id,
            "CreatedBy": user,
            "LastModifiedBy": user,
            "TemplateProviders": providers,
        }
        if request.get("ProjectDescription") is not None:
            spec["ProjectDescription"] = request["ProjectDescription"]
        stacks = {}
        for name in names:
            stack = projects.stack_name(request["ProjectName"], name)
            stacks[name] = {
                "Name": stack,
                "Id": projects.stack_id(ctx.region, ctx.account, stack),
                "StatusMessage": "PENDING",
                "Resources": {},
            }
        record = self.create_record(
            ctx,
            request["ProjectName"],
            spec,
            request.get("Tags"),
            status="Pending",
            state={"Stacks": stacks},
        )
        self.wake()
        return {"ProjectArn": record.arn, "ProjectId": project_id}

    @operation("DescribeProject")
    def describe_project(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return described(self.require(ctx, request["ProjectName"]))

    @operation("ListProjects")
    def list_projects(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        records, next_token = self.list_page(ctx, request, LIST_PROJECTS)
        summaries = []
        for record in records:
            summary = {
                "ProjectName": record.name,
                "ProjectArn": record.arn,
                "ProjectId": record.spec["ProjectId"],
                "CreationTime": record.creation_time,
                "ProjectStatus": record.status,
            }
            if "ProjectDescription" in record.spec:
                summary["ProjectDescription"] = record.spec["ProjectDescription"]
            summaries.append(summary)
        return {"ProjectSummaryList": summaries, "NextToken": next_token}

    @operation("UpdateProject")
    def update_project(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("ServiceCatalogProvisioningUpdateDetails") is not None:
            raise ValidationException(
                NO_SERVICE_CATALOG.format(member="ServiceCatalogProvisioningUpdateDetails")
            )
        updates = [_checked_provider(p) for p in request.get("TemplateProvidersToUpdate") or []]
        tags = checked_tags(request.get("Tags") or [])

        def update(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            if record.status not in projects.UPDATABLE:
                raise ConflictException(
                    f"Project {record.name} cannot be updated while its status is {record.status}."
                )
            providers = {
                p["CfnTemplateProvider"]["TemplateName"]: p
                for p in record.spec.get("TemplateProviders", [])
            }
            for provider in updates:
                cfn = provider["CfnTemplateProvider"]
                existing = providers.get(cfn["TemplateName"])
                if existing is None:
                    raise ValidationException(
                        f"TemplateName {cfn['TemplateName']} does not match a template "
                        f"provider of project {record.name}."
                    )
                kept = {
                    k: v
                    for k, v in existing["CfnTemplateProvider"].items()
                    if k not in ("TemplateURL", "Parameters")
                }
                providers[cfn["TemplateName"]] = {"CfnTemplateProvider": {**kept, **cfn}}
            spec = {**record.spec, "LastModifiedBy": _user_context(ctx)}
            spec["TemplateProviders"] = list(providers.values())
            if request.get("ProjectDescription") is not None:
                spec["ProjectDescription"] = request["ProjectDescription"]
            changed = dataclasses.replace(record, spec=spec, last_modified_time=ctx.now)
            if not updates:
                event = Event(
                    arn=record.arn,
                    kind=record.kind,
                    account=record.account,
                    region=record.region,
                    type="Updated",
                    time=ctx.now,
                    status=record.status,
                )
                return changed, event
            stacks = {
                name: {**stack, "StatusMessage": "UPDATE_IN_PROGRESS"}
                for name, stack in record.state.get("Stacks", {}).items()
            }
            return projects.advance(changed, "UpdateInProgress", now=ctx.now, Stacks=stacks)

        record = self._change(ctx, request["ProjectName"], update)
        if tags:
            self.store.put_tags(record.arn, tags)
        self.wake()
        return {"ProjectArn": record.arn}

    @operation("DeleteProject")
    def delete_project(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        def delete(record: ResourceRecord) -> tuple[ResourceRecord, Event] | None:
            if record.status == "DeleteInProgress":
                return None
            if record.status not in projects.DELETABLE:
                raise ConflictException(
                    f"Project {record.name} cannot be deleted while its status is {record.status}."
                )
            stacks = {
                name: {**stack, "StatusMessage": "DELETE_IN_PROGRESS"}
                for name, stack in record.state.get("Stacks", {}).items()
            }
            return projects.advance(record, "DeleteInProgress", now=ctx.now, Stacks=stacks)

        self._change(ctx, request["ProjectName"], delete)
        self.wake()
        return {}

    def _change(self, ctx: RequestContext, name: str, change: Change) -> ResourceRecord:
        self.require(ctx, name)
        arn = self.arn_of(ctx, name)
        try:
            record = change_record(self.store, arn, change)
        except RecordBusy:
            raise ResourceInUse(f"Project {name} is changing too often; try again.") from None
        if record is None:
            raise ValidationException(f'Could not find project "{arn}".')
        return record


def _checked_provider(provider: Mapping[str, Any]) -> dict[str, Any]:
    cfn = provider.get("CfnTemplateProvider")
    if cfn is None:
        raise ValidationException("Each template provider must specify a CfnTemplateProvider.")
    try:
        template_location(cfn["TemplateURL"])
    except ValueError as error:
        raise ValidationException(str(error)) from None
    return {"CfnTemplateProvider": dict(cfn)}


def _user_context(ctx: RequestContext) -> dict[str, Any]:
    identity = {"Arn": ctx.principal_arn, "PrincipalId": ctx.user_id}
    return {"IamIdentity": {k: v for k, v in identity.items() if v}}


def described(record: ResourceRecord) -> dict[str, Any]:
    """DescribeProject's output (also the Project of a Search result)."""
    stacks = record.state.get("Stacks", {})
    details = []
    for provider in record.spec.get("TemplateProviders", []):
        cfn = dict(provider["CfnTemplateProvider"])
        stack = stacks.get(cfn["TemplateName"], {})
        cfn["StackDetail"] = {
            "Name": stack.get("Name"),
            "Id": stack.get("Id"),
            "StatusMessage": stack.get("StatusMessage", "PENDING"),
        }
        details.append({"CfnTemplateProviderDetail": cfn})
    output: dict[str, Any] = {
        "ProjectArn": record.arn,
        "ProjectName": record.name,
        "ProjectId": record.spec["ProjectId"],
        "ProjectDescription": record.spec.get("ProjectDescription"),
        "ProjectStatus": record.status,
        "CreatedBy": record.spec.get("CreatedBy"),
        "CreationTime": record.creation_time,
        "LastModifiedTime": record.last_modified_time,
        "LastModifiedBy": record.spec.get("LastModifiedBy"),
    }
    if details:
        output["TemplateProviderDetails"] = details
    return output


class OperationInvoker:
    """Runs a SageMaker operation for the project controller as a request would run: the
    parameters coerced to the input shape's types (CloudFormation passes "1" for an integer),
    validated against the botocore model, handled by the registered handler, and the output
    shaped. An error becomes `OperationFailed` with the API's code and message."""

    def __init__(self, registry: Callable[[], OperationRegistry], service: str = "sagemaker"):
        self._registry = registry
        self._service = service
        self._model = load_service(service)

    def __call__(
        self, name: str, params: Mapping[str, Any], principal: Principal
    ) -> dict[str, Any]:
        model = self._model.operation_model(name)
        request = _coerced(dict(params), model.input_shape)
        try:
            if model.input_shape is not None:
                validate_input(request, model.input_shape)
            found = self._registry().lookup(self._service, name)
            if found is None or found[1]:
                raise OperationFailed("NotImplemented", f"{name} is not available in sagestack yet")
            ctx = RequestContext(
                request_id=str(uuid.uuid4()),
                service=self._service,
                operation=name,
                account=principal.account,
                region=principal.region,
                access_key_id="",
                now=round(time.time(), 3),
                principal_arn=principal.principal_arn,
                user_id=principal.user_id,
            )
            result = found[0](ctx, request)
        except ServiceError as error:
            raise OperationFailed(error.code, error.message) from None
        assert isinstance(result, dict)
        return shape_output(result, model.output_shape)


def _coerced(value: Any, shape: Shape | None) -> Any:
    """`value` with strings turned into the numbers and booleans `shape` asks for."""
    if shape is None:
        return value
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        members = shape.members
        return {k: _coerced(v, members.get(k)) for k, v in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_coerced(item, shape.member) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {k: _coerced(v, shape.value) for k, v in value.items()}
    if isinstance(value, str):
        try:
            if shape.type_name in ("integer", "long"):
                return int(value)
            if shape.type_name in ("float", "double"):
                return float(value)
        except ValueError:
            return value
        if shape.type_name == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
    if shape.type_name == "string" and isinstance(value, bool | int | float):
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    return value
