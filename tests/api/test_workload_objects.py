"""Which object store jobs and endpoints use: the data dir's own, or an external S3 endpoint."""

from __future__ import annotations

from pathlib import Path

from sagestack.app import open_backends
from sagestack.config import Settings
from sagestack.storage.s3_client import S3ClientObjectStore
from tests.conftest import make_client
from tests.support.server import ServerProcess


def test_workloads_use_the_data_dir_store_by_default(tmp_path: Path) -> None:
    backends = open_backends(Settings(data_dir=tmp_path))
    try:
        assert backends.workload_objects is backends.objects
    finally:
        backends.close()


def test_workloads_use_an_external_s3_endpoint_when_configured(
    server: ServerProcess, tmp_path: Path
) -> None:
    server.reset()
    settings = Settings.from_env(
        {
            "SAGESTACK_DATA_DIR": str(tmp_path),
            "SAGESTACK_S3_ENDPOINT_URL": server.url,  # another sagestack stands in for MinIO
            "SAGESTACK_S3_ACCESS_KEY_ID": "test",
            "SAGESTACK_S3_SECRET_ACCESS_KEY": "test",
            "SAGESTACK_S3_REGION": "us-east-1",
        }
    )
    backends = open_backends(settings)
    try:
        store = backends.workload_objects
        assert isinstance(store, S3ClientObjectStore)
        store.ensure_bucket("artifacts")
        store.put_object("artifacts", "model.tar.gz", b"weights")
        remote = make_client(server.url, "s3").get_object(Bucket="artifacts", Key="model.tar.gz")
        assert remote["Body"].read() == b"weights"
        assert not backends.objects.bucket_exists("artifacts")
    finally:
        backends.close()
