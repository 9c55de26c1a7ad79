"""An object is whole or absent across a kill -9; large transfers stream in flat memory."""

from __future__ import annotations

import hashlib
import socket
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from boto3.s3.transfer import TransferConfig

from tests.conftest import make_client
from tests.support.server import ServerProcess

MiB = 1024 * 1024


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def start_put(server: ServerProcess, path: str, declared: int, sent: bytes) -> socket.socket:
    """A PUT whose body stops after `sent` of its `declared` bytes (the rest never comes)."""
    parsed = urllib.parse.urlsplit(server.url)
    connection = socket.create_connection((parsed.hostname, parsed.port))
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    connection.sendall(head + sent)
    return connection


def incoming(data_dir: Path) -> list[int]:
    """Sizes of the bodies being received (not yet objects or parts)."""
    return [p.stat().st_size for p in (data_dir / "objects" / "incoming").glob("*")]


def test_kill_during_uploads_leaves_no_partial_object(data_dir: Path) -> None:
    first = ServerProcess(data_dir).start()
    s3 = make_client(first.url, "s3")
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="whole", Body=b"old content")
    upload_id = s3.create_multipart_upload(Bucket="bkt", Key="parts")["UploadId"]
    part_one = b"1" * (5 * MiB)
    etag = s3.upload_part(
        Bucket="bkt", Key="parts", UploadId=upload_id, PartNumber=1, Body=part_one
    )["ETag"]
    query = f"?partNumber=2&uploadId={upload_id}"
    cut_part = start_put(first, f"/bkt/parts{query}", 8 * MiB, b"2" * (3 * MiB))
    cut_object = start_put(first, "/bkt/whole", 8 * MiB, b"new" * MiB)
    wait_for(lambda: len(incoming(data_dir)) == 2 and min(incoming(data_dir)) >= MiB)
    first.kill()
    cut_part.close()
    cut_object.close()

    second = ServerProcess(data_dir).start()
    try:
        s3 = make_client(second.url, "s3")
        assert s3.get_object(Bucket="bkt", Key="whole")["Body"].read() == b"old content"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]] == ["whole"]
        assert incoming(data_dir) == []
        uploads = s3.list_multipart_uploads(Bucket="bkt")["Uploads"]
        assert [u["UploadId"] for u in uploads] == [upload_id]
        parts = s3.list_parts(Bucket="bkt", Key="parts", UploadId=upload_id)["Parts"]
        assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MiB)]
        s3.complete_multipart_upload(
            Bucket="bkt",
            Key="parts",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
        )
        assert s3.get_object(Bucket="bkt", Key="parts")["Body"].read() == part_one
        blobs = list((data_dir / "objects" / "blobs").rglob("*/*"))
        assert len(blobs) == 2  # exactly the two objects: no orphaned part or body
    finally:
        second.stop()


def test_gigabyte_round_trip_in_flat_memory(data_dir: Path, tmp_path: Path) -> None:
    server = ServerProcess(data_dir).start()
    try:
        s3 = make_client(server.url, "s3")
        s3.create_bucket(Bucket="bkt")
        block = hashlib.sha256(b"block").digest() * (MiB // 32)
        source = tmp_path / "gigabyte.bin"
        digest = hashlib.sha256()
        with source.open("wb") as handle:
            for index in range(1024):
                chunk = index.to_bytes(4, "big") + block[4:]
                handle.write(chunk)
                digest.update(chunk)
        baseline = server.peak_rss_bytes()
        config = TransferConfig(multipart_chunksize=64 * MiB, max_concurrency=4)
        s3.upload_file(str(source), "bkt", "gigabyte.bin", Config=config)
        source.unlink()
        target = tmp_path / "back.bin"
        s3.download_file("bkt", "gigabyte.bin", str(target), Config=config)
        received = hashlib.sha256()
        with target.open("rb") as handle:
            for chunk in iter(lambda: handle.read(8 * MiB), b""):
                received.update(chunk)
        assert received.hexdigest() == digest.hexdigest()
        assert target.stat().st_size == 1024 * MiB
        growth = server.peak_rss_bytes() - baseline
        assert growth < 128 * MiB, f"server memory grew by {growth / MiB:.0f} MiB"
    finally:
        server.stop()
