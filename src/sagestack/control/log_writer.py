"""Workload output into CloudWatch Logs, as it is produced: lines are stamped when they arrive
and written in batches (every quarter second, or sooner when many are waiting) straight into the
log store, without going through HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sagestack.observability.log_store import LogStore

FLUSH_SECONDS = 0.25
FLUSH_LINES = 2000


class LogWriter:
    def __init__(
        self, logs: LogStore, group: str, stream: str, *, account: str, region: str
    ) -> None:
        self._logs = logs
        self._group = group
        self._stream = stream
        self._account = account
        self._region = region
        self._pending: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._run, name=f"logs {stream}", daemon=True)
        self._flusher.start()

    def line(self, text: str) -> None:
        if not text:
            return  # CloudWatch Logs has no empty events
        with self._lock:
            self._pending.append((int(time.time() * 1000), text))
            full = len(self._pending) >= FLUSH_LINES
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self._logs.append(
                self._group, self._stream, batch, account=self._account, region=self._region
            )

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._flusher.join()
        self.flush()


def tee(*sinks: Callable[[str], None]) -> Callable[[str], None]:
    def deliver(text: str) -> None:
        for sink in sinks:
            sink(text)

    return deliver
