"""The routing table: which replicas serve which endpoint variant, as an immutable snapshot.

The endpoint controller publishes a new `EndpointRoute` whenever replicas come or go; the
InvokeEndpoint path only reads the current mapping (a dict swapped whole, never mutated), so it
never touches the database or takes a lock (design principle 6).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Replica:
    #: SageMaker's instance id for the replica ("i-0123..."), also its log stream's suffix.
    id: str
    #: Base URL of its model server, e.g. "http://127.0.0.1:40123".
    address: str


@dataclass(frozen=True, slots=True)
class VariantRoute:
    name: str
    weight: float
    replicas: tuple[Replica, ...]


@dataclass(frozen=True, slots=True)
class EndpointRoute:
    arn: str
    name: str
    account: str
    region: str
    variants: tuple[VariantRoute, ...]

    def variant(self, name: str) -> VariantRoute | None:
        return next((v for v in self.variants if v.name == name), None)


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
