"""The queue of accepted asynchronous inferences, in a SQLite file of the data dir, so a
request InvokeEndpointAsync accepted survives a restart: a row is written before the 202 goes
out and removed once its output (or failure) is in S3 and its notification recorded.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS async_inferences (
    id TEXT PRIMARY KEY,
    endpoint_arn TEXT NOT NULL,
    received REAL NOT NULL,
    request TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class AsyncRequest:
    """One accepted request, with what its processing needs."""

    #: The queue's own key (unique even when callers reuse an InferenceId).
    id: str
    endpoint_arn: str
    endpoint: str
    account: str
    region: str
    inference_id: str
    #: Where the input is: InputLocation, or None when it came in the request (`body`).
    input_location: str | None
    output_location: str
    failure_location: str | None
    content_type: str | None
    accept: str | None
    custom_attributes: str | None
    received: float
    #: Epoch seconds after which the request is dropped unprocessed (RequestTTLSeconds).
    expires: float
    #: Seconds the model has to answer (InvocationTimeoutSeconds).
    timeout: float
    #: The request's Body (base64), when it came inline rather than from InputLocation.
    body: str | None = None
    attempts: int = 0


class AsyncQueue:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()
        self._closed = False

    def add(self, request: AsyncRequest) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO async_inferences VALUES (?, ?, ?, ?)",
                (request.id, request.endpoint_arn, request.received, json.dumps(asdict(request))),
            )

    def update(self, request: AsyncRequest) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE async_inferences SET request = ? WHERE id = ?",
                (json.dumps(asdict(request)), request.id),
            )

    def pending(self, limit: int = 1000) -> list[AsyncRequest]:
        """The oldest requests not yet done."""
        with self._lock:
            if self._closed:
                return []
            rows = self._db.execute(
                "SELECT request FROM async_inferences ORDER BY received LIMIT ?", (limit,)
            ).fetchall()
        return [AsyncRequest(**json.loads(row[0])) for row in rows]

    def remove(self, request_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM async_inferences WHERE id = ?", (request_id,))

    def count(self, endpoint_arn: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM async_inferences WHERE endpoint_arn = ?", (endpoint_arn,)
            ).fetchone()
        return int(row[0])

    def reset(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM async_inferences")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()
