"""The reconciler: one thread that hands resources to their controllers.

It follows the store's event log: a Created event of a kind with a controller starts that
resource's work. At start-up it reads the log from the beginning and gives every resource still
unfinished to its controller's `recover` (its processes died with the previous server), so a
restart never leaves a job InProgress forever. `wake()` makes it look at once; it also looks
every few seconds on its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Protocol

from sagestack.resources.records import Event
from sagestack.store.base import ResourceStore

LOG = logging.getLogger(__name__)

UNFINISHED = frozenset({"InProgress", "Stopping", "Creating", "Updating", "Deleting"})


class Controller(Protocol):
    kind: str

    def start(self, arn: str) -> None: ...

    def recover(self, arn: str) -> None: ...


class Reconciler:
    def __init__(
        self, store: ResourceStore, controllers: Iterable[Controller], interval: float = 2.0
    ) -> None:
        self._store = store
        self._controllers = {controller.kind: controller for controller in controllers}
        self._interval = interval
        self._woken = threading.Event()
        self._stopping = threading.Event()
        self._last_event = 0
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._woken.set()

    def start(self) -> None:
        self._recover()
        self._thread = threading.Thread(target=self._loop, name="reconciler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def reset(self) -> None:
        """The store was emptied: follow its event log from the start again."""
        self._last_event = 0

    def _recover(self) -> None:
        last_status: dict[str, tuple[str, str | None]] = {}
        for event in self._events():
            if event.kind not in self._controllers:
                continue
            if event.type == "Deleted":
                last_status.pop(event.arn, None)
            else:
                last_status[event.arn] = (event.kind, event.status)
        for arn, (kind, status) in last_status.items():
            if status in UNFINISHED:
                LOG.warning("%s was %s when sagestack stopped", arn, status)
                self._controllers[kind].recover(arn)

    def _events(self) -> Iterable[Event]:
        while True:
            batch = self._store.events(after_id=self._last_event, limit=1000)
            if not batch:
                return
            self._last_event = batch[-1].id
            yield from batch

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._woken.wait(self._interval)
            self._woken.clear()
            try:
                self._step()
            except Exception:  # one bad resource must never stop the loop
                LOG.exception("reconciler step failed")

    def _step(self) -> None:
        while True:
            batch = self._store.events(after_id=self._last_event, limit=1000)
            if not batch:
                return
            for event in batch:
                self._last_event = event.id
                controller = self._controllers.get(event.kind)
                if controller is not None and event.type == "Created":
                    controller.start(event.arn)
