"""What an invocation leaves behind besides its answer: the invocation metrics of namespace
AWS/SageMaker (per EndpointName and VariantName), recorded through a sink that only queues them
(the request path does no I/O here).

The sink is a protocol so the runtime API does not depend on where metrics are kept;
`sagestack.observability.metrics.MetricsRecorder` is the one sagestack wires in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

NAMESPACE = "AWS/SageMaker"


class MetricsSink(Protocol):
    def put(
        self,
        namespace: str,
        dims: tuple[tuple[str, str], ...],
        values: Sequence[tuple[str, float, str]],
        timestamp: float | None = None,
    ) -> None: ...


class LogSink(Protocol):
    """sagestack's own log writer (LogStore.append): a batch into a group's stream."""

    def append(
        self,
        group: str,
        stream: str,
        events: Sequence[tuple[int, str]],
        *,
        account: str,
        region: str,
        ingestion_time: int | None = None,
    ) -> None: ...


class NoMetrics:
    """A sink that keeps nothing (an API built without a recorder, as in some unit tests)."""

    def put(
        self,
        namespace: str,
        dims: tuple[tuple[str, str], ...],
        values: Sequence[tuple[str, float, str]],
        timestamp: float | None = None,
    ) -> None:
        return None


def invocation_values(
    status: int, instances: int, model_us: float, overhead_us: float
) -> list[tuple[str, float, str]]:
    """The metrics one invocation sent to a variant records. `status` is the container's
    (0: no answer, a timeout or a broken connection, counted as a 5XX model error)."""
    failed = not 200 <= status < 300
    return [
        ("Invocations", 1.0, "None"),
        ("InvocationsPerInstance", 1.0 / max(instances, 1), "None"),
        ("Invocation4XXErrors", 1.0 if 400 <= status < 500 else 0.0, "None"),
        ("Invocation5XXErrors", 1.0 if status >= 500 or status == 0 else 0.0, "None"),
        ("InvocationModelErrors", 1.0 if failed else 0.0, "None"),
        ("ModelLatency", model_us, "Microseconds"),
        ("OverheadLatency", max(overhead_us, 0.0), "Microseconds"),
    ]


def record_invocation(
    sink: MetricsSink,
    endpoint: str,
    variant: str,
    *,
    status: int,
    instances: int,
    model_us: float,
    overhead_us: float,
) -> None:
    sink.put(
        NAMESPACE,
        (("EndpointName", endpoint), ("VariantName", variant)),
        invocation_values(status, instances, model_us, overhead_us),
    )
