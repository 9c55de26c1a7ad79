"""The request flow, in one place: resolve → parse → validate → call → shape → serialize.

Every AWS service sagestack speaks goes through `Pipeline.handle`. A `ServiceError` anywhere
becomes that error on the wire; any other exception becomes `InternalFailure` (500) with its
traceback logged under the request id. Modelled operations without a handler answer 501.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.model import OperationModel, ServiceModel

from sagestack.api.context import Caller, RequestContext
from sagestack.api.registry import OperationRegistry, Output
from sagestack.protocol.messages import ClientDisconnected, HttpRequest, HttpResponse
from sagestack.protocol.wire import WireProtocol
from sagestack.spec.errors import InternalFailure, NotImplementedYet, ServiceError
from sagestack.spec.shaping import check_output, shape_output
from sagestack.spec.validation import validate_input

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServiceEndpoint:
    """One AWS service as served: its botocore name, model and wire protocol."""

    name: str
    model: ServiceModel
    protocol: WireProtocol


@dataclass(frozen=True, slots=True)
class Outcome:
    response: HttpResponse
    operation: str
    error_code: str | None


class Pipeline:
    def __init__(
        self,
        registry: OperationRegistry,
        *,
        strict_output: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._strict_output = strict_output
        self._clock = clock

    @staticmethod
    def resolve(endpoint: ServiceEndpoint, request: HttpRequest) -> OperationModel | None:
        """The operation `request` names, or None (`handle` then answers the error)."""
        try:
            return endpoint.protocol.resolve(request)
        except ServiceError:
            return None

    def streams_body(self, endpoint: ServiceEndpoint, operation: OperationModel | None) -> bool:
        """Whether the operation's handler reads the request body as it arrives."""
        return operation is not None and self._registry.streams_body(endpoint.name, operation.name)

    async def handle(
        self,
        endpoint: ServiceEndpoint,
        request: HttpRequest,
        caller: Caller,
        request_id: str,
        operation: OperationModel | None = None,
    ) -> Outcome:
        """Answer `request`; `operation`, when the caller already resolved it, is not
        resolved again."""
        try:
            if operation is None:
                operation = endpoint.protocol.resolve(request)
            output = await self._call(endpoint, operation, request, caller, request_id)
            response = endpoint.protocol.serialize(operation, output, request_id)
            return Outcome(response, operation.name, None)
        except ServiceError as error:
            return self._error(endpoint, operation, request, request_id, error)
        except ClientDisconnected:
            name = operation.name if operation is not None else "?"
            LOG.info("request %s: %s.%s: the client went away", request_id, endpoint.name, name)
            failure = InternalFailure("The client closed the connection.")
            return self._error(endpoint, operation, request, request_id, failure)
        except Exception:
            name = operation.name if operation is not None else "?"
            LOG.exception("request %s: %s.%s failed", request_id, endpoint.name, name)
            failure = InternalFailure("An internal error occurred; see the sagestack log.")
            return self._error(endpoint, operation, request, request_id, failure)

    async def _call(
        self,
        endpoint: ServiceEndpoint,
        operation: OperationModel,
        request: HttpRequest,
        caller: Caller,
        request_id: str,
    ) -> Output:
        params = endpoint.protocol.parse(request, operation)
        if operation.input_shape is not None:
            validate_input(params, operation.input_shape)
        found = self._registry.lookup(endpoint.name, operation.name)
        if found is None:
            raise NotImplementedYet(endpoint.name, operation.name)
        handler, is_async = found
        ctx = RequestContext(
            request_id=request_id,
            service=endpoint.name,
            operation=operation.name,
            account=caller.account,
            region=caller.region,
            access_key_id=caller.access_key_id,
            now=round(self._clock(), 3),  # SageMaker's times have millisecond precision
            principal_arn=caller.principal_arn,
            user_id=caller.user_id,
        )
        result = handler(ctx, params)
        if is_async:
            assert inspect.isawaitable(result)
            result = await result
        assert isinstance(result, dict)
        output = shape_output(result, operation.output_shape)
        if self._strict_output:
            check_output(output, operation.output_shape, operation.name)
        return output

    @staticmethod
    def _error(
        endpoint: ServiceEndpoint,
        operation: OperationModel | None,
        request: HttpRequest,
        request_id: str,
        error: ServiceError,
    ) -> Outcome:
        response = endpoint.protocol.serialize_error(
            error, operation, request_id, method=request.method
        )
        return Outcome(response, operation.name if operation else "?", error.code)
