"""Shape-driven JSON bodies: compiled readers (request JSON -> params) and writers (output ->
JSON-ready values), one pair per shape, built once and cached per service.

Readers check every value against its shape (a string where an integer belongs is an error
naming the member) and drop members the shape does not know. Writers touch only what JSON
cannot carry as-is (timestamps, blobs, renamed members): a shape with none of them anywhere
compiles to None, and its values go to `json.dumps` untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from sagestack.protocol.shape_cache import compile_once, shape_key
from sagestack.protocol.wire_types import (
    UNIX,
    decode_blob,
    encode_blob,
    format_timestamp,
    parse_timestamp,
    timestamp_format,
    timestamp_from_number,
)

Reader = Callable[[Any], Any]
Writer = Callable[[Any], Any]

_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}
_SPECIAL_FLOATS = frozenset({"NaN", "Infinity", "-Infinity"})


class JsonMismatch(Exception):
    """A JSON value of the wrong type for its shape; `path` names the member, innermost last."""

    def __init__(self, expected: str, value: Any) -> None:
        super().__init__(expected)
        self.expected = expected
        self.got = _JSON_TYPES.get(type(value), type(value).__name__)
        self.path: list[str] = []

    def describe(self) -> str:
        where = ""
        for part in reversed(self.path):
            where += part if not where or part.startswith("[") else f".{part}"
        return f"Value for {where or 'the request body'} must be {self.expected}, not {self.got}."


def _read_string(value: Any) -> Any:
    if type(value) is str:
        return value
    raise JsonMismatch("a string", value)


def _read_integer(value: Any) -> Any:
    if type(value) is int:
        return value
    raise JsonMismatch("an integer", value)


def _read_float(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    if kind is str and value in _SPECIAL_FLOATS:
        return float(value)
    raise JsonMismatch("a number", value)


def _read_boolean(value: Any) -> Any:
    if type(value) is bool:
        return value
    raise JsonMismatch("a boolean", value)


def _read_timestamp(value: Any) -> datetime:
    try:
        if type(value) in (int, float):
            return timestamp_from_number(value)
        if type(value) is str:
            return parse_timestamp(value)
    except (ValueError, OverflowError, OSError):
        pass
    raise JsonMismatch("a timestamp (epoch seconds)", value)


def _read_blob(value: Any) -> bytes:
    if type(value) is str:
        try:
            return decode_blob(value)
        except ValueError:
            pass
    raise JsonMismatch("a base64-encoded string", value)


def _read_document(value: Any) -> Any:
    return value


_SCALAR_READERS: dict[str, Reader] = {
    "string": _read_string,
    "character": _read_string,
    "integer": _read_integer,
    "long": _read_integer,
    "short": _read_integer,
    "byte": _read_integer,
    "float": _read_float,
    "double": _read_float,
    "boolean": _read_boolean,
    "timestamp": _read_timestamp,
    "blob": _read_blob,
}


class JsonCodec:
    """Readers and writers for the JSON bodies of one service's shapes."""

    def __init__(self, default_timestamp_format: str = UNIX) -> None:
        self._timestamp_format = default_timestamp_format
        self._readers: dict[tuple[Hashable, ...], Reader] = {}
        self._writers: dict[tuple[Hashable, ...], Writer | None] = {}

    # -- reading --------------------------------------------------------------------------

    def reader(self, shape: Shape, *, body_only: bool = False) -> Reader:
        """A reader for `shape`; with `body_only`, a structure's HTTP-bound members are skipped."""
        key = shape_key(shape, body_only)
        return compile_once(self._readers, key, lambda: self._build_reader(shape, body_only))

    def _build_reader(self, shape: Shape, body_only: bool) -> Reader:
        if isinstance(shape, StructureShape):
            if shape.is_document_type:
                return _read_document
            return self._structure_reader(shape, body_only)
        if isinstance(shape, ListShape):
            return _list_reader(self.reader(shape.member))
        if isinstance(shape, MapShape):
            return _map_reader(self.reader(shape.key), self.reader(shape.value))
        return _SCALAR_READERS.get(shape.type_name, _read_document)

    def _structure_reader(self, shape: StructureShape, body_only: bool) -> Reader:
        by_wire: dict[str, tuple[str, Reader]] = {}
        for name, member in shape.members.items():
            if body_only and "location" in member.serialization:
                continue
            wire = member.serialization.get("name", name)
            by_wire[wire] = (name, self.reader(member))

        def read_structure(value: Any) -> dict[str, Any]:
            if type(value) is not dict:
                raise JsonMismatch("an object", value)
            out: dict[str, Any] = {}
            for key, item in value.items():
                found = by_wire.get(key)
                if found is None or item is None:
                    continue
                name, read = found
                try:
                    out[name] = read(item)
                except JsonMismatch as mismatch:
                    mismatch.path.append(name)
                    raise
            return out

        return read_structure

    # -- writing --------------------------------------------------------------------------

    def writer(self, shape: Shape) -> Writer | None:
        """A writer for `shape`, or None when its values are JSON-ready as they are."""
        return compile_once(self._writers, shape_key(shape), lambda: self._build_writer(shape))

    def _build_writer(self, shape: Shape) -> Writer | None:
        if isinstance(shape, StructureShape):
            return None if shape.is_document_type else self._structure_writer(shape)
        if isinstance(shape, ListShape):
            item = self.writer(shape.member)
            return None if item is None else (lambda value: [item(each) for each in value])
        if isinstance(shape, MapShape):
            entry = self.writer(shape.value)
            if entry is None:
                return None
            return lambda value: {key: entry(each) for key, each in value.items()}
        if shape.type_name == "timestamp":
            fmt = timestamp_format(shape, self._timestamp_format)
            return lambda value: format_timestamp(value, fmt)
        if shape.type_name == "blob":
            return encode_blob
        return None

    def _structure_writer(self, shape: StructureShape) -> Writer | None:
        convert: list[tuple[str, str, Writer | None]] = []
        for name, member in shape.members.items():
            write = self.writer(member)
            wire = member.serialization.get("name", name)
            if write is not None or wire != name:
                convert.append((name, wire, write))
        if not convert:
            return None

        def write_structure(value: Any) -> dict[str, Any]:
            out = dict(value)
            for name, wire, write in convert:
                if name in out:
                    item = out.pop(name)
                    out[wire] = item if write is None or item is None else write(item)
            return out

        return write_structure


def _list_reader(item: Reader) -> Reader:
    def read_list(value: Any) -> list[Any]:
        if type(value) is not list:
            raise JsonMismatch("an array", value)
        try:
            return [item(each) for each in value]
        except JsonMismatch as mismatch:
            for index, each in enumerate(value):
                try:
                    item(each)
                except JsonMismatch:
                    mismatch.path.append(f"[{index}]")
                    break
            raise

    return read_list


def _map_reader(key_reader: Reader, value_reader: Reader) -> Reader:
    def read_map(value: Any) -> dict[Any, Any]:
        if type(value) is not dict:
            raise JsonMismatch("an object (map)", value)
        out: dict[Any, Any] = {}
        for key, each in value.items():
            try:
                out[key_reader(key)] = value_reader(each)
            except JsonMismatch as mismatch:
                mismatch.path.append(key)
                raise
        return out

    return read_map
