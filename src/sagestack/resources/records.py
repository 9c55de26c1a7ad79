"""What the store holds: a resource record and the events its changes produce."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ResourceRecord:
    """One SageMaker resource as stored.

    `kind` is the ARN resource type ("model", "endpoint-config", "endpoint", "training-job", ...).
    `spec` is the validated create/update request (JSON-able, AWS PascalCase keys): the desired
    state. `state` holds what sagestack observed or derived (FailureReason, transitions, ...).
    `generation` is the optimistic-concurrency version: the store bumps it on every update.
    Names are unique per (kind, account, region) without regard to case, as the ARN is.
    """

    kind: str
    account: str
    region: str
    name: str
    arn: str
    spec: Mapping[str, Any]
    creation_time: float
    last_modified_time: float
    status: str | None = None
    state: Mapping[str, Any] = field(default_factory=dict)
    generation: int = 1


@dataclass(frozen=True, slots=True)
class Event:
    """An append-only fact about a resource: the source of events, audit trail and metrics.

    `type` is "Created", "StatusChanged", "Updated" or "Deleted". `id` is assigned by the store
    (monotonic); 0 before it is stored.
    """

    arn: str
    kind: str
    account: str
    region: str
    type: str
    time: float
    status: str | None = None
    previous_status: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    id: int = 0
