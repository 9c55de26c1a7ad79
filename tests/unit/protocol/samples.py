"""Deterministic sample values for any botocore shape: valid (enums, min/max lengths and
ranges honoured) and varied enough to exercise every wire type: timestamps, blobs, maps,
nested lists, documents and unions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

#: Timestamps carry milliseconds, except in headers (RFC 822 has whole seconds).
STAMP = datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)
STAMP_WHOLE = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
PAYLOAD = b"raw payload bytes"


def sample_members(shape: StructureShape | None) -> dict[str, Any]:
    """Params (or output) for an operation's top-level shape, skipping what no wire carries
    back as-is (event streams)."""
    if shape is None:
        return {}
    payload = shape.serialization.get("payload")
    values: dict[str, Any] = {}
    for name, member in shape.members.items():
        if member.serialization.get("eventstream"):
            continue
        if name == payload and member.type_name in ("blob", "string"):
            values[name] = PAYLOAD if member.type_name == "blob" else PAYLOAD.decode()
            continue
        location = member.serialization.get("location")
        if location == "statusCode":
            values[name] = 200
            continue
        values[name] = _sample(member, name, (shape.name,), location)
    return values


def _sample(shape: Shape, name: str, stack: tuple[str, ...], location: str | None) -> Any:
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if shape.is_document_type:
            return {"document": [1, "two", True, None, {"nested": 1.5}]}
        members = [
            (member_name, member)
            for member_name, member in shape.members.items()
            if _innermost(member) not in (*stack, shape.name)
            and not member.serialization.get("eventstream")
        ]
        if shape.is_tagged_union:
            members = members[:1]
        inner = (*stack, shape.name)
        return {n: _sample(m, n, inner, None) for n, m in members}
    if isinstance(shape, ListShape):
        count = min(2, shape.metadata.get("max", 2))
        return [_sample(shape.member, name, stack, location) for _ in range(count)]
    if isinstance(shape, MapShape):
        keys = _keys(shape.key, location == "headers")
        return {key: _sample(shape.value, name, stack, None) for key in keys}
    if kind in ("string", "character"):
        if shape.enum:
            return shape.enum[0]
        if shape.serialization.get("jsonvalue") and location == "header":
            return {"json": ["value", 1]}
        return _text(f"value-{name}", shape)
    if kind in ("integer", "long", "short", "byte"):
        low = shape.metadata.get("min", 1)
        return int(min(max(low, 7 if kind != "long" else 2**33), shape.metadata.get("max", 2**40)))
    if kind in ("float", "double"):
        return 1.5
    if kind == "boolean":
        return True
    if kind == "timestamp":
        whole = location == "header" or shape.serialization.get("timestampFormat") == "rfc822"
        return STAMP_WHOLE if whole else STAMP
    if kind == "blob":
        return b"\x00blob\xffbytes"
    raise AssertionError(f"no sample for {kind}")


def _innermost(shape: Shape) -> str:
    """The shape a member finally holds, through lists and maps (recursion stops there)."""
    while isinstance(shape, ListShape | MapShape):
        shape = shape.member if isinstance(shape, ListShape) else shape.value
    return shape.name


def _keys(shape: Shape, lower: bool) -> list[str]:
    if shape.enum:
        return list(shape.enum[:2])
    keys = [_text("key-one", shape), _text("key-two", shape)]
    return [key.lower() for key in keys] if lower else keys


def _text(base: str, shape: Shape) -> str:
    low, high = shape.metadata.get("min", 1), shape.metadata.get("max", 256)
    return base.ljust(low, "x")[: max(high, 1)]
