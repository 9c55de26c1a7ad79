"""Shape-driven XML, as rest-xml and query speak it: compiled element writers and readers.

Writers append text to a list (no DOM is built) and follow botocore's parsers: lists wrap their
items in `<member>` (or the member's locationName) unless flattened, maps in `<entry>` with
`<key>`/`<value>`, `xmlAttribute` members become attributes, `xmlNamespace` an `xmlns`.
Readers take ElementTree elements and follow botocore's serializers, so they accept what any
SDK writes; a value that does not convert raises `XmlValueError` naming the member.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from botocore.model import ListShape, MapShape, Shape, StructureShape

from sagestack.protocol.shape_cache import compile_once, shape_key
from sagestack.protocol.wire_types import (
    ISO8601,
    decode_blob,
    encode_blob,
    format_timestamp,
    parse_timestamp,
    timestamp_format,
)

#: Writes `value` as element(s) named by the second argument onto the list of text pieces.
ElementWriter = Callable[[Any, str, list[str]], None]
#: Reads a value from the elements that carry one member (several for flattened lists/maps).
ElementReader = Callable[[list[Element]], Any]

_TEXT_ENTITIES = {"\r": "&#13;"}


class XmlValueError(ValueError):
    """An XML value that does not convert to its shape's type."""


def local_name(tag: str) -> str:
    """A tag or attribute name without its `{namespace}` or `prefix:`."""
    return tag.rpartition("}")[2].rpartition(":")[2]


def namespace_attribute(shape: Shape) -> str:
    """` xmlns="..."` (or ` xmlns:prefix="..."`) for a shape with an `xmlNamespace` trait."""
    namespace = shape.serialization.get("xmlNamespace")
    if isinstance(namespace, str):
        return f" xmlns={quoteattr(namespace)}"
    if isinstance(namespace, dict) and namespace.get("uri"):
        prefix = namespace.get("prefix")
        name = f"xmlns:{prefix}" if prefix else "xmlns"
        return f" {name}={quoteattr(namespace['uri'])}"
    return ""


def element_name(member: Shape, member_name: str) -> str:
    """The element a structure member is written as (a flattened list's items may rename it)."""
    if isinstance(member, ListShape) and member.serialization.get("flattened"):
        item_name = member.member.serialization.get("name")
        if item_name:
            return str(item_name)
    return str(member.serialization.get("name", member_name))


def text_element(name: str, text: str) -> str:
    return f"<{name}>{escape(text, _TEXT_ENTITIES)}</{name}>"


def _scalar_text(shape: Shape) -> Callable[[Any], str]:
    kind = shape.type_name
    if kind == "boolean":
        return lambda value: "true" if value else "false"
    if kind in ("integer", "long", "short", "byte"):
        return lambda value: str(int(value))
    if kind in ("float", "double"):
        return lambda value: str(float(value))
    if kind == "timestamp":
        fmt = timestamp_format(shape, ISO8601)
        return lambda value: str(format_timestamp(value, fmt))
    if kind == "blob":
        return encode_blob
    return str


def _scalar_value(shape: Shape) -> Callable[[str], Any]:
    kind = shape.type_name
    if kind == "boolean":
        return _read_boolean
    if kind in ("integer", "long", "short", "byte"):
        return int
    if kind in ("float", "double"):
        return float
    if kind == "timestamp":
        return parse_timestamp
    if kind == "blob":
        return decode_blob
    return str


def _read_boolean(text: str) -> bool:
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(f"not a boolean: {text!r}")


