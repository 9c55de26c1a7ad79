"""rest-json: operations by method and URI, members bound to the URI, query string and headers,
the rest in a JSON body (timestamps as epoch seconds, blobs as base64) or a raw payload.

Errors carry their code in `X-Amzn-ErrorType` and a JSON body `{"message": ..., **fields}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from sagestack.protocol.json_codec import JsonCodec, JsonMismatch
from sagestack.protocol.messages import HttpRequest, HttpResponse
from sagestack.protocol.rest import RestProtocol
from sagestack.protocol.wire_errors import ErrorCatalog
from sagestack.spec.errors import SerializationException, ServiceError, UnknownOperationException

_dumps = json.JSONEncoder(separators=(",", ":")).encode
_dumps_lenient = json.JSONEncoder(separators=(",", ":"), default=str).encode


class RestJsonProtocol(RestProtocol):
    content_type = "application/json"

    def __init__(self, service_model: ServiceModel) -> None:
        super().__init__(service_model)
        self._codec = JsonCodec()

    def _no_operation(self, request: HttpRequest) -> ServiceError:
        return UnknownOperationException(
            f"No operation matches {request.method} {request.path}.", status=404
        )

    def _read_body(self, body: bytes, shape: StructureShape, *, payload: bool) -> Any:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise SerializationException(f"The request body is not valid JSON: {error}") from None
        try:
            return self._codec.reader(shape, body_only=not payload)(document)
        except JsonMismatch as mismatch:
            raise SerializationException(mismatch.describe()) from None

    def _write_body(self, value: Any, shape: Shape, root: str) -> bytes:
        write = self._codec.writer(shape)
        return _dumps(value if write is None else write(value)).encode()

    def _request_id_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("x-amzn-RequestId", request_id)]

    def serialize(
        self, operation: OperationModel, output: Mapping[str, Any], request_id: str
    ) -> HttpResponse:
        response = super().serialize(operation, output, request_id)
        if not response.body and operation.output_shape is None:
            response.body = b"{}"
            response.headers.append(("Content-Type", self.content_type))
        return response

    def serialize_error(
        self,
        error: ServiceError,
        operation: OperationModel | None,
        request_id: str,
        *,
        method: str = "POST",
    ) -> HttpResponse:
        model, bound, fields = self._error_parts(error)
        headers = self._request_id_headers(request_id)
        headers.append(("X-Amzn-ErrorType", error.code))
        headers.extend(bound)
        body = b""
        if method != "HEAD":
            headers.append(("Content-Type", self.content_type))
            document = {ErrorCatalog.json_message_key(model.shape): error.message}
            write = self._codec.writer(model.shape) if model.shape is not None else None
            document.update(fields if write is None or not fields else write(fields))
            body = _dumps_lenient(document).encode()
        return HttpResponse(model.status, headers, body)
