"""One worker thread per resource: what lets a controller converge many resources at once
while never converging the same one twice at the same time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

LOG = logging.getLogger(__name__)


class Workers:
    """Runs `converge(arn)` on a thread of the resource's own. A request for a resource whose
    worker is busy makes that worker converge once more when it is done (level-triggered: the
    second run sees the newest record), so no change is missed and none runs concurrently."""

    def __init__(self, converge: Callable[[str], None], noun: str) -> None:
        self._converge = converge
        self._noun = noun
        self._threads: dict[str, threading.Thread] = {}
        self._again: set[str] = set()
        self._lock = threading.Lock()

    def schedule(self, arn: str) -> None:
        with self._lock:
            worker = self._threads.get(arn)
            if worker is not None and worker.is_alive():
                self._again.add(arn)
                return
            worker = threading.Thread(
                target=self._work, args=(arn,), name=f"{self._noun} {arn}", daemon=True
            )
            self._threads[arn] = worker
        worker.start()

    def join(self, timeout: float) -> None:
        """Wait for the running workers (each up to `timeout` seconds)."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

    def _work(self, arn: str) -> None:
        while True:
            try:
                self._converge(arn)
            except Exception:
                LOG.exception("%s: converging the %s failed", arn, self._noun)
            with self._lock:
                if arn not in self._again:
                    self._threads.pop(arn, None)
                    return
                self._again.discard(arn)
