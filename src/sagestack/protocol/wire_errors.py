"""What the service model says about an error: its HTTP status, wire code and members.

Every protocol asks the same three questions of a `ServiceError` before writing it out; the
answers come from the model's error shape named by the error's code (by shape name, or by the
`error.code` the model gives it for query-style wires).
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.model import ServiceModel, StructureShape

from sagestack.spec.errors import ServiceError

#: Unmodelled errors that query-style services (STS, IAM, CloudWatch) spell differently.
_QUERY_SPELLINGS = {"ValidationException": "ValidationError"}


@dataclass(frozen=True, slots=True)
class ErrorModel:
    status: int
    #: The code as query-style wires spell it (the model's `error.code`, else the shape name).
    query_code: str
    shape: StructureShape | None


class ErrorCatalog:
    """The error shapes of one service, found by code; built once per protocol instance."""

    def __init__(self, service_model: ServiceModel) -> None:
        self._shapes: dict[str, StructureShape] = {}
        for shape in service_model.error_shapes:
            self._shapes[shape.name] = shape
            code = shape.metadata.get("error", {}).get("code")
            if code:
                self._shapes.setdefault(code, shape)

    def describe(self, error: ServiceError) -> ErrorModel:
        shape = self._shapes.get(error.code)
        details = shape.metadata.get("error", {}) if shape is not None else {}
        status = error.status or details.get("httpStatusCode") or 400
        query_code = details.get("code") or _QUERY_SPELLINGS.get(error.code, error.code)
        return ErrorModel(int(status), query_code, shape)

    @staticmethod
    def json_message_key(shape: StructureShape | None) -> str:
        """The JSON key of an error's message: the shape's own `message` member's, if it has one
        (botocore reads `message` and `Message`; the modelled parse reads the member's own)."""
        if shape is not None:
            for name, member in shape.members.items():
                if name.lower() == "message":
                    return str(member.serialization.get("name", name))
        return "message"
