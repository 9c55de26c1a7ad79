"""The reconciler: one thread that hands resources to their controllers.

It follows the store's event log: every new event of a kind with a controller goes to that
controller's `notify` (a Created job starts; an endpoint being updated or deleted converges).
At start-up it reads the log from the beginning and gives every resource that still exists,
with its last status, to its controller's `recover` (the previous server's processes are gone):
a restart never leaves a job InProgress forever and brings InService endpoints back. `wake()`
makes it look at once; it also looks every few seconds on its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from sagestack.resources.records import Event
from sagestack.store.base import ResourceStore

LOG = logging.getLogger(__name__)


class Controller(Protocol):
    kind: str

    def notify(self, event: Event) -> None:
        """A new event about a resource of this kind (the store has the resource's record)."""
        ...

    def recover(self, arn: str, status: str | None) -> None:
        """A resource found at start-up, with its last status."""
        ...

    def reset(self) -> None:
        """Every resource is gone (the store was reset)."""
        ...

    def close(self) -> None:
        """sagestack is shutting down: stop every process this controller started."""
        ...


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
        #: Held while the loop hands out events, and by `reset`.
        self._stepping = threading.Lock()

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
        for controller in self._controllers.values():
            controller.close()

    def reset(self, wipe: Callable[[], None]) -> None:
        """Wipe all state: with the loop held, each controller first stops its work (so no
        process writes into what is wiped), then `wipe` empties the stores, and the event log
        is followed from its start again."""
        with self._stepping:
            for controller in self._controllers.values():
                controller.reset()
            wipe()
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
            self._controllers[kind].recover(arn, status)

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
                with self._stepping:
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
                if controller is not None:
                    controller.notify(event)
