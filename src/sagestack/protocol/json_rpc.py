"""awsJson 1.0 / 1.1: `POST /` with `X-Amz-Target: <targetPrefix>.<Operation>` and a JSON body.

Timestamps travel as epoch seconds, blobs as base64. Errors are `{"__type": code, "message":
...}`; a query-compatible service also names the query-era code in `x-amzn-query-error`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, ServiceModel

from sagestack.protocol.json_codec import JsonCodec, JsonMismatch, Reader, Writer
from sagestack.protocol.messages import HttpRequest, HttpResponse
from sagestack.protocol.wire_errors import ErrorCatalog
from sagestack.spec.errors import SerializationException, ServiceError, UnknownOperationException

_dumps = json.JSONEncoder(separators=(",", ":")).encode
_dumps_lenient = json.JSONEncoder(separators=(",", ":"), default=str).encode


class JsonRpcProtocol:
    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model
        metadata = service_model.metadata
        prefix = metadata["targetPrefix"]
        self._content_type = f"application/x-amz-json-{metadata.get('jsonVersion', '1.0')}"
        self._query_compatible = "awsQueryCompatible" in metadata
        self._operations = {
            f"{prefix}.{name}": service_model.operation_model(name)
            for name in service_model.operation_names
        }
        self._codec = JsonCodec()
        self._errors = ErrorCatalog(service_model)
        self._readers: dict[str, Reader] = {}
        self._writers: dict[str, Writer | None] = {}

    def resolve(self, request: HttpRequest) -> OperationModel:
        target = request.headers.get("x-amz-target", "")
        operation = self._operations.get(target)
        if operation is None:
            name = target.rpartition(".")[2] or "(no X-Amz-Target header)"
            raise UnknownOperationException(f"Operation {name} is not supported.")
        return operation

    def parse(self, request: HttpRequest, operation: OperationModel) -> dict[str, Any]:
        try:
            document = json.loads(request.body) if request.body.strip() else {}
        except (ValueError, UnicodeDecodeError) as error:
            raise SerializationException(f"The request body is not valid JSON: {error}") from None
        read = self._readers.get(operation.name)
        if read is None:
            shape = operation.input_shape
            read = self._codec.reader(shape) if shape is not None else _empty_object
            self._readers[operation.name] = read
        try:
            params: dict[str, Any] = read(document)
        except JsonMismatch as mismatch:
            raise SerializationException(mismatch.describe()) from None
        return params

    def serialize(
        self, operation: OperationModel, output: Mapping[str, Any], request_id: str
    ) -> HttpResponse:
        name = operation.name
        if name in self._writers:
            write = self._writers[name]
        else:
            shape = operation.output_shape
            write = self._codec.writer(shape) if shape is not None else None
            self._writers[name] = write
        body = _dumps(output if write is None else write(output))
        return HttpResponse(200, self._headers(request_id), body.encode())

    def serialize_error(
        self,
        error: ServiceError,
        operation: OperationModel | None,
        request_id: str,
        *,
        method: str = "POST",
    ) -> HttpResponse:
        model = self._errors.describe(error)
        body: dict[str, Any] = {
            "__type": error.code,
            ErrorCatalog.json_message_key(model.shape): error.message,
        }
        if error.fields:
            write = self._codec.writer(model.shape) if model.shape is not None else None
            body.update(error.fields if write is None else write(error.fields))
        headers = self._headers(request_id)
        if self._query_compatible:
            fault = "Sender" if error.sender_fault else "Receiver"
            headers.append(("x-amzn-query-error", f"{model.query_code};{fault}"))
        headers.extend(error.headers.items())
        return HttpResponse(model.status, headers, _dumps_lenient(body).encode())

    def _headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("Content-Type", self._content_type), ("x-amzn-RequestId", request_id)]


def _empty_object(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise JsonMismatch("an object", value)
    return {}
