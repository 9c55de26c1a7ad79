"""What the job controllers (training, processing) share: one thread per job, record updates
that survive races with the API, the job's processes remembered in its record (so a restart can
end them), and the supervision loop that honours a stop request and MaxRuntimeInSeconds
(SIGTERM, a grace period, SIGKILL).

A controller subclasses `JobController` and supplies `_work` (run one job in its scratch
directory), `_advance` (its kind's status change) and `_finish_interrupted` (end a job a restart
cut short).
"""

from __future__ import annotations

import abc
import dataclasses
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagestack.executors.base import Executor, Running
from sagestack.observability.log_store import LogStore
from sagestack.resources.images import LocalImage, instance_vcpus
from sagestack.resources.records import Event, ResourceRecord
from sagestack.storage.base import ObjectStore
from sagestack.store.base import Change, ResourceStore, change_record

LOG = logging.getLogger(__name__)

#: Seconds between SIGTERM and SIGKILL when a job is stopped or runs out of time.
STOP_GRACE = 10.0
POLL = 0.1
#: Seconds between looks at the record for a stop request.
STOP_CHECK_SECONDS = 0.5
#: The reason a job cut short by a restart fails with.
RESTARTED = "InternalServerError: sagestack restarted while the job was running; start it again."


class JobGone(Exception):
    """The record was deleted while the controller worked on it."""


@dataclass(slots=True)
class Outcome:
    """How a job's processes ended: the first non-zero exit code (else 0), or stopped (code
    None), and whether the stop came from MaxRuntimeInSeconds."""

    code: int | None = None
    stopped: bool = False
    timed_out: bool = False
    reason: str | None = None


