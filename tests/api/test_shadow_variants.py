"""Shadow variants: every request to the production variant is mirrored to the shadow one,
whose answers are dropped and whose invocation metrics are kept."""

from __future__ import annotations

import io
import sqlite3
import tarfile
import time
from typing import Any

from sklearn.linear_model import LinearRegression

from tests.api.test_hosting import (
    INFERENCE,
    clients,
    create_model,
    predict_csv,
    regression,
    tarball,
    wait_status,
)
from tests.support.server import ServerProcess

__all__ = ["clients", "regression"]


def test_requests_are_mirrored_to_the_shadow_variant(
    clients: tuple[Any, Any, Any],
    regression: tuple[LinearRegression, bytes],
    server: ServerProcess,
) -> None:
    sagemaker, s3, runtime = clients
    model, artifact = regression
    create_model(sagemaker, s3, "prod-model", artifact)
    # The shadow model answers ten times larger: its answers must never reach the caller.
    shadow_artifact = tarball(
        {"model.joblib": artifact_model(artifact), "code/inference.py": INFERENCE.encode()}
    )
    create_model(sagemaker, s3, "shadow-model", shadow_artifact, SAGEMAKER_PROGRAM="inference.py")
    variant = {"InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(
        EndpointConfigName="shadowed",
        ProductionVariants=[{"VariantName": "Prod", "ModelName": "prod-model", **variant}],
        ShadowProductionVariants=[
            {"VariantName": "Shadow", "ModelName": "shadow-model", **variant}
        ],
    )
    sagemaker.create_endpoint(EndpointName="shadowed", EndpointConfigName="shadowed")
    described = wait_status(sagemaker, "shadowed", ("InService", "Failed"))
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["Prod"]
    shadow = described["ShadowProductionVariants"][0]
    assert shadow["VariantName"] == "Shadow" and shadow["CurrentInstanceCount"] == 1

    for _ in range(5):
        values, invoked = predict_csv(runtime, "shadowed", "1,2")
        assert invoked == "Prod"
        assert values == [float(model.predict([[1, 2]])[0])]

    database = server.data_dir / "metrics.db"
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(database) as db:
            counts = dict(
                db.execute(
                    "SELECT dimensions, sum(sum) FROM metric_minutes WHERE metric = ?"
                    " AND dimensions LIKE '%shadowed%' GROUP BY dimensions",
                    ("Invocations",),
                ).fetchall()
            )
        shadow_count = next((v for k, v in counts.items() if '"Shadow"' in k), 0)
        if shadow_count >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shadow_count == 5
    assert next(v for k, v in counts.items() if '"Prod"' in k) == 5
    with sqlite3.connect(database) as db:
        errors = db.execute(
            "SELECT sum(sum) FROM metric_minutes WHERE metric = 'InvocationModelErrors'"
            " AND dimensions LIKE '%\"Shadow\"%'"
        ).fetchone()[0]
    assert errors == 0  # the shadow model really answered


def artifact_model(artifact: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(artifact)) as tar:
        member = tar.extractfile("model.joblib")
        assert member is not None
        return member.read()
