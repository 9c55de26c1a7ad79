"""Rolling updates (DeploymentConfig.RollingUpdatePolicy): the new config's instances replace
the old ones batch by batch, with traffic on both while they mix.

Each step starts up to MaximumBatchSize new instances (INSTANCE_COUNT, or CAPACITY_PERCENT of
the old fleet), waits for their /ping, routes traffic to them, then retires as many old
instances (after their in-flight requests), and waits WaitIntervalInSeconds. When a batch fails
to start, or the update runs past MaximumExecutionTimeoutInSeconds, the update rolls back: the
endpoint goes RollingBack, the old config's instances are started again in batches of
RollbackMaximumBatchSize (default: all at once) while the new ones are retired, and it ends
InService on the old config with the FailureReason. At every moment some instance serves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sagestack.control.replicas import DeployError, Fleet, ReplicaProcess, wait_ready
from sagestack.control.updates import Host
from sagestack.resources.records import ResourceRecord

#: MaximumExecutionTimeoutInSeconds when the policy gives none (SageMaker's maximum, 4 hours).
DEFAULT_TIMEOUT = 14400


class RollbackNeeded(Exception):
    """The rolling update cannot go on; the reason becomes the endpoint's FailureReason."""


@dataclass(frozen=True, slots=True)
class RollingPolicy:
    batch: int
    rollback_batch: int
    wait: float
    timeout: float

    @classmethod
    def of(cls, policy: Mapping[str, Any], old_instances: int) -> RollingPolicy:
        def size(spec: Mapping[str, Any] | None, default: int) -> int:
            if not spec:
                return default
            if spec["Type"] == "CAPACITY_PERCENT":
                return max(1, math.floor(old_instances * float(spec["Value"]) / 100))
            return max(1, int(spec["Value"]))

        batch = size(policy.get("MaximumBatchSize"), 1)
        return cls(
            batch=batch,
            rollback_batch=size(policy.get("RollbackMaximumBatchSize"), max(1, old_instances)),
            wait=float(policy.get("WaitIntervalInSeconds", 0)),
            timeout=float(policy.get("MaximumExecutionTimeoutInSeconds", DEFAULT_TIMEOUT)),
        )


def count(fleet: Fleet) -> int:
    return sum(len(replicas) for replicas in fleet.values())


def wanted(deployment: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], int]]:
    return [
        (variant, int(variant.get("InitialInstanceCount") or 1))
        for variant in deployment["ProductionVariants"]
    ]


def next_batch(deployment: Mapping[str, Any], fleet: Fleet, size: int) -> list[Mapping[str, Any]]:
    """The variants of the next `size` instances to start, filling the variants in order."""
    batch: list[Mapping[str, Any]] = []
    for variant, target in wanted(deployment):
        missing = target - len(fleet.get(variant["VariantName"], []))
        batch.extend([variant] * max(0, min(missing, size - len(batch))))
    return batch


def take_oldest(fleet: Fleet, size: int) -> list[ReplicaProcess]:
    """Remove up to `size` replicas from `fleet`, from the largest variant first, keeping at
    least one in every variant while others have more."""
    taken: list[ReplicaProcess] = []
    while len(taken) < size and count(fleet) > 0:
        name = max(fleet, key=lambda n: len(fleet[n]))
        taken.append(fleet[name].pop(0))
    return taken


class Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + seconds
        self.seconds = seconds

    def check(self) -> None:
        if self._clock() > self._end:
            raise RollbackNeeded(
                "The rolling update did not finish within MaximumExecutionTimeoutInSeconds "
                f"({self.seconds:g} seconds)."
            )


def failed_batch(error: DeployError) -> RollbackNeeded:
    return RollbackNeeded(f"Rolling update failed: {error}")


def roll(
    host: Host,
    record: ResourceRecord,
    active: Mapping[str, Any],
    old: Fleet,
    desired: Mapping[str, Any],
) -> None:
    """Replace `old` (serving `active`) by `desired`'s instances batch by batch; roll back on
    failure. Ends with the endpoint InService (on `desired`, or on `active` with a reason)."""
    config = record.spec["DeploymentConfig"]["RollingUpdatePolicy"]
    policy = RollingPolicy.of(config, count(old))
    deadline = Deadline(policy.timeout)
    remaining: Fleet = {name: list(replicas) for name, replicas in old.items()}
    new: Fleet = {}
    total = sum(n for _, n in wanted(desired))

    def publish() -> None:
        mixed = count(new) / max(1, count(new) + count(remaining))
        host.publish_route(host.mixed_route(record, (active, remaining), (desired, new), mixed))

    try:
        while count(new) < total:
            deadline.check()
            batch = next_batch(desired, new, policy.batch)
            started: list[ReplicaProcess] = []
            try:
                for variant in batch:
                    started.append(host.start_replica(record, variant))
                wait_ready(started)
            except DeployError as error:
                for replica in started:
                    replica.stop()
                raise failed_batch(error) from None
            for replica in started:
                new.setdefault(replica.variant, []).append(replica)
            publish()
            retired = take_oldest(
                remaining, len(started) if count(new) < total else count(remaining)
            )
            publish()
            host.drain_and_stop({"retired": retired})
            if count(new) < total and not host.still_updating(record.arn, policy.wait):
                return
    except RollbackNeeded as reason:
        _roll_back(
            host,
            record,
            active,
            old=old,
            remaining=remaining,
            new=new,
            policy=policy,
            reason=str(reason),
        )
        return
    host.drain_and_stop(remaining)
    host.serve(record, desired, new)
    host.write(record.arn, "InService", desired, ActiveDeployment=desired)


def _roll_back(
    host: Host,
    record: ResourceRecord,
    active: Mapping[str, Any],
    *,
    old: Fleet,
    remaining: Fleet,
    new: Fleet,
    policy: RollingPolicy,
    reason: str,
) -> None:
    """RollingBack: bring the old config's instances back (RollbackMaximumBatchSize at a
    time) while the new ones go; then InService on the old config with `reason`."""
    host.write(record.arn, "RollingBack", active, reason=reason)
    restored = remaining
    try:
        while count(restored) < count(old) or count(new) > 0:
            batch = next_batch(active, restored, policy.rollback_batch)
            started = [host.start_replica(record, variant) for variant in batch]
            wait_ready(started)
            for replica in started:
                restored.setdefault(replica.variant, []).append(replica)
            retired = take_oldest(new, policy.rollback_batch if batch else count(new))
            share = count(new) / max(1, count(new) + count(restored))
            host.publish_route(host.mixed_route(record, (active, restored), (active, new), share))
            host.drain_and_stop({"retired": retired})
    except DeployError as error:
        host.serve(record, active, {k: v + new.get(k, []) for k, v in restored.items()})
        host.write(
            record.arn,
            "UpdateRollbackFailed",
            active,
            reason=f"{reason} The rollback failed too: {error}",
        )
        return
    host.serve(record, active, restored)
    host.write(
        record.arn,
        "InService",
        active,
        reason=reason,
        spec={"EndpointConfigName": active["EndpointConfigName"], "Deployment": active},
        ActiveDeployment=active,
    )
