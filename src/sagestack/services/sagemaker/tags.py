"""AddTags, ListTags and DeleteTags on the ARN of any resource sagestack holds, with AWS limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.services.sagemaker.listing import INVALID_TOKEN
from sagestack.spec.errors import ValidationException
from sagestack.spec.pagination import InvalidToken, TokenCodec
from sagestack.store.base import RecordNotFound, ResourceStore

MAX_TAGS_PER_RESOURCE = 50
RESERVED_PREFIX = "aws:"
DEFAULT_LIST_TAGS = 50


def checked_tags(tags: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
    """Tags as (key, value) pairs after AWS's per-request rules; the last value of a key wins."""
    pairs: dict[str, str] = {}
    for tag in tags:
        key = tag["Key"]
        if key.lower().startswith(RESERVED_PREFIX):
            raise ValidationException(
                f"Tag keys beginning with '{RESERVED_PREFIX}' are reserved for system use: {key}"
            )
        pairs[key] = tag.get("Value", "")
    if len(pairs) > MAX_TAGS_PER_RESOURCE:
        raise ValidationException(
            f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; {len(pairs)} were given."
        )
    return list(pairs.items())


class TagsApi:
    def __init__(self, store: ResourceStore, tokens: TokenCodec) -> None:
        self._store = store
        self._tokens = tokens

    def _require_resource(self, ctx: RequestContext, resource_arn: str) -> None:
        record = self._store.get_by_arn(resource_arn)
        if record is None or (record.account, record.region) != (ctx.account, ctx.region):
            raise ValidationException(f"Resource {resource_arn} does not exist.")

    @operation("AddTags")
    def add_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        resource_arn = request["ResourceArn"]
        self._require_resource(ctx, resource_arn)
        new = checked_tags(request["Tags"])
        existing = {key for key, _ in self._store.tags(resource_arn)}
        total = len(existing | {key for key, _ in new})
        if total > MAX_TAGS_PER_RESOURCE:
            raise ValidationException(
                f"Adding these tags would give {resource_arn} {total} tags; "
                f"a resource can have at most {MAX_TAGS_PER_RESOURCE}."
            )
        try:
            self._store.put_tags(resource_arn, new)
        except RecordNotFound:  # deleted since it was checked
            raise ValidationException(f"Resource {resource_arn} does not exist.") from None
        return {"Tags": [{"Key": key, "Value": value} for key, value in new]}

    @operation("ListTags")
    def list_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        resource_arn = request["ResourceArn"]
        self._require_resource(ctx, resource_arn)
        tags = self._store.tags(resource_arn)
        start = 0
        if request.get("NextToken"):
            start = self._start_of(request["NextToken"], resource_arn)
        limit = request.get("MaxResults") or DEFAULT_LIST_TAGS
        page = tags[start : start + limit]
        output: dict[str, Any] = {"Tags": [{"Key": k, "Value": v} for k, v in page]}
        if start + limit < len(tags):
            output["NextToken"] = self._tokens.encode({"t": resource_arn, "i": start + limit})
        return output

    def _start_of(self, token: str, resource_arn: str) -> int:
        try:
            payload = self._tokens.decode(token)
        except InvalidToken:
            payload = {}
        start = payload.get("i")
        if payload.get("t") != resource_arn or not isinstance(start, int) or start < 0:
            raise ValidationException(INVALID_TOKEN)
        return start

    @operation("DeleteTags")
    def delete_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        resource_arn = request["ResourceArn"]
        self._require_resource(ctx, resource_arn)
        self._store.remove_tags(resource_arn, request["TagKeys"])
        return {}
