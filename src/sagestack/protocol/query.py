"""The query protocol (STS, IAM): `Action=<Operation>&Version=...` and flattened params in a
form-encoded POST body (or the query string of a GET); responses and errors in XML.

Params arrive as `A.B` for nested members, `L.member.N` for lists (`L.N` when flattened) and
`M.entry.N.key` / `M.entry.N.value` for maps; timestamps ISO 8601, blobs base64.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import quoteattr

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from sagestack.protocol.messages import HttpRequest, HttpResponse
from sagestack.protocol.shape_cache import compile_once, shape_key
from sagestack.protocol.wire_errors import ErrorCatalog
from sagestack.protocol.wire_types import decode_blob, parse_timestamp
from sagestack.protocol.xml_codec import XmlCodec, element_name, text_element
from sagestack.spec.errors import ServiceError, ValidationException

#: A form param tree: each key's dotted parts as nested dicts; a param's own value under "".
_Node = dict[str, Any]
_ParamReader = Callable[[_Node, str], Any]


class QueryProtocol:
    content_type = "text/xml"

    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model
        metadata = service_model.metadata
        self._namespace = metadata.get("xmlNamespace") or (
            f"https://{metadata['endpointPrefix']}.amazonaws.com/doc/{metadata['apiVersion']}/"
        )
        self._operations = set(service_model.operation_names)
        self._errors = ErrorCatalog(service_model)
        self._xml = XmlCodec()
        self._readers: dict[tuple[Hashable, ...], _ParamReader] = {}

    def resolve(self, request: HttpRequest) -> OperationModel:
        action = _form(request).get("Action", "")
        if action not in self._operations:
            version = self.service_model.api_version
            raise ServiceError(
                f"Could not find operation {action} for version {version}",
                code="InvalidAction",
                status=400,
            )
        return self.service_model.operation_model(action)

    def parse(self, request: HttpRequest, operation: OperationModel) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        tree: _Node = {}
        for key, value in _form(request).items():
            if key in ("Action", "Version"):
                continue
            node = tree
            for part in key.split("."):
                node = node.setdefault(part, {})
            node[""] = value
        params: dict[str, Any] = self._reader(shape)(tree, "")
        return params

    def serialize(
        self, operation: OperationModel, output: Mapping[str, Any], request_id: str
    ) -> HttpResponse:
        name = operation.name
        pieces = [f"<{name}Response xmlns={quoteattr(self._namespace)}>"]
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper") or f"{name}Result"
            pieces.append(f"<{wrapper}>")
            self._xml.members_writer(shape)(output, pieces)
            pieces.append(f"</{wrapper}>")
        pieces.append("<ResponseMetadata>")
        pieces.append(text_element("RequestId", request_id))
        pieces.append(f"</ResponseMetadata></{name}Response>")
        return HttpResponse(200, self._headers(request_id), "".join(pieces).encode())

    def serialize_error(
        self,
        error: ServiceError,
        operation: OperationModel | None,
        request_id: str,
        *,
        method: str = "POST",
    ) -> HttpResponse:
        model = self._errors.describe(error)
        members = model.shape.members if model.shape is not None else {}
        pieces = [
            f"<ErrorResponse xmlns={quoteattr(self._namespace)}><Error>",
            text_element("Type", "Sender" if error.sender_fault else "Receiver"),
            text_element("Code", model.query_code),
            text_element("Message", error.message),
        ]
        for name, value in error.fields.items():
            member = members.get(name)
            if member is None:
                pieces.append(text_element(name, str(value)))
            elif value is not None:
                self._xml.writer(member)(value, element_name(member, name), pieces)
        pieces.append("</Error>")
        pieces.append(text_element("RequestId", request_id))
        pieces.append("</ErrorResponse>")
        headers = self._headers(request_id)
        headers.extend(error.headers.items())
        body = b"" if method == "HEAD" else "".join(pieces).encode()
        return HttpResponse(model.status, headers, body)

    def _headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), ("x-amzn-RequestId", request_id)]

    # -- param readers, compiled per shape --------------------------------------------------

    def _reader(self, shape: Shape) -> _ParamReader:
        return compile_once(self._readers, shape_key(shape), lambda: self._build_reader(shape))

    def _build_reader(self, shape: Shape) -> _ParamReader:
        if isinstance(shape, StructureShape):
            return self._structure_reader(shape)
        if isinstance(shape, ListShape):
            return self._list_reader(shape)
        if isinstance(shape, MapShape):
            return self._map_reader(shape)
        return _scalar_reader(shape)

    def _structure_reader(self, shape: StructureShape) -> _ParamReader:
        members = [
            (name, element_name(member, name), self._reader(member))
            for name, member in shape.members.items()
        ]

        def read_structure(node: _Node, path: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, wire, read in members:
                child = node.get(wire)
                if child is not None:
                    out[name] = read(child, f"{path}.{wire}" if path else wire)
            return out

        return read_structure

    def _list_reader(self, shape: ListShape) -> _ParamReader:
        read_item = self._reader(shape.member)
        flattened = bool(shape.serialization.get("flattened"))
        item_name = str(shape.member.serialization.get("name", "member"))

        def read_list(node: _Node, path: str) -> list[Any]:
            items = node if flattened else node.get(item_name, {})
            if not flattened:
                path = f"{path}.{item_name}"
            return [read_item(items[index], f"{path}.{index}") for index in _indexes(items)]

        return read_list

    def _map_reader(self, shape: MapShape) -> _ParamReader:
        read_key, read_value = self._reader(shape.key), self._reader(shape.value)
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        flattened = bool(shape.serialization.get("flattened"))

        def read_map(node: _Node, path: str) -> dict[Any, Any]:
            entries = node if flattened else node.get("entry", {})
            out: dict[Any, Any] = {}
            for index in _indexes(entries):
                entry = entries[index]
                if key_name in entry and value_name in entry:
                    where = f"{path}.entry.{index}"
                    out[read_key(entry[key_name], where)] = read_value(entry[value_name], where)
            return out

        return read_map


def _indexes(node: _Node) -> list[str]:
    return sorted((key for key in node if key.isdigit()), key=int)


def _scalar_reader(shape: Shape) -> _ParamReader:
    kind = shape.type_name
    convert: Callable[[str], Any] = str
    if kind in ("integer", "long", "short", "byte"):
        convert = int
    elif kind in ("float", "double"):
        convert = float
    elif kind == "boolean":
        convert = _boolean
    elif kind == "timestamp":
        convert = parse_timestamp
    elif kind == "blob":
        convert = decode_blob

    def read_scalar(node: _Node, path: str) -> Any:
        text = node.get("", "")
        try:
            return convert(text)
        except ValueError:
            raise ValidationException(f"Value '{text}' for {path} is not a valid {kind}.") from None

    return read_scalar


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError(text)
    return lowered == "true"


def _form(request: HttpRequest) -> dict[str, str]:
    """The request's params: its query string, then a form-encoded body over it."""
    params = dict(request.query)
    content_type = request.headers.get("content-type", "")
    if request.body and content_type.startswith("application/x-www-form-urlencoded"):
        body = request.body.decode("utf-8", "replace")
        params.update(parse_qsl(body, keep_blank_values=True))
    return params
