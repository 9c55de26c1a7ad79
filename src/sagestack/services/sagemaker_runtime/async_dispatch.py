"""The asynchronous inference dispatcher: a thread with its own event loop and connection pool
that works through the persistent queue.

For each queued request whose endpoint is serving: read the input (S3 or the request's own
body), send it to a replica of the endpoint with fewer than MaxConcurrentInvocationsPerInstance
of these requests in flight (1 when the config leaves it to SageMaker), then write the answer to
the output location, or the error to the failure location, and record the notification
SageMaker would publish to the SuccessTopic / ErrorTopic. There is no SNS here: notifications
are kept in the endpoint's log group (`/aws/sagemaker/Endpoints/<name>`), stream
`AsyncInferenceNotifications`, one JSON message per event with its "TopicArn". A request older
than its RequestTTLSeconds fails unprocessed. Requests of an endpoint that is not serving (yet,
or after a restart) wait; a replica that cannot be reached is tried again later (3 tries).

A request that names no ContentType is sent with the Content-Type its input object was stored
with: the SageMaker SDK's AsyncPredictor never passes ContentType to InvokeEndpointAsync, it
uploads the serialized input with the serializer's type and relies on SageMaker reading it there.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sagestack.resources.endpoints import log_group
from sagestack.services.sagemaker_runtime.async_queue import AsyncQueue, AsyncRequest
from sagestack.services.sagemaker_runtime.invoke import container_headers
from sagestack.services.sagemaker_runtime.observe import LogSink, MetricsSink, record_invocation
from sagestack.serving.proxy import (
    Proxy,
    ReplicaDisconnected,
    ReplicaTimeout,
    ReplicaUnreachable,
    Reply,
)
from sagestack.serving.routing import AsyncSettings, Replica, RoutingTable
from sagestack.storage.base import ObjectStore, ObjectStoreError, split_s3_uri

LOG = logging.getLogger(__name__)

NOTIFICATIONS_STREAM = "AsyncInferenceNotifications"
MAX_ATTEMPTS = 3
POLL_SECONDS = 0.5
#: What S3 reports for an object stored without a Content-Type: no type to pass on.
UNTYPED = frozenset({"", "binary/octet-stream"})


class Failed(Exception):
    """The request cannot be answered; the message is its failure reason. A model's own error
    answer travels with it: that, not the reason, is the "failure inference response" SageMaker
    uploads to S3FailurePath (the SDK reads it back through the predictor's deserializer)."""

    def __init__(self, reason: str, answer: tuple[bytes, str] | None = None) -> None:
        super().__init__(reason)
        self.answer = answer


class AsyncDispatcher:
    def __init__(
        self,
        queue: AsyncQueue,
        routes: RoutingTable,
        objects: ObjectStore,
        logs: LogSink,
        metrics: MetricsSink,
    ) -> None:
        self._queue = queue
        self._routes = routes
        self._objects = objects
        self._logs = logs
        self._metrics = metrics
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._in_flight: set[str] = set()
        self._per_replica: defaultdict[str, int] = defaultdict(int)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle (any thread) -------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="async inference", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        loop, wakeup = self._loop, self._wakeup
        if loop is not None and wakeup is not None:
            loop.call_soon_threadsafe(wakeup.set)

    def close(self) -> None:
        """Stop taking requests; those in flight are cut and stay queued for the next start."""
        self._stopping = True
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- the dispatcher's own thread --------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._wakeup = asyncio.Event()
        proxy = Proxy(idle_per_replica=8)
        try:
            while not self._stopping:
                try:
                    await self._dispatch(proxy)
                except Exception:
                    LOG.exception("async inference dispatch failed")
                try:
                    async with asyncio.timeout(POLL_SECONDS):
                        await self._wakeup.wait()
                except TimeoutError:
                    pass
                self._wakeup.clear()
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await proxy.close()

    async def _dispatch(self, proxy: Proxy) -> None:
        waiting = await asyncio.to_thread(self._queue.pending)
        now = time.time()
        for request in waiting:
            if request.id in self._in_flight:
                continue
            route = self._routes.get(request.endpoint_arn)
            if now > request.expires:
                settings = route.asynchronous if route is not None else None
                self._start(self._fail_expired(request, settings), request.id)
                continue
            if route is None or route.asynchronous is None:
                continue
            replica = self._free_replica(route.variants, route.asynchronous)
            if replica is None:
                continue
            self._per_replica[replica[1].id] += 1
            task = self._process(proxy, request, route.asynchronous, replica)
            self._start(task, request.id, replica[1].id)

    def _start(self, work: Any, request_id: str, replica_id: str | None = None) -> None:
        self._in_flight.add(request_id)
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            self._in_flight.discard(request_id)
            if replica_id is not None:
                self._per_replica[replica_id] -= 1
            self.wake()  # a slot is free

        task.add_done_callback(done)

    def _free_replica(self, variants: Any, settings: AsyncSettings) -> tuple[Any, Replica] | None:
        limit = settings.max_concurrent or 1
        best: tuple[Any, Replica] | None = None
        for variant in variants:
            if variant.weight <= 0:
                continue
            for replica in variant.replicas:
                busy = self._per_replica[replica.id]
                if busy < limit and (best is None or busy < self._per_replica[best[1].id]):
                    best = (variant, replica)
        return best

    async def _process(
        self,
        proxy: Proxy,
        request: AsyncRequest,
        settings: AsyncSettings,
        target: tuple[Any, Replica],
    ) -> None:
        variant, replica = target
        started = time.perf_counter()
        status = 0
        try:
            body, stored_type = await asyncio.to_thread(self._input, request)
            if not request.content_type and stored_type:
                request = dataclasses.replace(request, content_type=stored_type)
            headers = container_headers(
                {
                    "ContentType": request.content_type,
                    "Accept": request.accept,
                    "CustomAttributes": request.custom_attributes,
                    "InferenceId": request.inference_id,
                }
            )
            try:
                reply: Reply = await proxy.invoke(replica, body, headers, request.timeout)
            except ReplicaTimeout:
                raise Failed(
                    f"Inference request timed out after {request.timeout:g} seconds "
                    "(InvocationTimeoutSeconds)."
                ) from None
            status = reply.status
            if not 200 <= reply.status < 300:
                message = reply.body.decode("utf-8", "replace")
                kind = "server" if reply.status >= 500 else "client"
                raise Failed(
                    f"Received {kind} error ({reply.status}) from model: {message}",
                    (reply.body, reply.headers.get("content-type", "application/octet-stream")),
                )
            content_type = reply.headers.get("content-type", "application/octet-stream")
            await asyncio.to_thread(self._succeed, request, settings, reply.body, content_type)
        except (ReplicaUnreachable, ReplicaDisconnected) as error:
            if request.attempts + 1 < MAX_ATTEMPTS:
                retried = AsyncRequest(**{**_fields(request), "attempts": request.attempts + 1})
                await asyncio.to_thread(self._queue.update, retried)
                return
            await asyncio.to_thread(
                self._fail, request, settings, f"The model container could not answer: {error}"
            )
        except Failed as failure:
            await asyncio.to_thread(self._fail, request, settings, str(failure), failure.answer)
        finally:
            record_invocation(
                self._metrics,
                request.endpoint,
                variant.name,
                status=status,
                instances=len(variant.replicas),
                model_us=(time.perf_counter() - started) * 1e6,
                overhead_us=0.0,
            )

    async def _fail_expired(self, request: AsyncRequest, settings: AsyncSettings | None) -> None:
        await asyncio.to_thread(
            self._fail,
            request,
            settings,
            "Request expired: it was not processed within its RequestTTLSeconds.",
        )

    # -- blocking parts (run in worker threads) ---------------------------------------------

    def _input(self, request: AsyncRequest) -> tuple[bytes, str | None]:
        """The request's input, and the Content-Type its S3 object was stored with (None for an
        inline body or an object stored without one)."""
        if request.body is not None:
            return base64.b64decode(request.body), None
        assert request.input_location is not None
        try:
            bucket, key = split_s3_uri(request.input_location)
            stored = self._objects.head_object(bucket, key).content_type
            with self._objects.open_object(bucket, key) as handle:
                body = handle.read()
        except (ObjectStoreError, ValueError):
            raise Failed(
                f"Could not read the input from {request.input_location}: the object does "
                "not exist or cannot be accessed."
            ) from None
        return body, (None if stored in UNTYPED else stored)

    def _succeed(
        self, request: AsyncRequest, settings: AsyncSettings, body: bytes, content_type: str
    ) -> None:
        bucket, key = split_s3_uri(request.output_location)
        try:
            self._objects.put_object(bucket, key, body, content_type=content_type)
        except (ObjectStoreError, ValueError) as error:
            self._fail(request, settings, f"Could not write the output: {error}")
            return
        self._notify(
            request,
            settings.success_topic,
            "Completed",
            {"contentType": content_type, "outputLocation": request.output_location},
        )
        self._queue.remove(request.id)

    def _fail(
        self,
        request: AsyncRequest,
        settings: AsyncSettings | None,
        reason: str,
        answer: tuple[bytes, str] | None = None,
    ) -> None:
        """Record the failure: the model's error answer (or, when the model gave none, the
        reason) at the failure location, and the notification."""
        response: dict[str, Any] = {}
        body, content_type = answer if answer is not None else (reason.encode(), "text/plain")
        if request.failure_location:
            try:
                bucket, key = split_s3_uri(request.failure_location)
                self._objects.put_object(bucket, key, body, content_type=content_type)
                response["failureLocation"] = request.failure_location
            except (ObjectStoreError, ValueError):
                LOG.warning("could not write the failure of %s", request.inference_id)
        topic = settings.error_topic if settings is not None else None
        self._notify(request, topic, "Failed", response, reason=reason)
        self._queue.remove(request.id)

    def _notify(
        self,
        request: AsyncRequest,
        topic: str | None,
        status: str,
        response: dict[str, Any],
        *,
        reason: str | None = None,
    ) -> None:
        """Record the notification SageMaker publishes (to `topic`, when configured)."""
        message: dict[str, Any] = {
            "awsRegion": request.region,
            "eventTime": _iso(time.time()),
            "receivedTime": _iso(request.received),
            "invocationStatus": status,
            "requestParameters": {
                "contentType": request.content_type or "application/octet-stream",
                "endpointName": request.endpoint,
                "inputLocation": request.input_location,
            },
            "responseParameters": response,
            "inferenceId": request.inference_id,
            "eventVersion": "1.0",
            "eventSource": "aws:sagemaker",
            "eventName": "InferenceResult",
        }
        if reason is not None:
            message["failureReason"] = reason
        if topic:
            message["TopicArn"] = topic
        try:
            self._logs.append(
                log_group(request.endpoint),
                NOTIFICATIONS_STREAM,
                [(int(time.time() * 1000), json.dumps(message))],
                account=request.account,
                region=request.region,
            )
        except Exception:
            LOG.exception("could not record the notification of %s", request.inference_id)


def _fields(request: AsyncRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in request.__dataclass_fields__}


def _iso(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
