"""What rest-json and rest-xml share: routing by method and URI, and the HTTP bindings of
members (`uri`, `querystring`, `header`, `headers` prefix maps, `statusCode`, raw payloads).

Subclasses say how a body is read and written (JSON or XML) and how errors look.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from sagestack.protocol.messages import HttpRequest, HttpResponse, StreamingPayload
from sagestack.protocol.uri_templates import RestRouter
from sagestack.protocol.wire_errors import ErrorCatalog, ErrorModel
from sagestack.protocol.wire_types import (
    RFC822,
    decode_blob,
    encode_blob,
    format_timestamp,
    join_header_list,
    parse_timestamp,
    raw_bytes,
    split_header_list,
    timestamp_format,
)
from sagestack.spec.errors import ServiceError, ValidationException

_RAW_PAYLOADS = ("blob", "string")


@dataclass(slots=True)
class _Bindings:
    """Where each member of an input or output shape travels."""

    uri: list[tuple[str, str, Shape]] = field(default_factory=list)
    query: list[tuple[str, str, Shape]] = field(default_factory=list)
    query_map: tuple[str, MapShape] | None = None
    headers: list[tuple[str, str, Shape]] = field(default_factory=list)
    prefixed: list[tuple[str, str]] = field(default_factory=list)
    status: str | None = None
    payload: tuple[str, Shape] | None = None
    body: frozenset[str] = frozenset()

    @classmethod
    def of(cls, shape: StructureShape | None) -> _Bindings:
        plan = cls()
        if shape is None:
            return plan
        body: set[str] = set()
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = str(member.serialization.get("name", name))
            if location == "uri":
                plan.uri.append((name, wire, member))
            elif location == "querystring":
                if isinstance(member, MapShape):
                    plan.query_map = (name, member)
                else:
                    plan.query.append((name, wire, member))
            elif location == "header":
                plan.headers.append((name, wire, member))
            elif location == "headers":
                plan.prefixed.append((name, wire.lower()))
            elif location == "statusCode":
                plan.status = name
            elif not member.serialization.get("eventheader"):
                body.add(name)
        payload = shape.serialization.get("payload")
        if payload:
            plan.payload = (payload, shape.members[payload])
            body.discard(payload)
        plan.body = frozenset(body)
        return plan


class RestProtocol:
    """Routing and bindings; subclasses supply bodies (`_read_*`, `_write_*`) and errors."""

    #: Content-Type of a structured body.
    content_type = "application/json"

    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model
        operations = [service_model.operation_model(n) for n in service_model.operation_names]
        self._router = RestRouter(operations)
        self._errors = ErrorCatalog(service_model)
        self._inputs: dict[str, _Bindings] = {}
        self._outputs: dict[str, _Bindings] = {}

    # -- subclass hooks -------------------------------------------------------------------

    def _no_operation(self, request: HttpRequest) -> ServiceError:
        raise NotImplementedError

    def _read_body(self, body: bytes, shape: StructureShape, *, payload: bool) -> Any:
        """The body as `shape` (a payload member's shape, or the input's unbound members)."""
        raise NotImplementedError

    def _write_body(self, value: Any, shape: Shape, root: str) -> bytes:
        raise NotImplementedError

    def _request_id_headers(self, request_id: str) -> list[tuple[str, str]]:
        raise NotImplementedError

    # -- requests -------------------------------------------------------------------------

    def resolve(self, request: HttpRequest) -> OperationModel:
        operation = self._router.find(request)
        if operation is None:
            raise self._no_operation(request)
        return operation

    def parse(self, request: HttpRequest, operation: OperationModel) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        plan = self._inputs.get(operation.name)
        if plan is None:
            plan = self._inputs[operation.name] = _Bindings.of(shape)
        params: dict[str, Any] = {}
        template = self._router.templates[operation.name]
        if plan.uri:
            labels = template.match(request) or {}
            for name, wire, member in plan.uri:
                if wire in labels:
                    params[name] = _from_text(member, labels[wire], wire)
        if plan.query or plan.query_map:
            _parse_query(request, plan, template.query, params)
        for name, wire, member in plan.headers:
            text = request.headers.get(wire.lower())
            if text is not None:
                params[name] = _from_header(member, text, wire)
        for name, prefix in plan.prefixed:
            found = {
                k[len(prefix) :]: v for k, v in request.headers.items() if k.startswith(prefix)
            }
            if found:
                params[name] = found
        if plan.payload is not None:
            name, member = plan.payload
            if request.stream is not None and member.type_name == "blob":
                params[name] = request.stream
            elif request.body:
                if member.type_name == "blob":
                    params[name] = request.body
                elif member.type_name == "string":
                    params[name] = request.body.decode("utf-8", "replace")
                else:
                    assert isinstance(member, StructureShape)
                    params[name] = self._read_body(request.body, member, payload=True)
        elif plan.body and request.body.strip():
            params.update(self._read_body(request.body, shape, payload=False))
        return params

    # -- responses ------------------------------------------------------------------------

    def serialize(
        self, operation: OperationModel, output: Mapping[str, Any], request_id: str
    ) -> HttpResponse:
        plan = self._outputs.get(operation.name)
        if plan is None:
            plan = self._outputs[operation.name] = _Bindings.of(operation.output_shape)
        status = int(operation.http.get("responseCode", 200))
        headers = self._request_id_headers(request_id)
        for name, wire, member in plan.headers:
            value = output.get(name)
            if value is not None:
                headers.append((wire, _header_text(member, value)))
        for name, prefix in plan.prefixed:
            headers.extend(
                (prefix + key, str(value)) for key, value in output.get(name, {}).items()
            )
        if plan.status is not None and output.get(plan.status) is not None:
            status = int(output[plan.status])
        body = b""
        stream = None
        if plan.payload is not None:
            name, member = plan.payload
            value = output.get(name)
            if isinstance(value, StreamingPayload):
                stream = value.chunks
                status = value.status or status
                if not any(key.lower() == "content-type" for key, _ in headers):
                    events = member.serialization.get("eventstream")
                    kind = "application/vnd.amazon.eventstream" if events else None
                    headers.append(("Content-Type", kind or "application/octet-stream"))
            elif value is not None and member.type_name in _RAW_PAYLOADS:
                body = raw_bytes(value)
                if not any(key.lower() == "content-type" for key, _ in headers):
                    headers.append(("Content-Type", "application/octet-stream"))
            elif value is not None:
                root = str(member.serialization.get("name", name))
                body = self._structured(headers, self._write_body(value, member, root))
        elif plan.body:
            values = {key: value for key, value in output.items() if key in plan.body}
            shape = operation.output_shape
            assert shape is not None
            body = self._structured(headers, self._write_body(values, shape, ""))
        return HttpResponse(status, headers, body, stream)

    def _structured(self, headers: list[tuple[str, str]], body: bytes) -> bytes:
        headers.append(("Content-Type", self.content_type))
        return body

    def _error_parts(
        self, error: ServiceError
    ) -> tuple[ErrorModel, list[tuple[str, str]], dict[str, Any]]:
        """The error's model, its header-bound fields as headers, and its body fields."""
        model = self._errors.describe(error)
        headers: list[tuple[str, str]] = []
        fields = dict(error.fields)
        if model.shape is not None and fields:
            for name, member in model.shape.members.items():
                if member.serialization.get("location") == "header" and name in fields:
                    wire = str(member.serialization.get("name", name))
                    headers.append((wire, _header_text(member, fields.pop(name))))
        headers.extend(error.headers.items())
        return model, headers, fields


