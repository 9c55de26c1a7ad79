"""Per-minute aggregation of invocation metrics and the recorder's SQLite buckets."""

from __future__ import annotations

from pathlib import Path

from sagestack.observability.metrics import MetricsRecorder, aggregate, dimensions
from sagestack.services.sagemaker_runtime.observe import invocation_values

DIMS = dimensions({"VariantName": "AllTraffic", "EndpointName": "ep"})


def test_samples_fold_into_minute_buckets() -> None:
    buckets = aggregate(
        [
            ("AWS/SageMaker", DIMS, 120.0, [("ModelLatency", 10.0, "Microseconds")]),
            ("AWS/SageMaker", DIMS, 179.9, [("ModelLatency", 30.0, "Microseconds")]),
            ("AWS/SageMaker", DIMS, 180.0, [("ModelLatency", 5.0, "Microseconds")]),
        ]
    )
    first = buckets[("AWS/SageMaker", "ModelLatency", DIMS, "Microseconds", 120)]
    assert (first.sample_count, first.sum, first.minimum, first.maximum) == (2, 40.0, 10.0, 30.0)
    second = buckets[("AWS/SageMaker", "ModelLatency", DIMS, "Microseconds", 180)]
    assert (second.sample_count, second.sum) == (1, 5.0)


def test_dimensions_are_sorted_by_name() -> None:
    assert DIMS == (("EndpointName", "ep"), ("VariantName", "AllTraffic"))


def test_an_invocation_counts_its_errors_by_the_containers_status() -> None:
    ok = dict((name, value) for name, value, _ in invocation_values(200, 4, 100.0, 20.0))
    assert ok["Invocations"] == 1 and ok["InvocationsPerInstance"] == 0.25
    assert ok["Invocation4XXErrors"] == ok["Invocation5XXErrors"] == 0
    client = dict((n, v) for n, v, _ in invocation_values(415, 1, 1.0, 1.0))
    assert client["Invocation4XXErrors"] == 1 and client["InvocationModelErrors"] == 1
    broken = dict((n, v) for n, v, _ in invocation_values(0, 1, 1.0, -3.0))
    assert broken["Invocation5XXErrors"] == 1 and broken["OverheadLatency"] == 0.0


def test_the_recorder_keeps_aggregates_across_flushes_and_restarts(tmp_path: Path) -> None:
    path = tmp_path / "metrics.db"
    recorder = MetricsRecorder(path, flush_seconds=60)
    recorder.put("AWS/SageMaker", DIMS, [("Invocations", 1.0, "None")], timestamp=600.0)
    recorder.flush()
    recorder.put("AWS/SageMaker", DIMS, [("Invocations", 1.0, "None")], timestamp=630.0)
    recorder.put("AWS/SageMaker", DIMS, [("Invocations", 1.0, "None")], timestamp=700.0)
    recorder.close()
    reopened = MetricsRecorder(path, flush_seconds=60)
    points = reopened.statistics("AWS/SageMaker", "Invocations", DIMS, start=0, end=10_000)
    assert [(p["Timestamp"], p["SampleCount"], p["Sum"]) for p in points] == [
        (600.0, 2, 2.0),
        (660.0, 1, 1.0),
    ]
    five_minutes = reopened.statistics(
        "AWS/SageMaker", "Invocations", DIMS, start=0, end=10_000, period=300
    )
    assert [(p["Timestamp"], p["Sum"], p["Average"]) for p in five_minutes] == [(600.0, 3.0, 1.0)]
    assert reopened.list_metrics("AWS/SageMaker") == [("AWS/SageMaker", "Invocations", DIMS)]
    reopened.close()
