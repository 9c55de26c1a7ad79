"""Choosing where one invocation goes: a variant by weight (or the one the caller names), then
the replica of that variant with the fewest requests in flight."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from sagestack.serving.routing import EndpointRoute, Replica, VariantRoute


class NoCapacity(Exception):
    """The endpoint (or the named variant) has no replica to take the request."""


class Router:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._outstanding: defaultdict[str, int] = defaultdict(int)

    def variant(self, route: EndpointRoute, target: str | None) -> VariantRoute:
        if target is not None:
            variant = route.variant(target)
            if variant is None or not (variant.replicas or _scales_from_zero(variant)):
                raise NoCapacity(target)
            return variant
        serving = [
            v for v in route.variants if (v.replicas or _scales_from_zero(v)) and v.weight > 0
        ]
        if not serving:
            raise NoCapacity(route.name)
        if len(serving) == 1:
            return serving[0]
        return self._rng.choices(serving, weights=[v.weight for v in serving])[0]

    def chance(self) -> float:
        """A uniform draw in [0, 1), for sampling decisions (shadow traffic shares)."""
        return self._rng.random()

    def busy(self, replica_ids: set[str]) -> int:
        """Requests in flight to any of these replicas (a retired fleet is stopped at 0)."""
        return sum(self._outstanding.get(replica_id, 0) for replica_id in replica_ids)

    @contextmanager
    def replica(
        self, variant: VariantRoute, exclude: frozenset[str] = frozenset()
    ) -> Iterator[Replica]:
        """The least busy replica not in `exclude` (ties broken at random), counted busy while
        in use; NoCapacity when none is left."""
        usable = [r for r in variant.replicas if r.id not in exclude]
        if not usable:
            raise NoCapacity(variant.name)
        fewest = min(self._outstanding[r.id] for r in usable)
        candidates = [r for r in usable if self._outstanding[r.id] == fewest]
        chosen = candidates[0] if len(candidates) == 1 else self._rng.choice(candidates)
        self._outstanding[chosen.id] += 1
        try:
            yield chosen
        finally:
            self._outstanding[chosen.id] -= 1


def _scales_from_zero(variant: VariantRoute) -> bool:
    """A serverless variant without replicas still takes requests: they wait for one."""
    return variant.hosting is not None and variant.hosting.serverless is not None
