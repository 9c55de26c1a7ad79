"""Search and GetSearchSuggestions over every resource kind sagestack holds.

A resource type joins by one `SearchSource` in the mapping app.py gives `SearchApi`: the store
kind it reads, the SearchRecord member it fills and its renderer (the Describe output's
`described(record)`, so a Search result and a Describe always agree). A ResourceType of the
enum with no source has no resources in sagestack, so it finds nothing.

Property names are dotted paths into the rendered record (`TrainingJobName`,
`ResourceConfig.InstanceType`, `ProductionVariants.VariantName`: a list matches when any of its
items does), plus SageMaker's three special forms: `Tags.<key>`, `HyperParameters.<name>` and
`Metrics.<name>` (a training job's final metric values). Numbers and times compare as numbers
(a time Value may be epoch seconds or ISO 8601); the other operators compare text exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.resources.records import ResourceRecord
from sagestack.services.sagemaker.listing import INVALID_TOKEN
from sagestack.spec.errors import ValidationException
from sagestack.spec.pagination import InvalidToken, TokenCodec
from sagestack.store.base import ListQuery, ResourceStore

MAX_CONDITIONS = 50
DEFAULT_MAX_RESULTS = 10
#: Names that may carry more than one Contains (SearchExpression's docs).
_MULTI_CONTAINS_PREFIXES = (
    "Experiment.DisplayName",
    "Experiment.ExperimentName",
    "Experiment.Tags",
    "Trial.DisplayName",
    "Trial.TrialName",
    "Trial.Tags",
    "TrialComponent.DisplayName",
    "TrialComponent.TrialComponentName",
    "TrialComponent.Tags",
    "TrialComponent.InputArtifacts",
    "TrialComponent.OutputArtifacts",
)
_NO_VALUE_OPERATORS = frozenset({"Exists", "NotExists"})


@dataclass(frozen=True, slots=True)
class SearchSource:
    """One searchable resource type: the store `kind`, the SearchRecord `member` its results
    go in, the renderer of a record, and `wrap`, the member of that structure the rendered
    record goes under when it is nested (a Model result is {"Model": {...}})."""

    kind: str
    member: str
    render: Callable[[ResourceRecord], dict[str, Any]]
    wrap: str | None = None


class SearchApi:
    def __init__(
        self, store: ResourceStore, tokens: TokenCodec, sources: Mapping[str, SearchSource]
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._sources = sources

    @operation("Search")
    def search(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        expression = request.get("SearchExpression")
        if expression is not None:
            _check_expression(expression)
        source = self._sources.get(request["Resource"])
        fingerprint = _fingerprint(ctx, request)
        start = 0
        if request.get("NextToken"):
            start = self._offset(request["NextToken"], fingerprint)
        if source is None:
            return {"Results": [], "TotalHits": {"Value": 0, "Relation": "EqualTo"}}
        found = []
        for record in self._records(ctx, source.kind):
            document = self._document(source, record)
            if expression is None or _matches(expression, document):
                found.append((record, document))
        found.sort(
            key=_sort_key(request.get("SortBy")),
            reverse=request.get("SortOrder", "Descending") == "Descending",
        )
        limit = request.get("MaxResults") or DEFAULT_MAX_RESULTS
        page = found[start : start + limit]
        output: dict[str, Any] = {
            "Results": [{source.member: document} for _, document in page],
            "TotalHits": {"Value": len(found), "Relation": "EqualTo"},
        }
        if start + limit < len(found):
            output["NextToken"] = self._tokens.encode({"o": start + limit, "f": fingerprint})
        return output

    @operation("GetSearchSuggestions")
    def get_search_suggestions(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        hint = (
            request.get("SuggestionQuery", {}).get("PropertyNameQuery", {}).get("PropertyNameHint")
        )
        source = self._sources.get(request["Resource"])
        names: set[str] = set()
        if source is not None:
            for record in self._records(ctx, source.kind):
                names.update(_property_names(self._document(source, record)))
        matching = sorted(n for n in names if hint is None or n.startswith(hint))
        return {"PropertyNameSuggestions": [{"PropertyName": n} for n in matching]}

    def _records(self, ctx: RequestContext, kind: str) -> Iterator[ResourceRecord]:
        after = None
        while True:
            page = self._store.list(
                kind, ctx.account, ctx.region, ListQuery(limit=500, after=after, ascending=True)
            )
            yield from page.records
            if page.next_cursor is None:
                return
            after = page.next_cursor

    def _document(self, source: SearchSource, record: ResourceRecord) -> dict[str, Any]:
        rendered = source.render(record)
        tags = self._store.tags(record.arn)
        rendered["Tags"] = [{"Key": k, "Value": v} for k, v in tags]
        return {source.wrap: rendered} if source.wrap else rendered

    def _offset(self, token: str, fingerprint: str) -> int:
        try:
            payload = self._tokens.decode(token)
        except InvalidToken:
            payload = {}
        offset = payload.get("o")
        if payload.get("f") != fingerprint or not isinstance(offset, int) or offset < 0:
            raise ValidationException(INVALID_TOKEN)
        return offset


def _fingerprint(ctx: RequestContext, request: Mapping[str, Any]) -> str:
    scope = {k: v for k, v in request.items() if k not in ("NextToken", "MaxResults")}
    text = json.dumps([ctx.account, ctx.region, scope], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_expression(expression: Mapping[str, Any]) -> None:
    conditions, contains = _counts(expression)
    if conditions == 0:
        raise ValidationException(
            "A SearchExpression must contain at least one subexpression, filter, or nested filter."
        )
    if conditions > MAX_CONDITIONS:
        raise ValidationException(
            f"The SearchExpression contains {conditions} filters, nested filters and "
            f"subexpressions; at most {MAX_CONDITIONS} are allowed."
        )
    if contains > 1:
        raise ValidationException("'CONTAINS' operator usage limit of 1 exceeded.")


def _counts(expression: Mapping[str, Any]) -> tuple[int, int]:
    filters = list(expression.get("Filters", []))
    nested = expression.get("NestedFilters", [])
    subexpressions = expression.get("SubExpressions", [])
    for group in nested:
        filters += group["Filters"]
    conditions = len(expression.get("Filters", [])) + len(nested) + len(subexpressions)
    contains = 0
    for item in filters:
        _check_filter(item)
        if item.get("Operator") == "Contains" and not item["Name"].startswith(
            _MULTI_CONTAINS_PREFIXES
        ):
            contains += 1
    for sub in subexpressions:
        more, more_contains = _counts(sub)
        conditions += more
        contains += more_contains
    return conditions, contains


def _check_filter(item: Mapping[str, Any]) -> None:
    operator = item.get("Operator", "Equals")
    if operator not in _NO_VALUE_OPERATORS and item.get("Value") is None:
        raise ValidationException(f"Filter {item['Name']} with operator {operator} needs a Value.")


def _matches(expression: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    results: list[bool] = [_filter_holds(f, document) for f in expression.get("Filters", [])]
    for group in expression.get("NestedFilters", []):
        results.append(_nested_holds(group, document))
    for sub in expression.get("SubExpressions", []):
        results.append(_matches(sub, document))
    if expression.get("Operator", "And") == "Or":
        return any(results)
    return all(results)


def _nested_holds(group: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    prefix = group["NestedPropertyName"]
    for item in _values(document, prefix.split(".")):
        element = {prefix.rsplit(".", 1)[-1]: item}
        if all(
            _filter_holds({**f, "Name": _nested_name(f["Name"], prefix)}, element)
            for f in group["Filters"]
        ):
            return True
    return False


def _nested_name(name: str, prefix: str) -> str:
    last = prefix.rsplit(".", 1)[-1]
    if name.startswith(prefix + "."):
        return last + name[len(prefix) :]
    return f"{last}.{name}"


def _filter_holds(item: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    operator = item.get("Operator", "Equals")
    values = _values(document, item["Name"].split("."))
    if operator == "Exists":
        return bool(values)
    if operator == "NotExists":
        return not values
    wanted = str(item["Value"])
    if operator == "NotEquals":
        return not any(_equals(v, wanted) for v in values)
    if operator == "Equals":
        return any(_equals(v, wanted) for v in values)
    if operator == "Contains":
        return any(isinstance(v, str) and wanted in v for v in values)
    if operator == "In":
        options = [option.strip() for option in wanted.split(",")]
        return any(isinstance(v, str) and v in options for v in values)
    bound = _number(wanted)
    if bound is None:
        raise ValidationException(
            f"Operator {operator} needs a numeric or date Value; {wanted!r} is neither."
        )
    compare: Callable[[float], bool] = {
        "GreaterThan": lambda v: v > bound,
        "GreaterThanOrEqualTo": lambda v: v >= bound,
        "LessThan": lambda v: v < bound,
        "LessThanOrEqualTo": lambda v: v <= bound,
    }[operator]
    return any(n is not None and compare(n) for n in map(_number, values))


def _equals(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted.lower() == ("true" if value else "false")
    if isinstance(value, int | float):
        number = _number(wanted)
        return number is not None and float(value) == number
    if isinstance(value, str):
        if value == wanted:
            return True
        left, right = _number(value), _number(wanted)
        return left is not None and right is not None and left == right
    return False


def _number(value: Any) -> float | None:
    """A number, a numeric string, or an ISO 8601 time (as epoch seconds); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _values(document: Any, parts: Sequence[str]) -> list[Any]:
    """Every value at the dotted path `parts`, fanning out over lists."""
    if not parts:
        if isinstance(document, list):
            return [v for item in document for v in _values(item, parts)]
        return [] if document is None else [document]
    if isinstance(document, list):
        return [v for item in document for v in _values(item, parts)]
    if not isinstance(document, Mapping):
        return []
    head, rest = parts[0], parts[1:]
    if head == "Tags" and rest and isinstance(document.get("Tags"), list):
        key = ".".join(rest)
        return [t["Value"] for t in document["Tags"] if t.get("Key") == key]
    if head == "Metrics" and rest and "FinalMetricDataList" in document:
        metric = ".".join(rest)
        return [m["Value"] for m in document["FinalMetricDataList"] if m["MetricName"] == metric]
    if head not in document:
        return []
    return _values(document[head], rest)


def _sort_key(sort_by: str | None) -> Callable[[tuple[ResourceRecord, Any]], tuple[Any, ...]]:
    def key(entry: tuple[ResourceRecord, Any]) -> tuple[Any, ...]:
        record, document = entry
        if sort_by is None:
            return (1, record.last_modified_time, "", record.arn)
        found = _values(document, sort_by.split("."))
        if not found:
            return (0, 0.0, "", record.arn)  # missing values sort last when descending
        number = _number(found[0]) if not isinstance(found[0], str) else None
        if number is not None:
            return (1, number, "", record.arn)
        return (1, 0.0, str(found[0]), record.arn)

    return key


def _property_names(document: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in document.items():
        name = f"{prefix}{key}"
        if key == "Tags" and isinstance(value, list):
            yield from (f"{name}.{t['Key']}" for t in value)
            continue
        if key == "FinalMetricDataList" and isinstance(value, list):
            yield from (f"{prefix}Metrics.{m['MetricName']}" for m in value)
        yield name
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Mapping):
                yield from _property_names(item, f"{name}.")
