"""One error hierarchy for every service sagestack speaks.

A `ServiceError` names an AWS error code, a message and, where the model says so, extra members
(S3's `BucketName`, runtime's `OriginalStatusCode`, ...). When `status` is None the protocol layer
takes the HTTP status from the service model's error shape (`error.httpStatusCode`), else 400.
Errors AWS returns but does not model (ValidationException, ...) carry their status here.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    code: str = "InternalFailure"
    status: int | None = None
    sender_fault: bool = True

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields: dict[str, Any] = fields or {}
        self.headers: dict[str, str] = headers or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message})"


# Errors every AWS JSON service returns without modelling them.
class ValidationException(ServiceError):
    code = "ValidationException"
    status = 400


class SerializationException(ServiceError):
    code = "SerializationException"
    status = 400


class UnknownOperationException(ServiceError):
    code = "UnknownOperationException"
    status = 400


class AccessDeniedException(ServiceError):
    code = "AccessDeniedException"
    status = 400


class RequestEntityTooLarge(ServiceError):
    code = "RequestEntityTooLarge"
    status = 413


class InternalFailure(ServiceError):
    code = "InternalFailure"
    status = 500
    sender_fault = False


class NotImplementedYet(ServiceError):
    """A modelled operation sagestack does not implement yet (HTTP 501)."""

    code = "NotImplemented"
    status = 501
    sender_fault = False

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            f"{operation} is not yet implemented by sagestack's {service} service; "
            "`sagestack coverage` lists what is."
        )


# SageMaker's modelled errors (status from the model: 400 for all four).
class ResourceNotFound(ServiceError):
    code = "ResourceNotFound"


class ResourceInUse(ServiceError):
    code = "ResourceInUse"


class ResourceLimitExceeded(ServiceError):
    code = "ResourceLimitExceeded"


class ConflictException(ServiceError):
    code = "ConflictException"