class JobController(abc.ABC):
    kind: str
    #: The status a job ends in; `recover` leaves those alone.
    terminal: frozenset[str]

    def __init__(
        self,
        store: ResourceStore,
        *,
        objects: ObjectStore,
        logs: LogStore,
        executor: Executor,
        jobs_dir: Path,
        local_images: Callable[[], Mapping[str, LocalImage]] = dict,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._objects = objects
        self._logs = logs
        self._local_images = local_images
        self._executor = executor
        self._jobs_dir = jobs_dir
        self._clock = clock
        self._running: dict[str, threading.Thread] = {}
        self._processes: dict[str, list[Running]] = {}
        self._lock = threading.Lock()
        # Job roots left by a previous server belong to jobs `recover` ends: start clean.
        shutil.rmtree(jobs_dir, ignore_errors=True)

    # -- what each kind supplies --------------------------------------------------------------

    @abc.abstractmethod
    def _work(self, arn: str, workdir: Path) -> None:
        """Run the job to its end; `workdir` is its scratch directory (removed afterwards)."""

    @abc.abstractmethod
    def _advance(self, arn: str, status: str, **values: Any) -> ResourceRecord:
        """Move the job to `status` (for training, a secondary status)."""

    def _finish_interrupted(self, arn: str) -> None:
        """End a job whose run cannot go on: Stopped if a stop was asked for, else Failed."""
        try:
            record = self._record(arn)
            if record.status == "Stopping":
                self._advance(arn, "Stopped")
            elif record.status not in self.terminal:
                self._advance(arn, "Failed", reason=RESTARTED)
        except JobGone:
            pass

    # -- reconciler hooks -------------------------------------------------------------------

    def notify(self, event: Event) -> None:
        if event.type == "Created":
            self.start(event.arn)

    def reset(self) -> None:
        """Before a wipe: stop every job's processes and let its thread finish (so nothing
        writes into the wiped stores afterwards)."""
        self.close()
        self.wait_idle(30)

    def close(self) -> None:
        """Stop every running job's processes (the jobs end Failed when sagestack restarts)."""
        with self._lock:
            running = [p for processes in self._processes.values() for p in processes]
        stop_processes(running)

    def start(self, arn: str) -> None:
        with self._lock:
            if arn in self._running and self._running[arn].is_alive():
                return
            thread = threading.Thread(
                target=self._run, args=(arn,), name=f"{self.kind} {arn}", daemon=True
            )
            self._running[arn] = thread
        thread.start()

    def recover(self, arn: str, status: str | None) -> None:
        """A job found unfinished at start-up: end what is left of its processes, then the
        job itself (its run cannot be resumed)."""
        if status in self.terminal:
            return
        LOG.warning("%s was %s when sagestack stopped", arn, status)
        record = self._store.get_by_arn(arn)
        for identity in record.state.get("Workloads", []) if record is not None else []:
            self._executor.reap(identity)
        self._finish_interrupted(arn)

    def wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in list(self._running.values()):
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- record updates ---------------------------------------------------------------------

    def _record(self, arn: str) -> ResourceRecord:
        record = self._store.get_by_arn(arn)
        if record is None:
            raise JobGone(arn)
        return record

    def _write(self, arn: str, change: Change) -> ResourceRecord:
        record = change_record(self._store, arn, change)
        if record is None:
            raise JobGone(arn)
        return record

    def _note_workloads(self, arn: str, identities: list[str]) -> None:
        """Remember the job's processes in its record, so a restart can end them."""

        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            state = {**record.state, "Workloads": identities}
            return dataclasses.replace(record, state=state), None

        self._write(arn, change)

    # -- running ----------------------------------------------------------------------------

    def _run(self, arn: str) -> None:
        workdir = self._jobs_dir / uuid.uuid4().hex
        try:
            self._work(arn, workdir)
        except JobGone:
            LOG.info("%s was deleted while it ran", arn)
        except Exception as error:
            LOG.exception("%s failed inside sagestack", arn)
            try:
                self._advance(arn, "Failed", reason=f"InternalServerError: {error}")
            except Exception:
                LOG.exception("%s: could not record the failure", arn)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    @contextmanager
    def _tracking(self, arn: str, processes: list[Running]) -> Iterator[None]:
        """While the job's processes run: remembered in the record and by `close`; stopped if
        the job is deleted or sagestack fails under them."""
        self._note_workloads(arn, [process.identity for process in processes])
        with self._lock:
            self._processes[arn] = processes
        try:
            yield
        except BaseException:
            stop_processes(processes)  # the job is gone or sagestack failed: leave nothing
            raise
        finally:
            with self._lock:
                self._processes.pop(arn, None)

    def _supervise(
        self,
        arn: str,
        processes: list[Running],
        deadline: float,
        *,
        on_timeout: Callable[[], None],
        tick: Callable[[float], None] | None = None,
    ) -> Outcome:
        """Wait for the processes to end, stopping them on a stop request (`StopRequested` in
        the record's state) or at `deadline` (after `on_timeout`); `tick` runs each round."""
        outcome = Outcome()
        checked = self._clock()
        while True:
            codes = [process.wait(POLL) for process in processes[:1]] + [
                process.poll() for process in processes[1:]
            ]
            if all(code is not None for code in codes):
                outcome.code = next((c for c in codes if c != 0), 0)
                return outcome
            now = self._clock()
            if now >= deadline:
                outcome.timed_out = True
                on_timeout()
            elif now - checked >= STOP_CHECK_SECONDS:
                checked = now
                outcome.stopped = bool(self._record(arn).state.get("StopRequested"))
            if tick is not None:
                tick(now)
            if outcome.timed_out or outcome.stopped:
                outcome.stopped = True
                stop_processes(processes)
                outcome.code = None
                return outcome


def cpu_sets(instance_type: str, hosts: int) -> list[list[int]] | None:
    """The CPUs each host may use: as many as its instance type has, dealt round-robin from
    those sagestack may use (hosts share them when the machine has fewer)."""
    wanted = instance_vcpus(instance_type)
    available = sorted(os.sched_getaffinity(0))
    if wanted is None or (wanted >= len(available) and hosts == 1):
        return None
    count = min(wanted, len(available))
    return [
        [available[(host * count + i) % len(available)] for i in range(count)]
        for host in range(hosts)
    ]


def stop_processes(processes: list[Running]) -> None:
    """SIGTERM every process tree, then SIGKILL what is left after the grace period."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for process in processes:
        if process.wait(max(0.0, deadline - time.monotonic())) is None:
            process.kill()
            process.wait(10)
