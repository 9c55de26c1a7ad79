"""The one interface every AWS wire protocol offers, and the choice of one for a service model.

A `WireProtocol` turns an `HttpRequest` into an operation and a params dict in botocore's input
form (what one would pass to a boto3 client), and an output dict or a `ServiceError` back into
an `HttpResponse`, exactly as botocore's own serializers and parsers expect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from botocore.model import OperationModel, ServiceModel

from sagestack.protocol.json_rpc import JsonRpcProtocol
from sagestack.protocol.messages import HttpRequest, HttpResponse
from sagestack.protocol.query import QueryProtocol
from sagestack.protocol.rest_json import RestJsonProtocol
from sagestack.protocol.rest_xml import RestXmlProtocol
from sagestack.spec.errors import ServiceError


class WireProtocol(Protocol):
    service_model: ServiceModel

    def resolve(self, request: HttpRequest) -> OperationModel:
        """The operation `request` names; `UnknownOperationException` when it names none."""
        ...

    def parse(self, request: HttpRequest, operation: OperationModel) -> dict[str, Any]:
        """The request's params, typed by the input shape (datetimes, bytes, ints, ...)."""
        ...

    def serialize(
        self, operation: OperationModel, output: Mapping[str, Any], request_id: str
    ) -> HttpResponse:
        """The response for `output`, already projected onto the operation's output shape."""
        ...

    def serialize_error(
        self,
        error: ServiceError,
        operation: OperationModel | None,
        request_id: str,
        *,
        method: str = "POST",
    ) -> HttpResponse:
        """The error response; `method` "HEAD" gets no body."""
        ...


def protocol_for(service_model: ServiceModel) -> WireProtocol:
    """The protocol a model declares (its `protocol`, else the first of `protocols` we speak)."""
    metadata = service_model.metadata
    for name in (metadata.get("protocol"), *metadata.get("protocols", ())):
        if name in _BY_NAME:
            return _BY_NAME[name](service_model)
    raise ValueError(f"{service_model.service_name}: no supported protocol in {metadata}")


_BY_NAME: dict[str, Callable[[ServiceModel], WireProtocol]] = {
    "json": JsonRpcProtocol,
    "rest-json": RestJsonProtocol,
    "rest-xml": RestXmlProtocol,
    "query": QueryProtocol,
}
