"""Model package groups: CreateModelPackageGroup, DescribeModelPackageGroup,
ListModelPackageGroups, DeleteModelPackageGroup and the group's resource policy
(Put/Get/DeleteModelPackageGroupPolicy).

A group is usable as soon as it exists (Completed). Its record's `state` keeps the last
version number handed out (`LatestVersion`), so a version deleted is never reused, and the
resource policy as sent.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources.model_packages import GROUP_KIND, user_context
from sagestack.resources.records import Event, ResourceRecord
from sagestack.services.sagemaker.listing import ListRules
from sagestack.services.sagemaker.model_registry import find_group, group_versions, name_of
from sagestack.services.sagemaker.resource_api import ResourceApi
from sagestack.spec.errors import ConflictException, ResourceInUse, ValidationException
from sagestack.store.base import RecordBusy, change_record

LIST_GROUPS = ListRules(kind=GROUP_KIND)


class ModelPackageGroupsApi(ResourceApi):
    kind = GROUP_KIND
    noun = "model package group"

    @operation("CreateModelPackageGroup")
    def create_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        spec: dict[str, Any] = {
            key: request[key]
            for key in ("ModelPackageGroupDescription", "ManagedConfiguration")
            if key in request
        }
        spec["CreatedBy"] = user_context(ctx.principal_arn, ctx.user_id)
        record = self.create_record(
            ctx,
            request["ModelPackageGroupName"],
            spec,
            request.get("Tags"),
            status="Completed",
            state={"LatestVersion": 0},
        )
        return {"ModelPackageGroupArn": record.arn}

    def already_exists(self, arn: str) -> ValidationException:
        return ValidationException(f"Model Package Group already exists: {arn}")

    @operation("DescribeModelPackageGroup")
    def describe_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return described(self.group(ctx, request["ModelPackageGroupName"]))

    @operation("ListModelPackageGroups")
    def list_groups(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("CrossAccountFilterOption") == "CrossAccount":
            # One account per sagestack: no group is shared from another.
            return {"ModelPackageGroupSummaryList": []}
        records, next_token = self.list_page(ctx, request, LIST_GROUPS)
        return {
            "ModelPackageGroupSummaryList": [summary(record) for record in records],
            "NextToken": next_token,
        }

    @operation("DeleteModelPackageGroup")
    def delete_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        record = self.group(ctx, request["ModelPackageGroupName"])
        if group_versions(self.store, ctx.account, ctx.region, record.name):
            raise ConflictException(
                f"Model Package Group {record.name} cannot be deleted because it contains "
                "model packages. Delete the model packages first."
            )
        self.delete_record(ctx, record.name)
        return {}

    @operation("PutModelPackageGroupPolicy")
    def put_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        policy = request["ResourcePolicy"]
        try:
            document = json.loads(policy)
        except ValueError:
            document = None
        if not isinstance(document, dict) or "Statement" not in document:
            raise ValidationException(
                "The resource policy is not a valid IAM policy document: it must be a JSON "
                "object with a Statement."
            )
        record = self._set_policy(ctx, request["ModelPackageGroupName"], policy)
        return {"ModelPackageGroupArn": record.arn}

    @operation("GetModelPackageGroupPolicy")
    def get_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        record = self.group(ctx, request["ModelPackageGroupName"])
        policy = record.state.get("ResourcePolicy")
        if policy is None:
            raise ValidationException(
                f"Cannot find resource policy for Model Package Group {record.arn}."
            )
        return {"ResourcePolicy": policy}

    @operation("DeleteModelPackageGroupPolicy")
    def delete_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        record = self.group(ctx, request["ModelPackageGroupName"])
        if record.state.get("ResourcePolicy") is None:
            raise ValidationException(
                f"Cannot find resource policy for Model Package Group {record.arn}."
            )
        self._set_policy(ctx, record.name, None)
        return {}

    # -- records ----------------------------------------------------------------------------

    def group(self, ctx: RequestContext, name_or_arn: str) -> ResourceRecord:
        record = find_group(self.store, ctx, name_or_arn)
        if record is None:
            name = name_of(name_or_arn, GROUP_KIND) or name_or_arn
            raise ValidationException(f"ModelPackageGroup {name} does not exist.")
        return record

    def _set_policy(self, ctx: RequestContext, name: str, policy: str | None) -> ResourceRecord:
        arn = self.group(ctx, name).arn

        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            state = {k: v for k, v in record.state.items() if k != "ResourcePolicy"}
            if policy is not None:
                state["ResourcePolicy"] = policy
            return dataclasses.replace(record, state=state, last_modified_time=ctx.now), None

        try:
            changed = change_record(self.store, arn, change)
        except RecordBusy:
            raise ResourceInUse(f"Model Package Group {name} is busy; try again.") from None
        if changed is None:
            raise ValidationException(f"ModelPackageGroup {name} does not exist.")
        return changed


def described(record: ResourceRecord) -> dict[str, Any]:
    """DescribeModelPackageGroup's output (also what Search shows of a group)."""
    output: dict[str, Any] = {
        "ModelPackageGroupName": record.name,
        "ModelPackageGroupArn": record.arn,
        "CreationTime": record.creation_time,
        "ModelPackageGroupStatus": record.status,
        **record.spec,
    }
    return output


def summary(record: ResourceRecord) -> dict[str, Any]:
    """One ModelPackageGroupSummaryList entry."""
    output = {
        "ModelPackageGroupName": record.name,
        "ModelPackageGroupArn": record.arn,
        "ModelPackageGroupDescription": record.spec.get("ModelPackageGroupDescription"),
        "CreationTime": record.creation_time,
        "ModelPackageGroupStatus": record.status,
        "ManagedConfiguration": record.spec.get("ManagedConfiguration"),
    }
    return {key: value for key, value in output.items() if value is not None}
