"""A serverless variant's capacity: requests in flight against MaxConcurrency, and the replica
that comes on the first request (cold start) and goes after an idle period (scale to zero).

The request path counts invocations here (in the server's event loop); a request that finds no
replica asks the controller for one and waits until the routing table shows it, as SageMaker
holds a cold-start request rather than failing it. The controller's watchdog reads `idle` to
stop the replica of a variant nobody called for `serverless_idle_seconds` (a variant with
ProvisionedConcurrency keeps it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sagestack.control.replicas import DeployError, Fleet, ReplicaProcess, wait_ready
from sagestack.resources.records import ResourceRecord
from sagestack.serving.hosting import Refused
from sagestack.serving.routing import RoutingTable, VariantRoute

LOG = logging.getLogger(__name__)


#: Seconds a cold-start request waits for its replica.
COLD_START_SECONDS = 180.0


class ServerlessCapacity:
    def __init__(
        self,
        arn: str,
        variant: str,
        config: dict[str, int],
        *,
        routes: RoutingTable,
        wake: Callable[[], None],
    ) -> None:
        self.arn = arn
        self.variant = variant
        self.max_concurrency = int(config.get("MaxConcurrency", 20))
        self.provisioned = int(config.get("ProvisionedConcurrency", 0) or 0)
        self.in_flight = 0
        self.last_used = time.monotonic()
        self._routes = routes
        self._wake = wake

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        if self.in_flight >= self.max_concurrency:
            raise Refused(
                "ThrottlingException",
                400,
                f"Rate exceeded: serverless variant {self.variant} is serving its "
                f"MaxConcurrency of {self.max_concurrency} concurrent invocations.",
            )
        self.in_flight += 1
        self.last_used = time.monotonic()
        try:
            yield
        finally:
            self.in_flight -= 1
            self.last_used = time.monotonic()

    async def cold_start(self) -> VariantRoute:
        self._wake()
        deadline = time.monotonic() + COLD_START_SECONDS
        while True:
            route = self._routes.get(self.arn)
            if route is None:
                raise Refused("ValidationError", 400, "The endpoint is no longer in service.")
            variant = route.variant(self.variant)
            if variant is not None and variant.replicas:
                return variant
            if time.monotonic() > deadline:
                raise Refused(
                    "ModelNotReadyException",
                    429,
                    f"The serverless variant {self.variant} could not start a replica within "
                    f"{COLD_START_SECONDS:g} seconds; try again.",
                )
            await asyncio.sleep(0.02)

    def idle(self, seconds: float) -> bool:
        """Whether the replica may go: no invocation in flight for `seconds`, none provisioned."""
        return (
            self.provisioned == 0
            and self.in_flight == 0
            and time.monotonic() - self.last_used >= seconds
        )


class ServerlessHost(Protocol):
    """What serverless scaling needs of the endpoint controller."""

    def fleet_of(self, arn: str) -> tuple[ResourceRecord, Mapping[str, Any], Fleet] | None: ...

    def start_replica(
        self, record: ResourceRecord, variant: Mapping[str, Any]
    ) -> ReplicaProcess: ...

    def publish(self, arn: str) -> None: ...

    def note_workloads(self, arn: str) -> None: ...

    def drain_and_stop(self, fleet: Fleet) -> None: ...


class ServerlessScaling:
    """Starts a serverless variant's replica when a request finds none (one start at a time
    per variant) and stops it after the idle period (the controller's watchdog asks)."""

    def __init__(self, host: ServerlessHost, *, idle_seconds: float) -> None:
        self._host = host
        self._idle_seconds = idle_seconds
        self._starting: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def cold_start(self, arn: str, variant_name: str) -> None:
        with self._lock:
            if (arn, variant_name) in self._starting:
                return
            self._starting.add((arn, variant_name))
        threading.Thread(target=self._start, args=(arn, variant_name), daemon=True).start()

    def _start(self, arn: str, variant_name: str) -> None:
        try:
            entry = self._host.fleet_of(arn)
            if entry is None:
                return
            record, deployment, fleet = entry
            variant = next(
                v for v in deployment["ProductionVariants"] if v["VariantName"] == variant_name
            )
            if fleet.get(variant_name):
                self._host.publish(arn)
                return
            replica = self._host.start_replica(record, variant)
            try:
                wait_ready([replica])
            except DeployError as error:
                replica.stop()
                LOG.error("%s: serverless replica of %s failed: %s", arn, variant_name, error)
                return
            fleet.setdefault(variant_name, []).append(replica)
            self._host.publish(arn)
            self._host.note_workloads(arn)
        finally:
            with self._lock:
                self._starting.discard((arn, variant_name))

    def scale_to_zero(
        self, arn: str, fleet: Fleet, capacities: Iterable[tuple[str, ServerlessCapacity]]
    ) -> None:
        """Stop the replicas of the serverless variants (by name, with their capacity) nobody
        called for the idle period."""
        for name, capacity in capacities:
            if fleet.get(name) and capacity.idle(self._idle_seconds):
                retired = fleet.pop(name)
                fleet[name] = []
                self._host.publish(arn)
                self._host.drain_and_stop({name: retired})
                self._host.note_workloads(arn)
