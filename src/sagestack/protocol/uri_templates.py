"""REST request routing: which operation an HTTP method, path and query string name.

A `requestUri` such as `/{Bucket}/{Key+}?uploads` compiles to a path pattern (`{Name}` is one
segment, `{Name+}` the greedy rest) plus literal query keys. Among the operations that match,
the one with the most literal query keys wins; then one whose required header and query members
the request carries all of; then the most of those; then the most optional ones present; then a
non-deprecated one; then model order.
Labels are percent-decoded exactly once, after matching on the raw path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from botocore.model import OperationModel

from sagestack.protocol.messages import HttpRequest

_LABEL = re.compile(r"\{([^}]+)\}")


def decode_label(raw: str) -> str:
    """A percent-encoded path label as text (UTF-8), decoded once."""
    try:
        data = raw.encode("latin-1")
    except UnicodeEncodeError:
        data = raw.encode()
    return unquote_to_bytes(data).decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class UriTemplate:
    operation: OperationModel
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    #: Literal query parts of the template: key, and the value it must have (None: any).
    query: tuple[tuple[str, str | None], ...]
    required_headers: tuple[str, ...]
    required_query: tuple[str, ...]
    optional_headers: tuple[str, ...]
    optional_query: tuple[str, ...]

    @classmethod
    def compile(cls, operation: OperationModel) -> UriTemplate:
        path, _, query = operation.http["requestUri"].partition("?")
        pattern, labels, position, greedy_label = "", [], 0, False
        for match in _LABEL.finditer(path):
            pattern += re.escape(path[position : match.start()])
            name = match.group(1)
            greedy = name.endswith("+")
            greedy_label = greedy_label or greedy
            labels.append(name.rstrip("+"))
            pattern += f"(?P<g{len(labels)}>.+)" if greedy else f"(?P<g{len(labels)}>[^/]+)"
            position = match.end()
        pattern += re.escape(path[position:])
        if not greedy_label:  # `/bucket/` names the same resource as `/bucket`
            pattern = pattern.rstrip("/") + "/?"
        literal: list[tuple[str, str | None]] = []
        for part in filter(None, query.split("&")):
            key, has_value, value = part.partition("=")
            literal.append((key, value if has_value else None))
        bindings = _bindings(operation)
        return cls(
            operation,
            re.compile(pattern + r"\Z"),
            tuple(labels),
            tuple(literal),
            *bindings,
        )

    def match(self, request: HttpRequest) -> dict[str, str] | None:
        """The decoded path labels, or None when the path or literal query does not fit."""
        for key, value in self.query:
            found = request.query_value(key)
            if found is None or (value is not None and found != value):
                return None
        matched = self.pattern.match(request.path)
        if matched is None:
            return None
        return {
            label: decode_label(raw)
            for label, raw in zip(self.labels, matched.groups(), strict=True)
        }

    def rank(self, request: HttpRequest) -> tuple[int, int, int, int, int]:
        headers, query_keys = request.headers, {key for key, _ in request.query}
        required = sum(h in headers for h in self.required_headers) + sum(
            q in query_keys for q in self.required_query
        )
        optional = sum(h in headers for h in self.optional_headers) + sum(
            q in query_keys for q in self.optional_query
        )
        complete = required == len(self.required_headers) + len(self.required_query)
        return len(self.query), int(complete), required, optional, int(not _deprecated(self))


def _deprecated(template: UriTemplate) -> bool:
    return bool(template.operation.deprecated)


def _bindings(
    operation: OperationModel,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    shape = operation.input_shape
    required_headers: list[str] = []
    required_query: list[str] = []
    optional_headers: list[str] = []
    optional_query: list[str] = []
    if shape is not None:
        required = set(shape.required_members)
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "header":
                target = required_headers if name in required else optional_headers
                target.append(wire.lower())
            elif location == "querystring" and member.type_name != "map":
                (required_query if name in required else optional_query).append(wire)
    return (
        tuple(required_headers),
        tuple(required_query),
        tuple(optional_headers),
        tuple(optional_query),
    )


class RestRouter:
    """The operations of one REST service, grouped by HTTP method."""

    def __init__(self, operations: list[OperationModel]) -> None:
        self._by_method: dict[str, list[UriTemplate]] = {}
        self.templates: dict[str, UriTemplate] = {}
        for operation in operations:
            template = UriTemplate.compile(operation)
            self.templates[operation.name] = template
            self._by_method.setdefault(operation.http.get("method", "POST"), []).append(template)

    def find(self, request: HttpRequest) -> OperationModel | None:
        """The best operation for `request`, or None when no template of its method fits."""
        best: UriTemplate | None = None
        best_rank = (-1, -1, -1, -1, -1)
        for template in self._by_method.get(request.method, ()):
            if len(template.query) < best_rank[0]:
                continue
            if template.match(request) is None:
                continue
            rank = template.rank(request)
            if rank > best_rank:
                best, best_rank = template, rank
        return best.operation if best is not None else None

    def path_matches_another_method(self, request: HttpRequest) -> bool:
        return any(
            template.match(request) is not None
            for method, templates in self._by_method.items()
            if method != request.method
            for template in templates
        )