def _parse_query(
    request: HttpRequest,
    plan: _Bindings,
    literal: tuple[tuple[str, str | None], ...],
    params: dict[str, Any],
) -> None:
    values: dict[str, list[str]] = {}
    for key, value in request.query:
        values.setdefault(key, []).append(value)
    for name, wire, member in plan.query:
        found = values.get(wire)
        if found is None:
            continue
        if isinstance(member, ListShape):
            params[name] = [_from_text(member.member, each, wire) for each in found]
        else:
            params[name] = _from_text(member, found[-1], wire)
    if plan.query_map is not None:
        name, map_shape = plan.query_map
        claimed = {wire for _, wire, _ in plan.query} | {key for key, _ in literal}
        many = isinstance(map_shape.value, ListShape)
        entries = {
            key: found if many else found[-1] for key, found in values.items() if key not in claimed
        }
        if entries:
            params[name] = entries


def _from_text(shape: Shape, text: str, where: str) -> Any:
    """A uri, query or header value converted to its shape's type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long", "short", "byte"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise ValueError(text)
            return lowered == "true"
        if kind == "timestamp":
            return parse_timestamp(text)
        if kind == "blob":
            return decode_blob(text)
    except ValueError:
        raise ValidationException(f"Value '{text}' for {where} is not a valid {kind}.") from None
    return text


def _from_header(shape: Shape, text: str, where: str) -> Any:
    if isinstance(shape, ListShape):
        return [_from_text(shape.member, item, where) for item in split_header_list(text)]
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        try:
            return json.loads(decode_blob(text))
        except ValueError:
            raise ValidationException(f"Header {where} is not base64-encoded JSON.") from None
    return _from_text(shape, text, where)


def _header_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return str(format_timestamp(value, timestamp_format(shape, RFC822)))
    if isinstance(shape, ListShape):
        return join_header_list([_header_text(shape.member, each) for each in value])
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return encode_blob(json.dumps(value, separators=(",", ":")))
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        return encode_blob(value)
    return str(value)
