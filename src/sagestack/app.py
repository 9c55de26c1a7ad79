"""The composition root: the only place that wires settings, store, services and HTTP together."""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sagestack import __version__
from sagestack.api.pipeline import Pipeline, ServiceEndpoint
from sagestack.api.registry import OperationRegistry
from sagestack.config import Settings
from sagestack.control.endpoints import EndpointController
from sagestack.control.loop import Reconciler
from sagestack.control.processing import ProcessingController
from sagestack.control.projects import ProjectController
from sagestack.control.replicas import ReplicaFactory
from sagestack.control.training import Paths, TrainingController
from sagestack.control.transform import TransformController
from sagestack.control.validation import ValidationController
from sagestack.executors.local_process import LocalProcessExecutor
from sagestack.http.server import SagestackApp
from sagestack.http.service_routing import ServiceRouter
from sagestack.observability.log_store import LogStore
from sagestack.observability.metrics import MetricsRecorder
from sagestack.protocol.wire import protocol_for
from sagestack.resources.images import LocalImage, parse_registry
from sagestack.resources.model_packages import ALGORITHM_KIND, GROUP_KIND, PACKAGE_KIND
from sagestack.services.logs.api import LogsApi
from sagestack.services.s3.buckets import BucketsApi
from sagestack.services.s3.listing import ListingApi
from sagestack.services.s3.multipart import MultipartApi
from sagestack.services.s3.objects import ObjectsApi
from sagestack.services.sagemaker import endpoints as endpoint_api
from sagestack.services.sagemaker import model_package_groups as package_group_api
from sagestack.services.sagemaker import model_packages as package_api
from sagestack.services.sagemaker import models as model_api
from sagestack.services.sagemaker import projects as project_api
from sagestack.services.sagemaker import training_jobs as training_job_api
from sagestack.services.sagemaker.algorithms import AlgorithmsApi
from sagestack.services.sagemaker.endpoint_configs import EndpointConfigsApi
from sagestack.services.sagemaker.endpoints import EndpointsApi
from sagestack.services.sagemaker.model_package_groups import ModelPackageGroupsApi
from sagestack.services.sagemaker.model_packages import ModelPackagesApi
from sagestack.services.sagemaker.models import ModelsApi
from sagestack.services.sagemaker.processing_jobs import ProcessingJobsApi
from sagestack.services.sagemaker.projects import OperationInvoker, ProjectsApi
from sagestack.services.sagemaker.search import SearchApi, SearchSource
from sagestack.services.sagemaker.tags import TagsApi
from sagestack.services.sagemaker.training_jobs import TrainingJobsApi
from sagestack.services.sagemaker.transform_jobs import TransformJobsApi
from sagestack.services.sagemaker_runtime.async_queue import AsyncQueue
from sagestack.services.sagemaker_runtime.plane import DataPlane
from sagestack.services.sts.api import StsApi
from sagestack.services.sts.authenticator import SessionAuthenticator
from sagestack.services.sts.sessions import SessionBook
from sagestack.serving.proxy import Proxy
from sagestack.serving.router import Router
from sagestack.serving.routing import RoutingTable
from sagestack.spec.catalog import SERVED_SERVICES, load_service
from sagestack.spec.pagination import TokenCodec
from sagestack.storage.base import ObjectStore
from sagestack.storage.local import LocalObjectStore
from sagestack.storage.s3_client import S3ClientObjectStore
from sagestack.store.base import ResourceStore
from sagestack.store.urls import open_store


@dataclass(frozen=True, slots=True)
class Backends:
    """Everything with state, opened once: what the services are built on."""

    store: ResourceStore
    tokens: TokenCodec
    #: The data dir's own object store, served as S3 on sagestack's port.
    objects: LocalObjectStore
    #: CloudWatch Logs data (its own SQLite file), written by jobs and endpoints too.
    logs: LogStore
    #: STS sessions (kept in `store`), shared by the STS API and the authenticator.
    sessions: SessionBook
    #: Where jobs and endpoints read inputs and write artifacts: `objects`, or the external
    #: S3-compatible endpoint the settings name.
    workload_objects: ObjectStore
    #: Per-minute metric aggregates (CloudWatch's data; its own SQLite file).
    metrics: MetricsRecorder
    #: Accepted InvokeEndpointAsync requests not yet done (its own SQLite file).
    async_queue: AsyncQueue

    def reset(self) -> None:
        self.store.reset()
        self.sessions.forget()
        self.objects.reset()
        self.logs.reset()
        self.metrics.reset()
        self.async_queue.reset()

    def close(self) -> None:
        self.store.close()
        self.objects.close()
        if self.workload_objects is not self.objects:
            self.workload_objects.close()
        self.logs.close()
        self.metrics.close()
        self.async_queue.close()


