"""The routing table: which replicas serve which endpoint variant, as an immutable snapshot.

The endpoint controller publishes a new `EndpointRoute` whenever replicas come or go; the
InvokeEndpoint path only reads the current mapping (a dict swapped whole, never mutated), so it
never touches the database or takes a lock (design principle 6).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagestack.serving.hosting import Hosting


@dataclass(frozen=True, slots=True)
class Replica:
    #: SageMaker's instance id for the replica ("i-0123..."), also its log stream's suffix.
    id: str
    #: Base URL of its model server, e.g. "http://127.0.0.1:40123".
    address: str
    #: A multi-container instance's containers, in order: (ContainerHostname, base URL).
    containers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class VariantRoute:
    name: str
    weight: float
    replicas: tuple[Replica, ...]
    #: Multi-model, multi-container or serverless variants: how to serve them (None: plain).
    hosting: Hosting | None = None


#: SageMaker's content types captured as text when DataCaptureConfig names none.
DEFAULT_CSV_TYPES = ("text/csv",)
DEFAULT_JSON_TYPES = ("application/json",)


@dataclass(frozen=True, slots=True)
class CaptureSettings:
    """An endpoint's DataCaptureConfig, parsed once when the route is published."""

    destination: str
    percentage: int
    inputs: bool
    outputs: bool
    csv_types: frozenset[str]
    json_types: frozenset[str]

    @classmethod
    def of(cls, config: Mapping[str, Any] | None) -> CaptureSettings | None:
        """None when there is nothing to capture (no config, or EnableCapture false)."""
        if not config or not config.get("EnableCapture", True):
            return None
        modes = {option["CaptureMode"] for option in config.get("CaptureOptions", [])}
        header = config.get("CaptureContentTypeHeader")
        csv = header.get("CsvContentTypes", ()) if header else DEFAULT_CSV_TYPES
        json = header.get("JsonContentTypes", ()) if header else DEFAULT_JSON_TYPES
        return cls(
            destination=str(config["DestinationS3Uri"]).rstrip("/"),
            percentage=int(config.get("InitialSamplingPercentage", 100)),
            inputs=bool(modes & {"Input", "InputAndOutput"}) or not modes,
            outputs=bool(modes & {"Output", "InputAndOutput"}) or not modes,
            csv_types=frozenset(t.lower() for t in csv),
            json_types=frozenset(t.lower() for t in json),
        )


@dataclass(frozen=True, slots=True)
class AsyncSettings:
    """An endpoint's AsyncInferenceConfig, as the async dispatcher uses it."""

    output_path: str
    failure_path: str | None
    success_topic: str | None
    error_topic: str | None
    #: None: SageMaker chooses; sagestack sends one at a time per instance then.
    max_concurrent: int | None

    @classmethod
    def of(cls, config: Mapping[str, Any] | None) -> AsyncSettings | None:
        if not config:
            return None
        output = config.get("OutputConfig", {})
        notify = output.get("NotificationConfig", {})
        failure = output.get("S3FailurePath")
        limit = config.get("ClientConfig", {}).get("MaxConcurrentInvocationsPerInstance")
        return cls(
            output_path=str(output.get("S3OutputPath", "")).rstrip("/"),
            failure_path=str(failure).rstrip("/") if failure else None,
            success_topic=notify.get("SuccessTopic"),
            error_topic=notify.get("ErrorTopic"),
            max_concurrent=int(limit) if limit else None,
        )


@dataclass(frozen=True, slots=True)
class EndpointRoute:
    arn: str
    name: str
    account: str
    region: str
    variants: tuple[VariantRoute, ...]
    #: Shadow variants: each request to a production variant is mirrored to them.
    shadows: tuple[VariantRoute, ...] = ()
    capture: CaptureSettings | None = None
    asynchronous: AsyncSettings | None = None
    #: The EndpointConfig has ExplainerConfig (SageMaker Clarify online explainability).
    explainer: bool = False

    def variant(self, name: str) -> VariantRoute | None:
        return next((v for v in self.variants if v.name == name), None)


def deployment_features(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The route's settings that come from an endpoint's Deployment (its config sections):
    keyword arguments for EndpointRoute."""
    return {
        "capture": CaptureSettings.of(deployment.get("DataCaptureConfig")),
        "asynchronous": AsyncSettings.of(deployment.get("AsyncInferenceConfig")),
        "explainer": bool(deployment.get("ExplainerConfig")),
    }


class RoutingTable:
    def __init__(self) -> None:
        self._routes: Mapping[str, EndpointRoute] = {}
        self._write = threading.Lock()

    def get(self, arn: str) -> EndpointRoute | None:
        return self._routes.get(arn)

    def publish(self, route: EndpointRoute) -> None:
        with self._write:
            self._routes = {**self._routes, route.arn: route}

    def withdraw(self, arn: str) -> None:
        with self._write:
            self._routes = {k: v for k, v in self._routes.items() if k != arn}

    def clear(self) -> None:
        with self._write:
            self._routes = {}
