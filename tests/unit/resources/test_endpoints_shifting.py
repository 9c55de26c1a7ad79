"""The traffic steps of a blue/green endpoint update."""

from __future__ import annotations

from typing import Any

import pytest

from sagestack.resources.endpoints import traffic_steps


def routing(kind: str, **sizes: Any) -> dict[str, Any]:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": kind, "WaitIntervalInSeconds": 0, **sizes}
        }
    }


@pytest.mark.parametrize(
    ("config", "instances", "steps"),
    [
        (None, 2, [1.0]),
        (routing("ALL_AT_ONCE"), 2, [1.0]),
        (routing("CANARY", CanarySize={"Type": "CAPACITY_PERCENT", "Value": 10}), 4, [0.1, 1.0]),
        (routing("CANARY", CanarySize={"Type": "INSTANCE_COUNT", "Value": 1}), 4, [0.25, 1.0]),
        (routing("CANARY", CanarySize={"Type": "INSTANCE_COUNT", "Value": 4}), 4, [1.0]),
        (
            routing("LINEAR", LinearStepSize={"Type": "CAPACITY_PERCENT", "Value": 25}),
            4,
            [0.25, 0.5, 0.75, 1.0],
        ),
        (
            routing("LINEAR", LinearStepSize={"Type": "INSTANCE_COUNT", "Value": 2}),
            3,
            [0.666667, 1.0],
        ),
    ],
)
def test_traffic_steps(config: dict[str, Any] | None, instances: int, steps: list[float]) -> None:
    assert traffic_steps(config, instances) == steps