def open_backends(settings: Settings) -> Backends:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.database_url)
    objects = LocalObjectStore(settings.objects_dir)
    return Backends(
        store=store,
        tokens=TokenCodec(_token_secret(settings.data_dir)),
        objects=objects,
        logs=LogStore(settings.logs_database),
        sessions=SessionBook(store),
        workload_objects=_workload_objects(settings, objects),
        metrics=MetricsRecorder(settings.metrics_database),
        async_queue=AsyncQueue(settings.async_queue_database),
    )


def _workload_objects(settings: Settings, local: LocalObjectStore) -> ObjectStore:
    if settings.s3_endpoint_url is None:
        return local
    return S3ClientObjectStore(
        settings.s3_endpoint_url,
        settings.s3_access_key_id,
        settings.s3_secret_access_key,
        settings.s3_region,
    )


@dataclass(frozen=True, slots=True)
class Serving:
    """The InvokeEndpoint path: the routing snapshot the endpoint controller publishes, the
    router (which also tells the controller when a retired replica is idle) and the proxy."""

    routes: RoutingTable = field(default_factory=RoutingTable)
    router: Router = field(default_factory=Router)
    proxy: Proxy = field(default_factory=Proxy)


#: Search's resource types (botocore's ResourceType) → what sagestack holds of them: one line
#: per searchable kind.
SEARCH_SOURCES: dict[str, SearchSource] = {
    "TrainingJob": SearchSource("training-job", "TrainingJob", training_job_api.described),
    "Endpoint": SearchSource("endpoint", "Endpoint", endpoint_api.described),
    "Model": SearchSource("model", "Model", model_api.described, wrap="Model"),
    "ModelPackage": SearchSource(PACKAGE_KIND, "ModelPackage", package_api.described),
    "ModelPackageGroup": SearchSource(GROUP_KIND, "ModelPackageGroup", package_group_api.described),
    "Project": SearchSource("project", "Project", project_api.described),
}


def build_registry(
    backends: Backends,
    wake: Callable[[], None] = lambda: None,
    serving: Serving | None = None,
    plane: DataPlane | None = None,
) -> OperationRegistry:
    """Every service's API on `backends`; `wake` tells the reconciler there is new work."""
    serving = serving or Serving()
    registry = OperationRegistry()
    store, tokens = backends.store, backends.tokens
    for api in (
        ModelsApi(store, tokens),
        EndpointConfigsApi(store, tokens),
        TagsApi(store, tokens),
        TrainingJobsApi(store, tokens, wake),
        ProcessingJobsApi(store, tokens, wake),
        TransformJobsApi(store, tokens, wake),
        EndpointsApi(store, tokens, wake),
        ProjectsApi(store, tokens, wake),
        SearchApi(store, tokens, SEARCH_SOURCES),
        ModelPackageGroupsApi(store, tokens),
        ModelPackagesApi(store, tokens, wake),
        AlgorithmsApi(store, tokens, wake),
    ):
        registry.register("sagemaker", api)
    registry.register("sts", StsApi(backends.sessions))
    for s3_api in (
        BucketsApi(backends.objects),
        ObjectsApi(backends.objects),
        ListingApi(backends.objects),
        MultipartApi(backends.objects),
    ):
        registry.register("s3", s3_api)
    registry.register("logs", LogsApi(backends.logs, tokens))
    for runtime_api in (plane or data_plane(backends, serving)).apis():
        registry.register("sagemaker-runtime", runtime_api)
    return registry


def data_plane(backends: Backends, serving: Serving) -> DataPlane:
    """InvokeEndpoint and friends with their background writers (started by Application)."""
    return DataPlane(
        serving.routes,
        serving.proxy,
        serving.router,
        objects=backends.workload_objects,
        logs=backends.logs,
        metrics=backends.metrics,
        queue=backends.async_queue,
    )


def service_endpoints() -> list[ServiceEndpoint]:
    endpoints = []
    for name in SERVED_SERVICES:
        model = load_service(name)
        endpoints.append(ServiceEndpoint(name, model, protocol_for(model)))
    return endpoints


def _token_secret(data_dir: Path) -> bytes:
    """The key that signs pagination tokens, kept in the data dir so tokens survive restarts."""
    path = data_dir / "token.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return key


