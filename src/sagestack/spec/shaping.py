"""Output shaping: project a handler's output onto the operation's output shape.

Only declared members survive, and a member whose value is None is omitted (never rendered as
null or `{}`), recursively. In strict mode (tests) the result is also checked with botocore's own
`ParamValidator`, as botocore's Stubber checks responses, so a handler cannot drift from the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import ParamValidator

from sagestack.spec.errors import InternalFailure

_Projector = Callable[[Any], Any]
# Keyed by id(shape); the shape is kept alive beside its projector so the id stays unique.
_projectors: dict[int, tuple[Shape, _Projector | None]] = {}


def _projector(shape: Shape) -> _Projector | None:
    """None means "values of this shape pass through unchanged" (scalars and their containers)."""
    cached = _projectors.get(id(shape))
    if cached is not None:
        return cached[1]
    projector = _build(shape)
    _projectors[id(shape)] = (shape, projector)
    return projector


def _build(shape: Shape) -> _Projector | None:
    if isinstance(shape, StructureShape):
        # An event stream is produced by the handler as encoded events (a streaming payload
        # the protocol sends as it comes): nothing to project.
        if shape.metadata.get("document") or shape.serialization.get("eventstream"):
            return None
        members = {name: _projector(member) for name, member in shape.members.items()}

        def project_structure(value: Any) -> Any:
            out = {}
            for key, item in value.items():
                if item is None or key not in members:
                    continue
                inner = members[key]
                out[key] = item if inner is None else inner(item)
            return out

        return project_structure
    if isinstance(shape, ListShape):
        inner_list = _projector(shape.member)
        if inner_list is None:
            return None
        return lambda value: [inner_list(item) for item in value]
    if isinstance(shape, MapShape):
        inner_map = _projector(shape.value)
        if inner_map is None:
            return None
        return lambda value: {key: inner_map(item) for key, item in value.items()}
    return None


def shape_output(output: Mapping[str, Any], shape: StructureShape | None) -> dict[str, Any]:
    """The output restricted to `shape`'s members with None values dropped."""
    if shape is None:
        return {}
    projector = _projector(shape)
    assert projector is not None
    result: dict[str, Any] = projector(output)
    return result


def check_output(output: Mapping[str, Any], shape: StructureShape | None, operation: str) -> None:
    """Raise InternalFailure when `output` does not satisfy `shape` (used in strict mode)."""
    if shape is None:
        return
    payload = shape.serialization.get("payload")
    if payload and shape.members[payload].serialization.get("eventstream"):
        output = {**output, payload: {}}  # its events are checked as they are encoded
    report = ParamValidator().validate(output, shape)
    if report.has_errors():
        raise InternalFailure(
            f"{operation} produced output that violates its shape: {report.generate_report()}"
        )
