"""The runtime data plane, assembled: the three invocation APIs and the background work they
hand off to (the data-capture writer, the asynchronous inference dispatcher), with one
start / reset / close for the composition root."""

from __future__ import annotations

from sagestack.services.sagemaker_runtime.async_api import AsyncApi
from sagestack.services.sagemaker_runtime.async_dispatch import AsyncDispatcher
from sagestack.services.sagemaker_runtime.async_queue import AsyncQueue
from sagestack.services.sagemaker_runtime.capture import CaptureWriter
from sagestack.services.sagemaker_runtime.invoke import InvokeApi
from sagestack.services.sagemaker_runtime.observe import LogSink, MetricsSink
from sagestack.services.sagemaker_runtime.stream import StreamApi
from sagestack.serving.proxy import Proxy
from sagestack.serving.router import Router
from sagestack.serving.routing import RoutingTable
from sagestack.storage.base import ObjectStore


class DataPlane:
    def __init__(
        self,
        routes: RoutingTable,
        proxy: Proxy,
        router: Router,
        *,
        objects: ObjectStore,
        logs: LogSink,
        metrics: MetricsSink,
        queue: AsyncQueue,
    ) -> None:
        self.capture = CaptureWriter(objects)
        self.dispatcher = AsyncDispatcher(queue, routes, objects, logs, metrics)
        self.invoke = InvokeApi(routes, proxy, router, metrics=metrics, capture=self.capture)
        self.stream = StreamApi(self.invoke, proxy, router, metrics)
        self.asynchronous = AsyncApi(self.invoke, queue, self.dispatcher.wake)

    def apis(self) -> tuple[object, ...]:
        return (self.invoke, self.stream, self.asynchronous)

    def start(self) -> None:
        """Start the dispatcher, which resumes the requests a restart left queued."""
        self.dispatcher.start()

    def reset(self) -> None:
        self.capture.reset()

    def close(self) -> None:
        """Stop the dispatcher (queued requests stay for the next start) and write the data
        capture still queued."""
        self.dispatcher.close()
        self.capture.close()