@dataclass(frozen=True, slots=True)
class Application:
    asgi: SagestackApp
    backends: Backends
    registry: OperationRegistry
    reconciler: Reconciler
    closed: threading.Event = field(default_factory=threading.Event)
    plane: DataPlane | None = None

    def start(self) -> None:
        """Start the background work (the reconciler, which resumes what a restart cut)."""
        self.reconciler.start()
        if self.plane is not None:
            self.plane.start()

    def close(self) -> None:
        """Stop the background work and its processes, then close the stores (idempotent)."""
        if self.closed.is_set():
            return
        self.closed.set()
        if self.plane is not None:
            self.plane.close()
        self.reconciler.stop()
        self.backends.close()


def registered_images(settings: Settings) -> dict[str, LocalImage]:
    """The images users registered; read at each use, so a registration needs no restart."""
    try:
        return parse_registry(settings.images_file.read_text())
    except FileNotFoundError:
        return {}


def build_reconciler(
    settings: Settings,
    backends: Backends,
    serving: Serving,
    registry: Callable[[], OperationRegistry] | None = None,
) -> Reconciler:
    """The reconciler and its controllers; `registry` (late-bound: it is built after the
    reconciler, whose `wake` it needs) gives the project controller the API's handlers."""
    executor = LocalProcessExecutor()
    training = TrainingController(
        backends.store,
        objects=backends.workload_objects,
        logs=backends.logs,
        executor=executor,
        paths=Paths(jobs=settings.jobs_dir, environments=settings.environments_dir),
        local_images=lambda: registered_images(settings),
    )
    shutil.rmtree(settings.endpoints_dir, ignore_errors=True)  # replicas of a previous run
    endpoints = EndpointController(
        backends.store,
        replicas=ReplicaFactory(
            objects=backends.workload_objects,
            logs=backends.logs,
            executor=executor,
            directory=settings.endpoints_dir,
            local_images=lambda: registered_images(settings),
            environments=settings.environments_dir,
        ),
        routes=serving.routes,
        router=serving.router,
        serverless_idle_seconds=settings.serverless_idle_seconds,
        multi_model_cache_bytes=int(settings.multi_model_cache_mb * 1024 * 1024),
    )
    processing = ProcessingController(
        backends.store,
        objects=backends.workload_objects,
        logs=backends.logs,
        executor=executor,
        jobs_dir=settings.processing_jobs_dir,
        local_images=lambda: registered_images(settings),
    )
    projects = ProjectController(
        backends.store,
        objects=backends.workload_objects,
        invoke=OperationInvoker(registry or (lambda: build_registry(backends))),
    )
    transforms = TransformController(
        backends.store,
        objects=backends.workload_objects,
        logs=backends.logs,
        replicas=ReplicaFactory(
            objects=backends.workload_objects,
            logs=backends.logs,
            executor=executor,
            directory=settings.transform_jobs_dir / "replicas",
            local_images=lambda: registered_images(settings),
            environments=settings.environments_dir,
        ),
        directory=settings.transform_jobs_dir,
    )
    validations = [
        ValidationController(
            backends.store,
            kind=kind,
            invoke=OperationInvoker(registry or (lambda: build_registry(backends))),
            local_images=lambda: registered_images(settings),
        )
        for kind in (ALGORITHM_KIND, PACKAGE_KIND)
    ]
    return Reconciler(
        backends.store, [training, processing, endpoints, projects, transforms, *validations]
    )


def build_application(settings: Settings) -> Application:
    backends = open_backends(settings)
    serving = Serving()
    reconciler = build_reconciler(settings, backends, serving, lambda: registry)
    plane = data_plane(backends, serving)
    registry = build_registry(backends, reconciler.wake, serving, plane)

    def reset() -> None:
        plane.reset()
        reconciler.reset(backends.reset)
        serving.routes.clear()

    def shutdown() -> None:
        application.close()

    asgi = SagestackApp(
        ServiceRouter(service_endpoints()),
        Pipeline(registry, strict_output=settings.strict_output),
        account_id=settings.account_id,
        default_region=settings.default_region,
        max_body_bytes=settings.max_body_bytes,
        reset=reset if settings.allow_reset else None,
        version=__version__,
        authenticate=SessionAuthenticator(backends.sessions),
        on_shutdown=shutdown,
    )
    application = Application(asgi, backends, registry, reconciler, plane=plane)
    return application
