"""What a transform-job record holds, shared by its API (services) and its controller (control).

`spec` is the CreateTransformJob request as validated (minus Tags), plus `Model`: the spec of
the model named by ModelName as it was when the job was created (the job runs that model even if
it is deleted meanwhile, as SageMaker does). `state` is what the controller observed, in
DescribeTransformJob's member names where it has one:

- `TransformStartTime`, `TransformEndTime`, `FailureReason`;
- `Resolved`: MaxConcurrentTransforms, MaxPayloadInMB and BatchStrategy as the job ran them
  (the request's values, or the model server's /execution-parameters, or SageMaker's defaults);
  DescribeTransformJob shows them where the request left them out;
- `StopRequested`: True once StopTransformJob was called (internal);
- `Workloads`: the executor's identities of the job's replicas (internal).

Every status change goes through `advance`, which stamps the start and end times.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sagestack.resources.lifecycles import transition
from sagestack.resources.records import Event, ResourceRecord

KIND = "transform-job"
LOG_GROUP = "/aws/sagemaker/TransformJobs"

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
#: `state` members the controller keeps for itself; never rendered.
INTERNAL_STATE = frozenset({"StopRequested", "Workloads", "Resolved"})


def advance(
    record: ResourceRecord,
    status: str,
    *,
    now: float,
    reason: str | None = None,
    **state: Any,
) -> tuple[ResourceRecord, Event]:
    """The record moved to `status` (an edge of the job lifecycle) with `state` members set;
    a terminal status stamps TransformEndTime. Pure."""
    changed, event = transition(record, status, now=now, reason=reason)
    merged = {**changed.state, **state}
    if status in TERMINAL:
        merged.setdefault("TransformEndTime", now)
    return dataclasses.replace(changed, state=merged), event


# -- DataProcessing's JSONPath ------------------------------------------------------------------
#
# The subset SageMaker documents ("Supported JSONPath Operators"): `$`, `.name`, `*` / `[*]`,
# `['name', ...]`, `[n, ...]` and `[start:end]`, combinable as in `$[0,5:]`. A selector that names
# one member or index yields that value; several (or a wildcard or slice) yield a list, or, for
# names, an object with just those members (`$['id','SageMakerOutput']`). It lives here, among the
# resources, because the API checks expressions at create time and the controller applies them.

Selector = str | int | slice


class JsonPathError(ValueError):
    """An expression outside the supported subset, or one that does not fit the data."""


@dataclass(frozen=True, slots=True)
class Segment:
    selectors: tuple[Selector, ...]
    #: Whether the segment yields one value (one name or index) rather than a collection.
    single: bool


def parse_path(expression: str) -> tuple[Segment, ...]:
    text = expression.strip()
    if not text.startswith("$"):
        raise JsonPathError("a JSONPath expression starts with $")
    segments: list[Segment] = []
    position = 1
    while position < len(text):
        if text[position] == ".":
            end = position + 1
            while end < len(text) and text[end] not in ".[":
                end += 1
            name = text[position + 1 : end]
            if not name:
                raise JsonPathError(f"a member name is missing at position {position + 1}")
            segments.append(Segment(("*",) if name == "*" else (name,), name != "*"))
            position = end
        elif text[position] == "[":
            end = _closing(text, position)
            selectors = tuple(_selector(part) for part in _split(text[position + 1 : end]))
            single = len(selectors) == 1 and not isinstance(selectors[0], slice)
            segments.append(Segment(selectors, single and selectors[0] != "*"))
            position = end + 1
        else:
            raise JsonPathError(f"unexpected {text[position]!r} at position {position + 1}")
    return tuple(segments)


def _closing(text: str, start: int) -> int:
    quote = None
    for index in range(start + 1, len(text)):
        char = text[index]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "]":
            return index
    raise JsonPathError("a [ has no closing ]")


def _split(inner: str) -> list[str]:
    parts, current, quote = [], "", None
    for char in inner:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return [part.strip() for part in parts]


def _selector(part: str) -> Selector:
    if not part:
        raise JsonPathError("an empty selector")
    if part == "*":
        return "*"
    if part[0] in "'\"":
        if len(part) < 2 or part[-1] != part[0]:
            raise JsonPathError(f"unterminated name {part}")
        return part[1:-1]
    try:
        if ":" in part:
            bounds = part.split(":")
            if len(bounds) != 2:
                raise JsonPathError(f"unsupported slice {part} (no step)")
            start, stop = (int(b) if b.strip() else None for b in bounds)
            return slice(start, stop)
        return int(part)
    except ValueError:
        raise JsonPathError(f"unsupported selector {part}") from None


def select(value: Any, segments: tuple[Segment, ...]) -> Any:
    """The part of `value` the parsed expression names; JsonPathError when it is not there."""
    for segment in segments:
        value = _apply(value, segment)
    return value


def _apply(value: Any, segment: Segment) -> Any:
    if isinstance(value, dict):
        if segment.selectors == ("*",):
            return list(value.values())
        names = [s for s in segment.selectors if isinstance(s, str)]
        if len(names) != len(segment.selectors):
            raise JsonPathError("an index cannot select from a JSON object")
        missing = [name for name in names if name not in value]
        if missing:
            raise JsonPathError(f"the record has no member {missing[0]!r}")
        return value[names[0]] if segment.single else {name: value[name] for name in names}
    if isinstance(value, list):
        picked: list[Any] = []
        for selector in segment.selectors:
            if selector == "*":
                picked.extend(value)
            elif isinstance(selector, slice):
                picked.extend(value[selector])
            elif isinstance(selector, int):
                if not -len(value) <= selector < len(value):
                    raise JsonPathError(
                        f"index {selector} is outside the record's {len(value)} fields"
                    )
                picked.append(value[selector])
            else:
                raise JsonPathError(f"a name ({selector!r}) cannot select from a JSON array")
        return picked[0] if segment.single else picked
    raise JsonPathError("only a JSON object or array can be selected from")