class XmlCodec:
    """Element writers and readers for one service's shapes, compiled once each."""

    def __init__(self) -> None:
        self._writers: dict[tuple[Hashable, ...], ElementWriter] = {}
        self._readers: dict[tuple[Hashable, ...], ElementReader] = {}

    # -- writing --------------------------------------------------------------------------

    def writer(self, shape: Shape) -> ElementWriter:
        return compile_once(self._writers, shape_key(shape), lambda: self._build_writer(shape))

    def members_writer(self, shape: StructureShape) -> Callable[[Any, list[str]], None]:
        """Writes a structure's body members as children only (no element of its own)."""
        children = [
            (name, element_name(member, name), self.writer(member))
            for name, member in shape.members.items()
            if "location" not in member.serialization
            and not member.serialization.get("xmlAttribute")
        ]

        def write_members(value: Any, out: list[str]) -> None:
            for name, element, write in children:
                item = value.get(name)
                if item is not None:
                    write(item, element, out)

        return write_members

    def _build_writer(self, shape: Shape) -> ElementWriter:
        namespace = namespace_attribute(shape)
        if isinstance(shape, StructureShape):
            return self._structure_writer(shape, namespace)
        if isinstance(shape, ListShape):
            return self._list_writer(shape, namespace)
        if isinstance(shape, MapShape):
            return self._map_writer(shape, namespace)
        to_text = _scalar_text(shape)

        def write_scalar(value: Any, name: str, out: list[str]) -> None:
            out.append(f"<{name}{namespace}>{escape(to_text(value), _TEXT_ENTITIES)}</{name}>")

        return write_scalar

    def _structure_writer(self, shape: StructureShape, namespace: str) -> ElementWriter:
        attributes = [
            (name, str(member.serialization["name"]))
            for name, member in shape.members.items()
            if member.serialization.get("xmlAttribute")
        ]
        write_members = self.members_writer(shape)

        def write_structure(value: Any, name: str, out: list[str]) -> None:
            head = f"<{name}{namespace}"
            for member, attribute in attributes:
                if value.get(member) is not None:
                    head += f" {attribute}={quoteattr(str(value[member]))}"
            out.append(head + ">")
            write_members(value, out)
            out.append(f"</{name}>")

        return write_structure

    def _list_writer(self, shape: ListShape, namespace: str) -> ElementWriter:
        write_item = self.writer(shape.member)
        if shape.serialization.get("flattened"):

            def write_flat(value: Any, name: str, out: list[str]) -> None:
                for item in value:
                    write_item(item, name, out)

            return write_flat
        item_name = str(shape.member.serialization.get("name", "member"))

        def write_list(value: Any, name: str, out: list[str]) -> None:
            out.append(f"<{name}{namespace}>")
            for item in value:
                write_item(item, item_name, out)
            out.append(f"</{name}>")

        return write_list

    def _map_writer(self, shape: MapShape, namespace: str) -> ElementWriter:
        write_key, write_value = self.writer(shape.key), self.writer(shape.value)
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        flattened = bool(shape.serialization.get("flattened"))

        def write_map(value: Any, name: str, out: list[str]) -> None:
            entry = name if flattened else "entry"
            if not flattened:
                out.append(f"<{name}{namespace}>")
            for key, item in value.items():
                out.append(f"<{entry}>")
                write_key(key, key_name, out)
                write_value(item, value_name, out)
                out.append(f"</{entry}>")
            if not flattened:
                out.append(f"</{name}>")

        return write_map

    # -- reading --------------------------------------------------------------------------

    def reader(self, shape: Shape) -> ElementReader:
        return compile_once(self._readers, shape_key(shape), lambda: self._build_reader(shape))

    def _build_reader(self, shape: Shape) -> ElementReader:
        if isinstance(shape, StructureShape):
            return self._structure_reader(shape)
        if isinstance(shape, ListShape):
            return self._list_reader(shape)
        if isinstance(shape, MapShape):
            return self._map_reader(shape)
        convert = _scalar_value(shape)

        def read_scalar(nodes: list[Element]) -> Any:
            text = nodes[-1].text or ""
            try:
                return convert(text)
            except ValueError:
                raise XmlValueError(f"{text!r} is not a valid {shape.type_name}") from None

        return read_scalar

    def _structure_reader(self, shape: StructureShape) -> ElementReader:
        attributes: list[tuple[str, str]] = []
        children: list[tuple[str, tuple[str, ...], ElementReader]] = []
        for name, member in shape.members.items():
            if "location" in member.serialization:
                continue
            if member.serialization.get("xmlAttribute"):
                attributes.append((name, local_name(str(member.serialization["name"]))))
                continue
            names = {element_name(member, name), str(member.serialization.get("name", name))}
            children.append((name, tuple(names), self.reader(member)))

        def read_structure(nodes: list[Element]) -> dict[str, Any]:
            node = nodes[-1]
            groups: dict[str, list[Element]] = {}
            for child in node:
                groups.setdefault(local_name(child.tag), []).append(child)
            out: dict[str, Any] = {}
            if attributes and node.attrib:
                present = {local_name(key): value for key, value in node.attrib.items()}
                for name, attribute in attributes:
                    if attribute in present:
                        out[name] = present[attribute]
            for name, candidates, read in children:
                for candidate in candidates:
                    group = groups.get(candidate)
                    if group:
                        try:
                            out[name] = read(group)
                        except XmlValueError as error:
                            raise XmlValueError(f"{name}: {error}") from None
                        break
            return out

        return read_structure

    def _list_reader(self, shape: ListShape) -> ElementReader:
        read_item = self.reader(shape.member)
        if shape.serialization.get("flattened"):
            return lambda nodes: [read_item([node]) for node in nodes]
        return lambda nodes: [read_item([node]) for node in nodes[-1]]

    def _map_reader(self, shape: MapShape) -> ElementReader:
        read_key, read_value = self.reader(shape.key), self.reader(shape.value)
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        flattened = bool(shape.serialization.get("flattened"))

        def read_map(nodes: list[Element]) -> dict[Any, Any]:
            entries = nodes if flattened else list(nodes[-1])
            out: dict[Any, Any] = {}
            for entry in entries:
                parts = {local_name(child.tag): child for child in entry}
                if key_name in parts and value_name in parts:
                    out[read_key([parts[key_name]])] = read_value([parts[value_name]])
            return out

        return read_map
