"""Variant choice by weight, replica choice by fewest requests in flight, snapshot swaps."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from sagestack.serving.router import NoCapacity, Router
from sagestack.serving.routing import EndpointRoute, Replica, RoutingTable, VariantRoute

A = VariantRoute("A", 3.0, (Replica("i-a1", "http://a1"), Replica("i-a2", "http://a2")))
B = VariantRoute("B", 1.0, (Replica("i-b1", "http://b1"),))
ROUTE = EndpointRoute("arn:e", "e", "000000000000", "us-east-1", (A, B))


def test_variants_are_chosen_by_weight() -> None:
    router = Router(random.Random(1))
    counts = Counter(router.variant(ROUTE, None).name for _ in range(4000))
    assert 0.72 < counts["A"] / 4000 < 0.78


def test_target_variant_and_empty_variants() -> None:
    router = Router(random.Random(1))
    assert router.variant(ROUTE, "B") is B
    with pytest.raises(NoCapacity):
        router.variant(ROUTE, "C")
    drained = EndpointRoute("arn:e", "e", "0", "r", (VariantRoute("A", 1.0, ()), B))
    assert {router.variant(drained, None).name for _ in range(50)} == {"B"}
    with pytest.raises(NoCapacity):
        router.variant(EndpointRoute("arn:e", "e", "0", "r", (VariantRoute("A", 1.0, ()),)), None)


def test_the_least_busy_replica_is_chosen_and_counted() -> None:
    router = Router(random.Random(1))
    with router.replica(A) as first:
        with router.replica(A) as second:
            assert {first.id, second.id} == {"i-a1", "i-a2"}
            assert router.busy({"i-a1", "i-a2"}) == 2
        with router.replica(A) as third:
            assert third.id == second.id  # the one that was freed
    assert router.busy({"i-a1", "i-a2"}) == 0


def test_routing_table_swaps_whole_snapshots() -> None:
    table = RoutingTable()
    table.publish(ROUTE)
    seen = table.get("arn:e")
    table.publish(EndpointRoute("arn:e", "e", "0", "r", (B,)))
    assert seen is ROUTE and table.get("arn:e") is not ROUTE  # readers keep what they got
    table.withdraw("arn:e")
    assert table.get("arn:e") is None
