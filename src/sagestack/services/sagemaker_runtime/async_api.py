"""InvokeEndpointAsync: accept the request into the persistent queue and answer 202 with where
its result will be; the dispatcher (`async_dispatch`) does the inference.

Where results go, as SageMaker names them: the output at
`<S3OutputPath>[/<S3OutputPathExtension>]/<Filename or <inference id>.out>`, a failure at
`<S3FailurePath>[/<S3OutputPathExtension>]/<inference id>-error.out` (FailureLocation is only
returned when the config has an S3FailurePath).
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.services.sagemaker_runtime.async_queue import AsyncQueue, AsyncRequest
from sagestack.services.sagemaker_runtime.invoke import InvokeApi, not_async, validation_error

#: SageMaker's defaults: a request waits at most 6 hours, the model has 15 minutes.
DEFAULT_TTL_SECONDS = 21600
DEFAULT_INVOCATION_TIMEOUT = 900


class AsyncApi:
    def __init__(self, invoke: InvokeApi, queue: AsyncQueue, wake: Callable[[], None]) -> None:
        self._invoke = invoke
        self._queue = queue
        self._wake = wake

    @operation("InvokeEndpointAsync")
    async def invoke_endpoint_async(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        name = request["EndpointName"]
        route = self._invoke.route(ctx, name)
        settings = route.asynchronous
        if settings is None:
            raise not_async(name)
        location = request.get("InputLocation")
        body: bytes | None = request.get("Body")
        if not location and body is None:
            raise validation_error("Either InputLocation or Body must be specified.")
        if location and body is not None:
            raise validation_error("InputLocation and Body cannot both be specified.")
        if location and not location.startswith("s3://"):
            raise validation_error(f"InputLocation {location} is not an S3 URI (s3://...).")
        inference_id = request.get("InferenceId") or str(uuid.uuid4())
        extension = request.get("S3OutputPathExtension")
        output = _join(
            settings.output_path, extension, request.get("Filename") or f"{inference_id}.out"
        )
        failure = (
            _join(settings.failure_path, extension, f"{inference_id}-error.out")
            if settings.failure_path
            else None
        )
        now = time.time()
        accepted = AsyncRequest(
            id=str(uuid.uuid4()),
            endpoint_arn=route.arn,
            endpoint=name,
            account=ctx.account,
            region=ctx.region,
            inference_id=inference_id,
            input_location=location,
            output_location=output,
            failure_location=failure,
            content_type=request.get("ContentType"),
            accept=request.get("Accept"),
            custom_attributes=request.get("CustomAttributes"),
            received=now,
            expires=now + int(request.get("RequestTTLSeconds") or DEFAULT_TTL_SECONDS),
            timeout=float(request.get("InvocationTimeoutSeconds") or DEFAULT_INVOCATION_TIMEOUT),
            body=base64.b64encode(body).decode("ascii") if body is not None else None,
        )
        await asyncio.to_thread(self._queue.add, accepted)
        self._wake()
        return {"InferenceId": inference_id, "OutputLocation": output, "FailureLocation": failure}


def _join(base: str, extension: str | None, name: str) -> str:
    parts = [base.rstrip("/")]
    if extension:
        parts.append(extension.strip("/"))
    parts.append(name)
    return "/".join(parts)
