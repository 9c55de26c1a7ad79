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
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sagestack.serving.hosting import Refused
from sagestack.serving.routing import RoutingTable, VariantRoute

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
