"""The endpoint controller: keeps each endpoint's replicas matching its record.

Per endpoint, one worker at a time converges: Creating → start the Deployment's replicas, wait
for /ping, publish the route, InService (or Failed with SageMaker's reason); Updating → the
new Deployment's replicas start beside the old ones, the route switches at once, the old ones
stop when their in-flight requests are done (a failure leaves the old fleet serving, InService,
with FailureReason); a change of weights or counts only scales; Deleting → withdraw, stop,
remove the record. A watchdog restarts a replica whose process dies (it gets no traffic until
/ping passes again), and `recover` brings InService endpoints back after a restart.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sagestack.control.hostings import HostingBook
from sagestack.control.replicas import (
    DeployError,
    Fleet,
    ReplicaFactory,
    ReplicaProcess,
    wait_ready,
)
from sagestack.control.rolling import roll
from sagestack.control.serverless import ServerlessScaling
from sagestack.control.updates import hosted, scale, shift
from sagestack.control.workers import Workers
from sagestack.resources.endpoints import KIND, variant_summaries
from sagestack.resources.lifecycles import deleted_event, transition
from sagestack.resources.records import Event, ResourceRecord
from sagestack.serving.router import Router
from sagestack.serving.routing import (
    EndpointRoute,
    RoutingTable,
    VariantRoute,
    deployment_features,
)
from sagestack.store.base import ResourceStore, change_record

LOG = logging.getLogger(__name__)

#: Seconds a retired replica may finish its in-flight requests before it is stopped anyway.
DRAIN_SECONDS = 60.0
WATCH_SECONDS = 0.5


class EndpointController:
    kind = KIND

    def __init__(
        self,
        store: ResourceStore,
        *,
        replicas: ReplicaFactory,
        routes: RoutingTable,
        router: Router,
        clock: Callable[[], float] = time.time,
        serverless_idle_seconds: float = 300.0,
        multi_model_cache_bytes: int = 2048 * 1024 * 1024,
    ) -> None:
        self._store = store
        self._replicas = replicas
        self._routes = routes
        self._router = router
        self._clock = clock
        self._serverless = ServerlessScaling(self, idle_seconds=serverless_idle_seconds)
        self._book = HostingBook(
            replicas.objects,
            routes,
            cache_bytes=multi_model_cache_bytes,
            cold_start=self._serverless.cold_start,
        )
        self._fleets: dict[str, tuple[ResourceRecord, Mapping[str, Any], Fleet]] = {}
        self._workers = Workers(self._converge, "endpoint")
        self._lock = threading.Lock()
        self._watchdog = threading.Thread(target=self._watch, name="replica watchdog", daemon=True)
        self._watchdog.start()

    # -- reconciler hooks -------------------------------------------------------------------

    def notify(self, event: Event) -> None:
        self._workers.schedule(event.arn)

    def recover(self, arn: str, status: str | None) -> None:
        """After a restart: end the replicas the previous server left behind (a crash leaves
        them running), then bring the endpoint back."""
        record = self._store.get_by_arn(arn)
        for identity in record.state.get("Workloads", []) if record is not None else []:
            self._replicas.executor.reap(identity)
        if status != "Failed":
            self._workers.schedule(arn)

    def close(self) -> None:
        """Stop every replica (also those still starting); the records stay InService and
        come back at the next start."""
        self._routes.clear()
        with self._lock:
            self._fleets.clear()
        self._replicas.close()

    def reset(self) -> None:
        with self._lock:
            arns = list(self._fleets)
        for arn in arns:
            self.retire(arn)

    # -- converging -------------------------------------------------------------------------

    def _converge(self, arn: str) -> None:
        record = self._store.get_by_arn(arn)
        if record is None:
            self.retire(arn)
            return
        if record.status == "Deleting":
            self.retire(arn)
            self._store.delete(
                record.kind,
                record.account,
                record.region,
                record.name,
                event=deleted_event(record, now=self._clock()),
            )
        elif record.status == "Creating":
            self._create(record)
        elif record.status == "Updating":
            self._update(record)
        elif record.status == "InService" and arn not in self._fleets:
            self._restore(record)

    def _create(self, record: ResourceRecord) -> None:
        deployment = record.spec["Deployment"]
        try:
            fleet = self._launch(record, deployment)
        except DeployError as error:
            self.write(record.arn, "Failed", deployment, reason=str(error))
            return
        self.serve(record, deployment, fleet)
        self.write(record.arn, "InService", deployment, ActiveDeployment=deployment)

    def _restore(self, record: ResourceRecord) -> None:
        """An InService endpoint without replicas (sagestack restarted): start them again."""
        deployment = record.state.get("ActiveDeployment") or record.spec["Deployment"]
        try:
            fleet = self._launch(record, deployment)
        except DeployError as error:
            LOG.error("%s could not be brought back: %s", record.arn, error)
            return
        self.serve(record, deployment, fleet)

    def _update(self, record: ResourceRecord) -> None:
        desired = record.spec["Deployment"]
        current = self._fleets.get(record.arn)
        active = record.state.get("ActiveDeployment")
        if current is None or active is None:
            self._create_from_update(record, desired)
            return
        if _same_models(active, desired):
            scale(self, record, desired, current[2])
            self.write(record.arn, "InService", desired, ActiveDeployment=desired)
            return
        if (record.spec.get("DeploymentConfig") or {}).get("RollingUpdatePolicy"):
            roll(self, record, active, current[2], desired)
            return
        try:
            fleet = self._launch(record, desired)
        except DeployError as error:
            self.write(
                record.arn,
                "InService",
                active,
                reason=str(error),
                spec={"EndpointConfigName": active["EndpointConfigName"], "Deployment": active},
            )
            return
        if not shift(self, record, (active, current[2]), (desired, fleet)):
            return  # deleted while the traffic moved; its replicas are gone
        self.write(record.arn, "InService", desired, ActiveDeployment=desired)

    def still_updating(self, arn: str, seconds: float) -> bool:
        """Wait `seconds`; whether the endpoint is still Updating (not deleted) afterwards."""
        deadline = time.monotonic() + seconds
        while True:
            record = self._store.get_by_arn(arn)
            if record is None or record.status != "Updating":
                return False
            if time.monotonic() >= deadline:
                return True
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def _create_from_update(self, record: ResourceRecord, desired: Mapping[str, Any]) -> None:
        try:
            fleet = self._launch(record, desired)
        except DeployError as error:
            self.write(record.arn, "Failed", desired, reason=str(error))
            return
        self.serve(record, desired, fleet)
        self.write(record.arn, "InService", desired, ActiveDeployment=desired)

    def _launch(self, record: ResourceRecord, deployment: Mapping[str, Any]) -> Fleet:
        endpoint = _endpoint(record)
        fleet: Fleet = {}
        try:
            for variant in hosted(deployment):
                count = int(variant.get("InitialInstanceCount") or 1)
                fleet[variant["VariantName"]] = [
                    self._replicas.start(endpoint, variant) for _ in range(count)
                ]
            wait_ready([replica for replicas in fleet.values() for replica in replicas])
        except BaseException:
            for replicas in fleet.values():
                for replica in replicas:
                    replica.stop()
            raise
        return fleet

    def serve(self, record: ResourceRecord, deployment: Mapping[str, Any], fleet: Fleet) -> None:
        with self._lock:
            self._fleets[record.arn] = (record, deployment, fleet)
        self.publish(record.arn)
        self.note_workloads(record.arn)

    def note_workloads(self, arn: str) -> None:
        """Remember the replicas' process identities in the record, so a restart after a
        crash can end them."""
        with self._lock:
            entry = self._fleets.get(arn)
        identities = (
            [i for group in entry[2].values() for r in group for i in r.identities()]
            if entry
            else []
        )

        def note(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            return dataclasses.replace(
                record, state={**record.state, "Workloads": identities}
            ), None

        change_record(self._store, arn, note)

    def publish(self, arn: str) -> None:
        with self._lock:
            entry = self._fleets.get(arn)
        if entry is None:
            self._routes.withdraw(arn)
            return
        record, deployment, fleet = entry

        def routes(key: str) -> tuple[VariantRoute, ...]:
            return tuple(
                self._book.route(
                    arn,
                    deployment,
                    variant,
                    fleet.get(variant["VariantName"], []),
                    float(variant.get("InitialVariantWeight", 1.0)),
                )
                for variant in deployment.get(key, ())
            )

        self._routes.publish(
            EndpointRoute(
                record.arn,
                record.name,
                record.account,
                record.region,
                routes("ProductionVariants"),
                shadows=routes("ShadowProductionVariants"),
                **deployment_features(deployment),
            )
        )

    def retire(self, arn: str) -> None:
        self._routes.withdraw(arn)
        with self._lock:
            entry = self._fleets.pop(arn, None)
        self._book.forget(arn)
        if entry is not None:
            self.drain_and_stop(entry[2])

    def drain_and_stop(self, fleet: Fleet) -> None:
        replicas = [replica for group in fleet.values() for replica in group]
        ids = {replica.id for replica in replicas}
        deadline = time.monotonic() + DRAIN_SECONDS
        while self._router.busy(ids) and time.monotonic() < deadline:
            time.sleep(0.01)
        for replica in replicas:
            replica.stop()

    def write(
        self,
        arn: str,
        status: str,
        deployment: Mapping[str, Any],
        *,
        reason: str | None = None,
        spec: Mapping[str, Any] | None = None,
        **state: Any,
    ) -> None:
        """Move the endpoint to `status` with its variants' summaries."""

        def move(record: ResourceRecord) -> tuple[ResourceRecord, Event | None] | None:
            if record.status == "Deleting":
                return None
            now = self._clock()
            with self._lock:
                entry = self._fleets.get(arn)
            counts = {
                v["VariantName"]: (
                    float(v.get("InitialVariantWeight", 1.0)),
                    len(entry[2].get(v["VariantName"], [])),
                )
                for v in hosted(deployment)
                if entry is not None
            }
            summaries = variant_summaries(
                deployment["ProductionVariants"], current=counts, status=status, now=now
            )
            changed, event = transition(record, status, now=now, reason=reason)
            new_state = {**changed.state, **state, "ProductionVariants": summaries}
            new_state.pop("ShadowProductionVariants", None)
            if deployment.get("ShadowProductionVariants"):
                new_state["ShadowProductionVariants"] = variant_summaries(
                    deployment["ShadowProductionVariants"], current=counts, status=status, now=now
                )
            if reason is None:
                new_state.pop("FailureReason", None)
            spec_now = {**changed.spec, **(spec or {})}
            return dataclasses.replace(changed, state=new_state, spec=spec_now), event

        if change_record(self._store, arn, move) is None:
            self.retire(arn)  # deleted (or wiped) while its replicas started

    def mixed_route(
        self,
        record: ResourceRecord,
        old: tuple[Mapping[str, Any], Fleet],
        new: tuple[Mapping[str, Any], Fleet],
        share: float,
    ) -> EndpointRoute:
        """Both fleets in one route: the new one takes `share` of each variant's traffic."""
        variants = [
            self._book.route(
                record.arn,
                deployment,
                variant,
                fleet.get(variant["VariantName"], []),
                float(variant.get("InitialVariantWeight", 1.0)) * part,
            )
            for (deployment, fleet), part in ((old, 1.0 - share), (new, share))
            for variant in deployment["ProductionVariants"]
        ]
        return EndpointRoute(
            record.arn,
            record.name,
            record.account,
            record.region,
            tuple(variants),
            **deployment_features(new[0]),
        )

    def publish_route(self, route: EndpointRoute) -> None:
        self._routes.publish(route)

    def start_replica(self, record: ResourceRecord, variant: Mapping[str, Any]) -> ReplicaProcess:
        return self._replicas.start(_endpoint(record), variant)

    def fleet_of(self, arn: str) -> tuple[ResourceRecord, Mapping[str, Any], Fleet] | None:
        """The endpoint's record, deployment and replicas, while it is served."""
        with self._lock:
            return self._fleets.get(arn)

    # -- watchdog ---------------------------------------------------------------------------

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            with self._lock:
                entries = list(self._fleets.items())
            for record, deployment, fleet in (entry for _, entry in entries):
                for variant in hosted(deployment):
                    replicas = fleet.get(variant["VariantName"], [])
                    for index, replica in enumerate(replicas):
                        if not replica.retired and not replica.alive():
                            self._replace(record, variant, replicas, index)
                capacities = self._book.serverless(record.arn)
                self._serverless.scale_to_zero(record.arn, fleet, capacities)

    def _replace(
        self,
        record: ResourceRecord,
        variant: Mapping[str, Any],
        replicas: list[ReplicaProcess],
        index: int,
    ) -> None:
        """Swap the dead replica `replicas[index]` for a new one."""
        arn, dead = record.arn, replicas[index]
        LOG.warning("%s: replica %s exited; starting a new one", arn, dead.id)
        self.publish(arn)  # the dead replica gets no more traffic
        dead.writer.close()
        try:
            fresh = self._replicas.start(_endpoint(record), variant)
            wait_ready([fresh])
        except DeployError as error:
            LOG.error("%s: replacement replica failed: %s", arn, error)
            return
        replicas[index] = fresh
        self.publish(arn)
        self.note_workloads(arn)


def _endpoint(record: ResourceRecord) -> dict[str, str]:
    return {"name": record.name, "account": record.account, "region": record.region}


def _same_models(active: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Whether two deployments differ only in weights and instance counts."""

    def shape(deployment: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
        return sorted(
            (v["VariantName"], v.get("Model"), v.get("InstanceType")) for v in hosted(deployment)
        )

    return shape(active) == shape(desired)
