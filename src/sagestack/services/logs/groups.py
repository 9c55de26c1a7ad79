"""Log groups: create, describe, delete, retention, deletion protection and tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.services.logs.backend import LogGroupView
from sagestack.services.logs.base import (
    InvalidParameterException,
    LogsApiBase,
    TooManyTagsException,
    already_exists,
    group_arn,
    group_from_arn,
    not_found,
    or_not_found,
)
from sagestack.spec.errors import ServiceError, ValidationException
from sagestack.store.base import RecordExists

#: PutRetentionPolicy's allowed retentionInDays, in AWS's order.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)  # fmt: skip
MAX_TAGS = 50
DEFAULT_LIMIT = 50
#: Asking for either cheaper class lists both, as CloudWatch does.
_CLASS_FILTERS = {
    "INFREQUENT_ACCESS": ["ESSENTIALS", "INFREQUENT_ACCESS"],
    "ESSENTIALS": ["ESSENTIALS", "INFREQUENT_ACCESS"],
}


def described_group(ctx: RequestContext, group: LogGroupView) -> dict[str, Any]:
    arn = group_arn(ctx, group.name)
    shown: dict[str, Any] = {
        "logGroupName": group.name,
        "creationTime": group.creation_time,
        "retentionInDays": group.retention_days,
        "metricFilterCount": 0,
        "arn": f"{arn}:*",
        "storedBytes": group.stored_bytes,
        "kmsKeyId": group.kms_key_id,
        "logGroupClass": group.log_group_class,
        "logGroupArn": arn,
        "deletionProtectionEnabled": group.deletion_protection,
    }
    return {key: value for key, value in shown.items() if value is not None}


class LogGroupsOps(LogsApiBase):
    @operation("CreateLogGroup")
    def create_log_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["logGroupName"]
        if name.startswith("aws/"):
            raise InvalidParameterException("Log group names can't start with the string aws/")
        try:
            self._logs.create_group(
                ctx.account,
                ctx.region,
                name,
                creation_time=round(ctx.now * 1000),
                tags=request.get("tags"),
                kms_key_id=request.get("kmsKeyId"),
                log_group_class=request.get("logGroupClass", "STANDARD"),
                deletion_protection=request.get("deletionProtectionEnabled", False),
            )
        except RecordExists as error:
            raise already_exists(str(error)) from None
        return {}

    @operation("DescribeLogGroups")
    def describe_log_groups(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        prefix = request.get("logGroupNamePrefix")
        contains = request.get("logGroupNamePattern") or None
        if prefix is not None and contains is not None:
            raise InvalidParameterException(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        identifiers = request.get("logGroupIdentifiers")
        names = None
        if identifiers is not None:
            if prefix is not None or contains is not None:
                raise InvalidParameterException(
                    "logGroupIdentifiers cannot be combined with a name prefix or pattern."
                )
            names = sorted({self._identified(ctx, identifier) for identifier in identifiers})
        classes = None
        if "logGroupClass" in request:
            wanted = request["logGroupClass"]
            classes = _CLASS_FILTERS.get(wanted, [wanted])
        query = {"p": prefix, "s": contains, "n": names, "k": classes}
        after = self.page_cursor("groups", query, request.get("nextToken"))
        if after is not None and not isinstance(after, str):
            raise InvalidParameterException("The specified nextToken is invalid.")
        limit = request.get("limit", DEFAULT_LIMIT)
        groups = self._logs.list_groups(
            ctx.account,
            ctx.region,
            limit=limit + 1,
            prefix=prefix,
            contains=contains,
            names=names,
            classes=classes,
            after=after,
        )
        page = list(groups[:limit])
        shown = [described_group(ctx, group) for group in page]
        if contains is not None:  # a pattern search answers with these three members only
            keep = ("logGroupName", "creationTime", "arn")
            shown = [{key: item[key] for key in keep} for item in shown]
        output: dict[str, Any] = {"logGroups": shown}
        if len(groups) > limit:
            output["nextToken"] = self.page_token("groups", query, page[-1].name)
        return output

    def _identified(self, ctx: RequestContext, identifier: str) -> str:
        if not identifier.startswith("arn:"):
            return identifier
        return group_from_arn(ctx, identifier) or identifier

    @operation("DeleteLogGroup")
    def delete_log_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["logGroupName"]
        group = self._require_group(ctx, name)
        if group.deletion_protection:
            raise ValidationException(
                f"Log group {name} has deletion protection enabled; disable it before deleting."
            )
        or_not_found(self._logs.delete_group, ctx.account, ctx.region, name)
        return {}

    @operation("PutRetentionPolicy")
    def put_retention_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        days = request["retentionInDays"]
        if days not in RETENTION_DAYS:
            allowed = ", ".join(str(value) for value in RETENTION_DAYS)
            raise InvalidParameterException(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{allowed}]"
            )
        or_not_found(
            self._logs.set_retention, ctx.account, ctx.region, request["logGroupName"], days
        )
        return {}

    @operation("DeleteRetentionPolicy")
    def delete_retention_policy(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        or_not_found(
            self._logs.set_retention, ctx.account, ctx.region, request["logGroupName"], None
        )
        return {}

    @operation("PutLogGroupDeletionProtection")
    def put_log_group_deletion_protection(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        name = self.group_named(ctx, {"logGroupIdentifier": request["logGroupIdentifier"]})
        enabled = request["deletionProtectionEnabled"]
        or_not_found(self._logs.set_deletion_protection, ctx.account, ctx.region, name, enabled)
        return {}

    # -- tags -----------------------------------------------------------------------------

    @operation("TagResource")
    def tag_resource(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        arn = request["resourceArn"]
        name = self._tagged_group(ctx, arn)
        self._add_tags(ctx, name, request["tags"], TooManyTagsException, arn)
        return {}

    @operation("UntagResource")
    def untag_resource(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = self._tagged_group(ctx, request["resourceArn"])
        or_not_found(self._logs.untag_group, ctx.account, ctx.region, name, request["tagKeys"])
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        name = self._tagged_group(ctx, request["resourceArn"])
        return {"tags": or_not_found(self._logs.tags, ctx.account, ctx.region, name)}

    @operation("TagLogGroup")
    def tag_log_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        self._add_tags(ctx, request["logGroupName"], request["tags"], InvalidParameterException)
        return {}

    @operation("UntagLogGroup")
    def untag_log_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["logGroupName"]
        or_not_found(self._logs.untag_group, ctx.account, ctx.region, name, request["tags"])
        return {}

    @operation("ListTagsLogGroup")
    def list_tags_log_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["logGroupName"]
        return {"tags": or_not_found(self._logs.tags, ctx.account, ctx.region, name)}

    def _tagged_group(self, ctx: RequestContext, arn: str) -> str:
        name = group_from_arn(ctx, arn)
        if name is None:
            raise not_found("resource")
        return name

    def _add_tags(
        self,
        ctx: RequestContext,
        name: str,
        tags: Mapping[str, str],
        too_many: type[ServiceError],
        arn: str | None = None,
    ) -> None:
        existing = or_not_found(self._logs.tags, ctx.account, ctx.region, name)
        if len(existing.keys() | tags.keys()) > MAX_TAGS:
            fields = {} if arn is None else {"resourceName": arn}
            raise too_many(f"A resource can have no more than {MAX_TAGS} tags.", fields=fields)
        or_not_found(self._logs.tag_group, ctx.account, ctx.region, name, tags)

    def _require_group(self, ctx: RequestContext, name: str) -> LogGroupView:
        group = self._logs.get_group(ctx.account, ctx.region, name)
        if group is None:
            raise not_found("log group")
        return group
