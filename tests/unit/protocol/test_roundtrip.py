"""Every operation of every served model, through botocore's own client code both ways:
botocore serializes a request that we resolve and parse back into the same params, and
botocore parses our response back into the same output."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from sagestack.protocol.wire import WireProtocol, protocol_for
from sagestack.spec.errors import ServiceError
from tests.unit.protocol.botocore_wire import (
    SERVICES,
    normalized,
    parse_response,
    request_for,
    service,
)
from tests.unit.protocol.samples import sample_members

#: Operations whose model gives two members one XML element name (S3's deprecated
#: notification configuration: `Event` and the flattened list `Events` of `<Event>`).
_AMBIGUOUS = frozenset({"GetBucketNotification", "PutBucketNotification"})
#: Responses whose wire form botocore's plain parser cannot read: the client reads them in a
#: handler (GetBucketLocation's document is `<LocationConstraint>` text); tests/api cover them.
_CLIENT_PARSED = frozenset({"GetBucketLocation"})


def _difference(got: dict[str, Any], want: dict[str, Any]) -> str:
    keys = sorted(set(got) | set(want))
    return ", ".join(
        f"{key}: {got.get(key)!r} != {want.get(key)!r}"
        for key in keys
        if normalized(got.get(key)) != normalized(want.get(key))
    )


def _members(shape: StructureShape | None) -> dict[str, Shape]:
    return dict(shape.members) if shape is not None else {}


def _operations(model: ServiceModel) -> list[OperationModel]:
    return [model.operation_model(name) for name in model.operation_names]


def _same_route(resolved: OperationModel, sent: OperationModel) -> bool:
    """A deprecated operation that shares its route and inputs with its successor resolves to
    the successor (GetBucketLifecycle -> GetBucketLifecycleConfiguration); nothing else may."""
    return (
        bool(sent.deprecated)
        and resolved.http == sent.http
        and set(_members(resolved.input_shape)) == set(_members(sent.input_shape))
    )


@pytest.mark.parametrize("name", SERVICES)
def test_botocore_requests_parse_back_to_their_params(name: str) -> None:
    model = service(name)
    protocol: WireProtocol = protocol_for(model)
    failures: list[str] = []
    for operation in _operations(model):
        if operation.name in _AMBIGUOUS:
            continue
        params = sample_members(operation.input_shape)
        request = request_for(operation, params)
        resolved = protocol.resolve(request)
        if resolved.name != operation.name and not _same_route(resolved, operation):
            failures.append(f"{operation.name}: resolved as {resolved.name}")
            continue
        parsed = protocol.parse(request, resolved)
        for member_name, member in _members(operation.input_shape).items():
            if member.serialization.get("hostLabel") and "location" not in member.serialization:
                params.pop(member_name)  # travels in the host name only
        if normalized(parsed) != normalized(params):
            failures.append(f"{operation.name}: {_difference(parsed, params)}")
    assert not failures, "\n".join(failures[:10])


def _comparable_output(operation: OperationModel, parsed: dict[str, Any]) -> dict[str, Any]:
    parsed.pop("ResponseMetadata", None)
    shape = operation.output_shape
    payload = shape.serialization.get("payload") if shape is not None else None
    if payload and shape.members[payload].type_name == "blob" and payload in parsed:
        parsed[payload] = parsed[payload].encode()  # botocore hands a bytes body back as text
    return parsed


_AMBIGUOUS = frozenset({"GetBucketNotification", "PutBucketNotification"})
#: Responses whose wire form botocore's plain parser cannot read: the client reads them in a
#: handler (GetBucketLocation's document is `<LocationConstraint>` text); tests/api cover them.
_CLIENT_PARSED = frozenset({"GetBucketLocation"})


@pytest.mark.parametrize("name", SERVICES)
def test_our_responses_parse_back_in_botocore(name: str) -> None:
    model = service(name)
    protocol = protocol_for(model)
    failures: list[str] = []
    for operation in _operations(model):
        if operation.has_event_stream_output or operation.name in _AMBIGUOUS | _CLIENT_PARSED:
            continue
        output = sample_members(operation.output_shape)
        response = protocol.serialize(operation, output, "req-1")
        parsed = _comparable_output(operation, parse_response(operation, response, model))
        if normalized(parsed) != normalized(output):
            failures.append(f"{operation.name}: {_difference(parsed, output)}")
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize("name", SERVICES)
def test_every_modelled_error_parses_back_in_botocore(name: str) -> None:
    model = service(name)
    protocol = protocol_for(model)
    operation = _operations(model)[0]
    failures: list[str] = []
    for shape in model.error_shapes:
        fields = {
            key: value for key, value in sample_members(shape).items() if key.lower() != "message"
        }
        error = ServiceError("it went wrong", code=shape.name, fields=fields)
        response = protocol.serialize_error(error, operation, "req-1")
        parsed = parse_response(operation, response, model)
        expected_status = shape.metadata.get("error", {}).get("httpStatusCode", 400)
        found = (
            parsed["Error"]["Code"],
            parsed["Error"]["Message"],
            parsed["ResponseMetadata"]["HTTPStatusCode"],
        )
        want = (shape.metadata.get("error", {}).get("code", shape.name), "it went wrong")
        if found != (*want, expected_status):
            failures.append(f"{shape.name}: {found} != {(*want, expected_status)}")
            continue
        modelled = {key: parsed[key] for key in fields if key in parsed}
        if normalized(modelled) != normalized(fields):
            failures.append(f"{shape.name}: fields {modelled!r} != {fields!r}")
    assert not failures, "\n".join(failures[:10])
