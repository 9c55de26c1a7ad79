"""The generic list engine behind every SageMaker List* operation.

It reads the request members the List* operations share (NextToken, MaxResults, SortBy,
SortOrder, NameContains, StatusEquals, CreationTime/CreatedAfter/Before,
LastModifiedTimeAfter/Before), applies each operation's documented defaults, asks the store for
one keyset page and wraps the position in an opaque, signed NextToken. A token is bound to the
account, region, resource kind and filters it was issued for; anything else is a
ValidationException, never a crash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.resources.records import ResourceRecord
from sagestack.spec.errors import ValidationException
from sagestack.spec.pagination import InvalidToken, TokenCodec
from sagestack.store.base import ListQuery, ResourceStore

INVALID_TOKEN = (
    "Invalid pagination token: NextToken is malformed, expired, "
    "or was issued for a different request."
)

_TIME_FILTERS = {
    "CreationTimeAfter": "created_after",
    "CreatedAfter": "created_after",
    "CreationTimeBefore": "created_before",
    "CreatedBefore": "created_before",
    "LastModifiedTimeAfter": "modified_after",
    "LastModifiedTimeBefore": "modified_before",
}


@dataclass(frozen=True, slots=True)
class ListRules:
    """What one List* operation lists and its documented defaults."""

    kind: str
    default_sort_by: str = "CreationTime"
    default_sort_order: str = "Descending"
    default_max_results: int = 10
    #: SortBy values of the operation → the store's sort column.
    sort_columns: Mapping[str, str] = field(
        default_factory=lambda: {"Name": "Name", "CreationTime": "CreationTime"}
    )


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def list_records(
    store: ResourceStore,
    codec: TokenCodec,
    ctx: RequestContext,
    request: Mapping[str, Any],
    rules: ListRules,
) -> tuple[list[ResourceRecord], str | None]:
    """One page of records for a List* request, and the NextToken of the next page (or None)."""
    sort_by = request.get("SortBy", rules.default_sort_by)
    filters: dict[str, Any] = {
        "sort_by": rules.sort_columns.get(sort_by, sort_by),
        "ascending": request.get("SortOrder", rules.default_sort_order) == "Ascending",
        "name_contains": request.get("NameContains"),
        "status_equals": request.get("StatusEquals"),
    }
    for member, name in _TIME_FILTERS.items():
        if request.get(member) is not None:
            filters[name] = _epoch(request[member])
    fingerprint = _fingerprint(ctx, rules.kind, filters)
    after = None
    token = request.get("NextToken")
    if token:
        after = _decode_cursor(codec, token, fingerprint)
    limit = request.get("MaxResults") or rules.default_max_results
    page = store.list(
        rules.kind, ctx.account, ctx.region, ListQuery(limit=limit, after=after, **filters)
    )
    next_token = None
    if page.next_cursor is not None:
        next_token = codec.encode({"c": list(page.next_cursor), "f": fingerprint})
    return page.records, next_token


def _fingerprint(ctx: RequestContext, kind: str, filters: Mapping[str, Any]) -> str:
    scope = json.dumps([ctx.account, ctx.region, kind, sorted(filters.items())], default=str)
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


def _decode_cursor(codec: TokenCodec, token: str, fingerprint: str) -> tuple[str | float, str]:
    try:
        payload = codec.decode(token)
    except InvalidToken:
        payload = {}
    cursor = payload.get("c")
    if (
        payload.get("f") != fingerprint
        or not isinstance(cursor, list)
        or len(cursor) != 2
        or not isinstance(cursor[0], str | float | int)
        or not isinstance(cursor[1], str)
    ):
        raise ValidationException(INVALID_TOKEN)
    return cursor[0], cursor[1]
