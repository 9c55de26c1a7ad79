"""Input validation from the model, worded as AWS words it.

botocore's `ParamValidator` checks structure and types but skips max lengths, ranges above a
minimum, enums and patterns. This module checks every constraint the model states and reports
them as AWS services do:

    1 validation error detected: Value 'bad name!' at 'modelName' failed to satisfy
    constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](...)?

Member paths are lowerCamelCase (`primaryContainer.mode`), list elements are `tags.1.member.key`
(1-based), and a map's key or value problems are reported once at the map's path ("Map keys must
satisfy constraint: [...]"). Unknown members are ignored, as AWS JSON services ignore them.

A check plan is compiled once per shape, so a CreateModel-sized request costs a few
microseconds. Types are the protocol parser's job (it rejects a wrong JSON type with a
SerializationException); `ParamValidator` runs only as a backstop for what reaches this layer
some other way, and its findings are reported as a SerializationException too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import ParamValidator

from sagestack.spec.errors import SerializationException, ValidationException
from sagestack.spec.patterns import compile_pattern

#: A check appends "Value ... at '<path>' failed to satisfy constraint: ..." problems.
_Check = Callable[[Any, str, list[str]], None]
_MAX_RENDERED = 1024
_plans: dict[int, tuple[Shape, list[_Check]]] = {}


def validate_input(params: Mapping[str, Any], shape: StructureShape) -> None:
    problems: list[str] = []
    try:
        _run(shape, params, "", problems)
    except (TypeError, AttributeError, KeyError):
        _type_backstop(params, shape)
        raise
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(problems))


def _type_backstop(params: Mapping[str, Any], shape: StructureShape) -> None:
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise SerializationException(report.generate_report())


def _run(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    for check in _plan(shape):
        check(value, path, problems)


def _plan(shape: Shape) -> list[_Check]:
    cached = _plans.get(id(shape))
    if cached is not None:
        return cached[1]
    checks: list[_Check] = []
    _plans[id(shape)] = (shape, checks)  # stored before filling: shapes may be recursive
    checks.extend(_build(shape))
    return checks


def render(value: Any) -> str:
    """A value as AWS quotes it in messages (Java's toString of the parsed value)."""
    if value is None:
        return "null"
    text = _java_text(value)
    if len(text) > _MAX_RENDERED:
        text = text[:_MAX_RENDERED] + "..."
    return f"'{text}'"


def _java_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    return str(value)


def _problem(value: Any, path: str, constraint: str) -> str:
    return f"Value {render(value)} at '{path}' failed to satisfy constraint: {constraint}"


def _member_path(parent: str, name: str) -> str:
    camel = name[:1].lower() + name[1:]
    return f"{parent}.{camel}" if parent else camel


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _constraints(shape: Shape) -> list[Callable[[Any], str | None]]:
    """The scalar/size constraints of `shape`, each giving a constraint text when violated."""
    meta = shape.metadata
    tests: list[Callable[[Any], str | None]] = []
    low, high = meta.get("min"), meta.get("max")
    if shape.type_name in {"string", "list", "map", "blob"}:
        if low is not None and low > 0:
            text_low = f"Member must have length greater than or equal to {_number(low)}"
            tests.append(lambda v: text_low if len(v) < low else None)
        if high is not None:
            text_high = f"Member must have length less than or equal to {_number(high)}"
            tests.append(lambda v: text_high if len(v) > high else None)
    elif shape.type_name in {"integer", "long", "float", "double"}:
        if low is not None:
            text_min = f"Member must have value greater than or equal to {_number(low)}"
            tests.append(lambda v: text_min if v < low else None)
        if high is not None:
            text_max = f"Member must have value less than or equal to {_number(high)}"
            tests.append(lambda v: text_max if v > high else None)
    if shape.type_name == "string":
        enum = shape.enum
        if enum:
            allowed = frozenset(enum)
            text_enum = f"Member must satisfy enum value set: [{', '.join(enum)}]"
            tests.append(lambda v: text_enum if v not in allowed else None)
        pattern = meta.get("pattern")
        if pattern is not None:
            compiled = compile_pattern(pattern)
            text_pattern = f"Member must satisfy regular expression pattern: {pattern}"
            tests.append(lambda v: text_pattern if compiled.fullmatch(v) is None else None)
    return tests


def _build(shape: Shape) -> list[_Check]:
    checks: list[_Check] = []
    tests = _constraints(shape)
    if tests:

        def check_value(value: Any, path: str, problems: list[str]) -> None:
            for test in tests:
                failed = test(value)
                if failed is not None:
                    problems.append(_problem(value, path, failed))

        checks.append(check_value)
    if isinstance(shape, StructureShape) and not shape.metadata.get("document"):
        checks.append(_structure_check(shape))
    elif isinstance(shape, ListShape):
        member = shape.member

        def check_items(value: list[Any], path: str, problems: list[str]) -> None:
            for index, item in enumerate(value, start=1):
                if item is not None:
                    _run(member, item, f"{path}.{index}.member", problems)

        checks.append(check_items)
    elif isinstance(shape, MapShape):
        checks.append(_map_check(shape))
    return checks


def _structure_check(shape: StructureShape) -> _Check:
    required = frozenset(shape.required_members)
    members = list(shape.members.items())

    def check_structure(value: Mapping[str, Any], path: str, problems: list[str]) -> None:
        for name, member in members:
            item = value.get(name)
            if item is None:
                if name in required:
                    problems.append(
                        _problem(None, _member_path(path, name), "Member must not be null")
                    )
                continue
            _run(member, item, _member_path(path, name), problems)

    return check_structure


def _map_check(shape: MapShape) -> _Check:
    key_shape, value_shape = shape.key, shape.value

    def failures(target: Shape, items: list[Any]) -> list[str]:
        texts: list[str] = []
        for item in items:
            found: list[str] = []
            _run(target, item, "", found)
            for problem in found:
                text = problem.split("failed to satisfy constraint: ", 1)[1]
                if text not in texts:
                    texts.append(text)
        return texts

    def check_map(value: Mapping[str, Any], path: str, problems: list[str]) -> None:
        bad_keys = failures(key_shape, list(value))
        if bad_keys:
            constraint = f"Map keys must satisfy constraint: [{', '.join(bad_keys)}]"
            problems.append(_problem(value, path, constraint))
        bad_values = failures(value_shape, [v for v in value.values() if v is not None])
        if bad_values:
            constraint = f"Map value must satisfy constraint: [{', '.join(bad_values)}]"
            problems.append(_problem(value, path, constraint))

    return check_map
