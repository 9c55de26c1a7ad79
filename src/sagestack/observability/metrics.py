"""CloudWatch-style metrics: samples recorded without blocking, kept as per-minute aggregates
(SampleCount, Sum, Minimum, Maximum) in a SQLite file of the data dir.

`put` only appends to a deque (thread-safe, no lock, no I/O), so InvokeEndpoint can record its
invocation metrics on the request path; a flusher thread folds the samples into minute buckets
and upserts them once a second, and `close` flushes what is left. The aggregates are what
GetMetricStatistics and GetMetricData answer from (SageMaker's endpoint metrics have a 1-minute
resolution).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLUSH_SECONDS = 1.0

#: (name, value, unit) of one metric in a sample.
Value = tuple[str, float, str]
#: Dimensions as ordered (name, value) pairs, sorted by name.
Dimensions = tuple[tuple[str, str], ...]
#: What one bucket is keyed by: namespace, metric name, dimensions, unit, minute (epoch s).
BucketKey = tuple[str, str, Dimensions, str, int]


@dataclass(slots=True)
class Aggregate:
    sample_count: float
    sum: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, value: float) -> Aggregate:
        return cls(1.0, value, value, value)

    def add(self, value: float) -> None:
        self.sample_count += 1
        self.sum += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)

    def merge(self, other: Aggregate) -> None:
        self.sample_count += other.sample_count
        self.sum += other.sum
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)


def dimensions(values: Mapping[str, str]) -> Dimensions:
    return tuple(sorted(values.items()))


def aggregate(
    samples: Iterable[tuple[str, Dimensions, float, Sequence[Value]]],
) -> dict[BucketKey, Aggregate]:
    """Fold samples (namespace, dimensions, epoch seconds, values) into per-minute buckets."""
    buckets: dict[BucketKey, Aggregate] = {}
    for namespace, dims, timestamp, values in samples:
        minute = int(timestamp // 60 * 60)
        for name, value, unit in values:
            key = (namespace, name, dims, unit, minute)
            bucket = buckets.get(key)
            if bucket is None:
                buckets[key] = Aggregate.of(float(value))
            else:
                bucket.add(float(value))
    return buckets


_SCHEMA = """
CREATE TABLE IF NOT EXISTS metric_minutes (
    namespace TEXT NOT NULL,
    metric TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    unit TEXT NOT NULL,
    minute INTEGER NOT NULL,
    sample_count REAL NOT NULL,
    sum REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL,
    PRIMARY KEY (namespace, metric, dimensions, unit, minute)
)
"""
_UPSERT = """
INSERT INTO metric_minutes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (namespace, metric, dimensions, unit, minute) DO UPDATE SET
    sample_count = sample_count + excluded.sample_count,
    sum = sum + excluded.sum,
    minimum = min(minimum, excluded.minimum),
    maximum = max(maximum, excluded.maximum)
"""


class MetricsRecorder:
    def __init__(self, path: Path, *, flush_seconds: float = FLUSH_SECONDS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db_lock = threading.Lock()
        self._pending: deque[tuple[str, Dimensions, float, Sequence[Value]]] = deque()
        self._stop = threading.Event()
        self._flush_seconds = flush_seconds
        self._flusher = threading.Thread(target=self._run, name="metrics flusher", daemon=True)
        self._flusher.start()

    def put(
        self,
        namespace: str,
        dims: Dimensions,
        values: Sequence[Value],
        timestamp: float | None = None,
    ) -> None:
        """Record one sample of each of `values`; returns at once (no lock, no I/O)."""
        self._pending.append(
            (namespace, dims, time.time() if timestamp is None else timestamp, values)
        )

    def flush(self) -> None:
        """Fold what was put into the minute buckets of the database."""
        samples = []
        while self._pending:
            try:
                samples.append(self._pending.popleft())
            except IndexError:
                break
        if not samples:
            return
        rows = [
            (ns, name, json.dumps(dims), unit, minute, a.sample_count, a.sum, a.minimum, a.maximum)
            for (ns, name, dims, unit, minute), a in aggregate(samples).items()
        ]
        with self._db_lock:
            self._db.execute("BEGIN")
            self._db.executemany(_UPSERT, rows)
            self._db.execute("COMMIT")

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def statistics(
        self,
        namespace: str,
        metric: str,
        dims: Dimensions,
        *,
        start: float,
        end: float,
        period: int = 60,
    ) -> list[dict[str, Any]]:
        """Datapoints of `metric` in [start, end), one per `period` seconds that has data
        (Timestamp, SampleCount, Sum, Minimum, Maximum, Average, Unit), oldest first, as
        GetMetricStatistics gives them. Includes what is not flushed yet."""
        self.flush()
        with self._db_lock:
            rows = self._db.execute(
                "SELECT unit, minute, sample_count, sum, minimum, maximum FROM metric_minutes"
                " WHERE namespace = ? AND metric = ? AND dimensions = ? AND minute >= ?"
                " AND minute < ? ORDER BY minute",
                (namespace, metric, json.dumps(dims), int(start // 60 * 60), end),
            ).fetchall()
        periods: dict[tuple[int, str], Aggregate] = {}
        for unit, minute, count, total, low, high in rows:
            slot = (int(minute // period * period), unit)
            bucket = Aggregate(count, total, low, high)
            if slot in periods:
                periods[slot].merge(bucket)
            else:
                periods[slot] = bucket
        return [
            {
                "Timestamp": float(slot),
                "SampleCount": a.sample_count,
                "Sum": a.sum,
                "Minimum": a.minimum,
                "Maximum": a.maximum,
                "Average": a.sum / a.sample_count if a.sample_count else 0.0,
                "Unit": unit,
            }
            for (slot, unit), a in sorted(periods.items())
        ]

    def list_metrics(self, namespace: str | None = None) -> list[tuple[str, str, Dimensions]]:
        """Every (namespace, metric, dimensions) recorded, for ListMetrics."""
        self.flush()
        query = "SELECT DISTINCT namespace, metric, dimensions FROM metric_minutes"
        arguments: tuple[str, ...] = ()
        if namespace is not None:
            query += " WHERE namespace = ?"
            arguments = (namespace,)
        with self._db_lock:
            rows = self._db.execute(query + " ORDER BY 1, 2, 3", arguments).fetchall()
        return [(ns, name, tuple(tuple(pair) for pair in json.loads(d))) for ns, name, d in rows]

    def reset(self) -> None:
        self._pending.clear()
        with self._db_lock:
            self._db.execute("DELETE FROM metric_minutes")

    def close(self) -> None:
        """Stop the flusher and write what is left (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._flusher.join()
        self.flush()
        with self._db_lock:
            self._db.close()
