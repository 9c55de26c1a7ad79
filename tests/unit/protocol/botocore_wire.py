"""botocore's own client side of the wire: its serializers build requests for our parsers, its
parsers read our responses."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from sagestack.protocol.messages import HttpRequest, HttpResponse
from sagestack.spec.catalog import load_service

SERVICES = ("sagemaker", "sagemaker-runtime", "s3", "sts", "logs", "iam", "events", "cloudwatch")


@cache
def service(name: str) -> ServiceModel:
    model = load_service(name)
    if name == "cloudwatch":  # what boto3 speaks to it today: awsJson 1.0
        data = dict(model._service_description)
        data["metadata"] = {**data["metadata"], "protocol": "json"}
        model = ServiceModel(data, service_name=name)
    return model


def wire_name(model: ServiceModel) -> str:
    return str(model.metadata["protocol"])


def request_for(operation: OperationModel, params: dict[str, Any]) -> HttpRequest:
    """The HttpRequest a botocore client sends for `params`, as our HTTP layer hands it over."""
    serializer = create_serializer(wire_name(operation.service_model), include_validation=True)
    request_dict = serializer.serialize_to_request(params, operation)
    prepare_request_dict(request_dict, endpoint_url="https://localhost:4566")
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    headers = {key.lower(): str(value) for key, value in prepared.headers.items()}
    query = tuple(parse_qsl(url.query, keep_blank_values=True))
    return HttpRequest(prepared.method, url.path, query, headers, body, "localhost")


def parse_response(
    operation: OperationModel | None, response: HttpResponse, model: ServiceModel
) -> dict[str, Any]:
    """What a botocore client makes of `response`, modelled error fields included."""
    parser = create_parser(wire_name(model))
    headers = HeadersDict()
    for key, value in response.headers:
        headers[key] = value
    response_dict = {"status_code": response.status, "headers": headers, "body": response.body}
    output_shape = operation.output_shape if operation is not None else None
    parsed: dict[str, Any] = parser.parse(response_dict, output_shape)
    if response.status >= 300:
        error_shape = model.shape_for_error_code(parsed["Error"]["Code"])
        if error_shape is not None:
            parsed.update(parser.parse(response_dict, error_shape))
    return parsed


def normalized(value: Any) -> Any:
    """Values compared across the wire: datetimes as UTC epoch seconds, nested alike."""
    if isinstance(value, dict):
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(item) for item in value]
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    return value
