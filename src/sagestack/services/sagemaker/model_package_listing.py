"""ListModelPackages' page: its filters (approval status, group, versioned or not) are the
registry's own, which the generic list engine does not know, so the page is cut here: keyset
over (sort value, lower-cased name), the position in a signed token bound to the filters."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.resources.model_packages import GROUP_KIND, PACKAGE_KIND
from sagestack.resources.records import ResourceRecord
from sagestack.services.sagemaker.listing import INVALID_TOKEN
from sagestack.services.sagemaker.model_registry import all_records, name_of
from sagestack.spec.errors import ValidationException
from sagestack.spec.pagination import InvalidToken, TokenCodec
from sagestack.store.base import ResourceStore


def filtered_page(
    store: ResourceStore, tokens: TokenCodec, ctx: RequestContext, request: Mapping[str, Any]
) -> tuple[list[ResourceRecord], str | None]:
    """One page of ListModelPackages and the NextToken of the next (or None). ModelPackageType
    defaults to Unversioned (the API's documented default), except that naming a group lists
    its versions."""
    group_ref = request.get("ModelPackageGroupName")
    group = name_of(group_ref, GROUP_KIND) if group_ref else None
    sort_by = request.get("SortBy", "CreationTime")
    descending = request.get("SortOrder", "Ascending") == "Descending"
    filters = {
        "approval": request.get("ModelApprovalStatus"),
        "group": (group or "").lower() or None,
        "type": request.get("ModelPackageType") or ("Both" if group else "Unversioned"),
        "name": (request.get("NameContains") or "").lower() or None,
        "after": _epoch(request.get("CreationTimeAfter")),
        "before": _epoch(request.get("CreationTimeBefore")),
        "sort": sort_by,
        "descending": descending,
    }
    fingerprint = hashlib.sha256(
        json.dumps([ctx.account, ctx.region, sorted(filters.items())], default=str).encode()
    ).hexdigest()[:16]
    matching = [
        record
        for record in all_records(store, PACKAGE_KIND, ctx.account, ctx.region)
        if _matches(record, filters)
    ]

    def key(record: ResourceRecord) -> tuple[Any, str]:
        value: Any = record.name.lower() if sort_by == "Name" else record.creation_time
        return value, record.name.lower()

    matching.sort(key=key, reverse=descending)
    if request.get("NextToken"):
        last = _cursor(tokens, request["NextToken"], fingerprint)
        matching = [r for r in matching if (key(r) < last if descending else key(r) > last)]
    limit = request.get("MaxResults") or 10
    page = matching[:limit]
    next_token = None
    if len(matching) > limit:
        next_token = tokens.encode({"c": list(key(page[-1])), "f": fingerprint})
    return page, next_token


def _cursor(tokens: TokenCodec, token: str, fingerprint: str) -> tuple[Any, str]:
    try:
        payload = tokens.decode(token)
    except InvalidToken:
        payload = {}
    cursor = payload.get("c")
    if payload.get("f") != fingerprint or not isinstance(cursor, list) or len(cursor) != 2:
        raise ValidationException(INVALID_TOKEN)
    return cursor[0], str(cursor[1])


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    return float(value.timestamp()) if hasattr(value, "timestamp") else float(value)


def _matches(record: ResourceRecord, filters: Mapping[str, Any]) -> bool:
    spec = record.spec
    versioned = "ModelPackageVersion" in spec
    if filters["type"] == "Versioned" and not versioned:
        return False
    if filters["type"] == "Unversioned" and versioned:
        return False
    if filters["group"] and str(spec.get("ModelPackageGroupName", "")).lower() != filters["group"]:
        return False
    if filters["approval"] and spec.get("ModelApprovalStatus") != filters["approval"]:
        return False
    if filters["name"] and filters["name"] not in record.name.lower():
        return False
    if filters["after"] is not None and record.creation_time <= filters["after"]:
        return False
    return filters["before"] is None or record.creation_time < filters["before"]
