"""One contract suite for every ObjectStore: the files in the data dir and the S3 client must
behave identically, down to ETags, key order, odd keys, errors and atomic downloads.

Parameters: "local" (a `LocalObjectStore` in a temp dir) and "s3_client" (an
`S3ClientObjectStore` against the live sagestack server of this session). Setting
SAGESTACK_CONTRACT_S3_URL adds "s3_external": the S3 client against that endpoint (MinIO, moto,
AWS), with credentials from SAGESTACK_CONTRACT_S3_ACCESS_KEY_ID / _SECRET_ACCESS_KEY / _REGION
(default test / test / us-east-1). Every test uses a bucket of its own, since servers are shared.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from s3transfer.exceptions import S3DownloadFailedError

from sagestack.storage.base import NoSuchBucket, NoSuchKey, ObjectInfo, ObjectStore
from sagestack.storage.local import LocalObjectStore
from sagestack.storage.s3_client import S3ClientObjectStore

MIB = 1024 * 1024
#: The S3 client's multipart threshold and part size here: S3's minimum part size, so that a
#: 12 MiB object is three parts (5 + 5 + 2 MiB) and still cheap to move.
PART = 5 * MIB
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
EXTERNAL_URL = os.environ.get("SAGESTACK_CONTRACT_S3_URL")
TARGETS = ["local", "s3_client", *(["s3_external"] if EXTERNAL_URL else [])]

#: Keys that trip path handling, URL encoding or sorting somewhere.
ODD_KEYS = [
    "a/../b",
    "b",
    "../escape",
    "./dot",
    "%2F",
    "a%2Fb",
    "ü/日本",
    "dir/",
    "with space",
    "two  spaces ",
    "a+b",
    "question?mark#hash",
    "semi;colon&amp=eq",
    "double//slash",
    "/leading",
    "~tilde",
    "quote'\"",
    "emoji 🎉",
    "\uff5efullwidth",
]


@dataclass(frozen=True)
class Target:
    store: ObjectStore
    #: The part size of the store's multipart uploads, which start at that size too; None for a
    #: store that always keeps an object as one part.
    part_size: int | None


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "local":
        local = LocalObjectStore(tmp_path / "objects")
        yield Target(local, None)
        local.close()
        return
    client = s3_client_for(request, request.param)
    yield Target(client, PART)
    client.close()


@pytest.fixture(params=TARGETS[1:])
def s3_store(request: pytest.FixtureRequest) -> Iterator[S3ClientObjectStore]:
    """The S3 client alone, for what only it can get wrong."""
    client = s3_client_for(request, request.param)
    yield client
    client.close()


def s3_client_for(request: pytest.FixtureRequest, name: str) -> S3ClientObjectStore:
    if name == "s3_client":
        url, key_id, secret, region = request.getfixturevalue("server").url, "test", "test", None
    else:
        env = os.environ.get
        url = EXTERNAL_URL
        key_id = env("SAGESTACK_CONTRACT_S3_ACCESS_KEY_ID", "test")
        secret = env("SAGESTACK_CONTRACT_S3_SECRET_ACCESS_KEY", "test")
        region = env("SAGESTACK_CONTRACT_S3_REGION")
    return S3ClientObjectStore(
        url, key_id, secret, region or "us-east-1", multipart_threshold=PART, part_size=PART
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An empty directory for a test's files, beside (not around) the local store's root."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


@pytest.fixture
def store(target: Target) -> ObjectStore:
    return target.store


@pytest.fixture
def bucket(store: ObjectStore) -> Iterator[str]:
    name = unique_bucket()
    store.ensure_bucket(name)
    yield name
    if isinstance(store, S3ClientObjectStore) and store.bucket_exists(name):
        for info in list(store.list_objects(name)):
            store.delete_object(name, info.key)
        store.client.delete_bucket(Bucket=name)


def unique_bucket() -> str:
    return f"contract-{uuid.uuid4().hex[:24]}"


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def expected_etag(data: bytes, part_size: int | None) -> str:
    """S3's ETag for `data` stored by a transfer that splits from `part_size` bytes on."""
    if part_size is None or len(data) < part_size:
        return md5(data)
    parts = [data[start : start + part_size] for start in range(0, len(data), part_size)]
    digests = b"".join(hashlib.md5(part, usedforsecurity=False).digest() for part in parts)
    return f"{md5(digests)}-{len(parts)}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(MIB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_all(store: ObjectStore, bucket: str, key: str) -> bytes:
    with store.open_object(bucket, key) as stream:
        return stream.read()


def assert_recent(info: ObjectInfo, before: float, after: float) -> None:
    """S3 reports HEAD times in whole seconds, so allow the second `before` falls in."""
    assert math.floor(before) - 1 <= info.last_modified <= after + 1


def same_listing_entry(listed: ObjectInfo, head: ObjectInfo) -> bool:
    """Listings carry key, size, ETag and time (to the millisecond where HEAD has seconds)."""
    return (listed.key, listed.size, listed.etag) == (head.key, head.size, head.etag) and abs(
        listed.last_modified - head.last_modified
    ) < 1


class ChunkStream(io.RawIOBase):
    """A stream that cannot seek and yields at most 1000 bytes a read, as a pipe or a socket
    might: a store must read it to its end without knowing its size."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        size = min(len(view), 1000, len(self._data) - self._position)
        view[:size] = self._data[self._position : self._position + size]
        self._position += size
        return size


# -- buckets -------------------------------------------------------------------------------


def test_ensure_bucket_creates_once_and_keeps_contents(store: ObjectStore) -> None:
    name = unique_bucket()
    assert not store.bucket_exists(name)
    store.ensure_bucket(name)
    assert store.bucket_exists(name)
    store.put_object(name, "kept", b"still here")
    store.ensure_bucket(name)
    assert store.bucket_exists(name)
    assert read_all(store, name, "kept") == b"still here"
    assert not store.bucket_exists(unique_bucket())
    store.delete_object(name, "kept")


def test_every_operation_on_a_missing_bucket_raises_no_such_bucket(
    target: Target, work: Path
) -> None:
    store, name = target.store, unique_bucket()
    small, large = work / "small", work / "large"
    small.write_bytes(b"x")
    large.write_bytes(payload(PART + 1))
    with pytest.raises(NoSuchBucket) as raised:
        store.head_object(name, "k")
    assert raised.value.bucket == name
    with pytest.raises(NoSuchBucket):
        store.put_object(name, "k", b"body")
    with pytest.raises(NoSuchBucket):
        store.put_object(name, "k", ChunkStream(b"body"))
    with pytest.raises(NoSuchBucket):
        store.upload_file(name, "k", small)
    with pytest.raises(NoSuchBucket):
        store.upload_file(name, "k", large)
    with pytest.raises(NoSuchBucket), store.open_object(name, "k") as stream:
        stream.read()
    with pytest.raises(NoSuchBucket):
        store.download_file(name, "k", work / "out" / "file")
    assert sorted(path.name for path in work.rglob("*") if path.is_file()) == ["large", "small"]
    with pytest.raises(NoSuchBucket):
        list(store.list_objects(name))
    with pytest.raises(NoSuchBucket):
        store.delete_object(name, "k")
    assert not store.bucket_exists(name)


def test_missing_key_raises_no_such_key(store: ObjectStore, bucket: str, work: Path) -> None:
    store.put_object(bucket, "present", b"1")
    with pytest.raises(NoSuchKey) as raised:
        store.head_object(bucket, "absent")
    assert (raised.value.bucket, raised.value.key) == (bucket, "absent")
    with pytest.raises(NoSuchKey), store.open_object(bucket, "absent") as stream:
        stream.read()
    with pytest.raises(NoSuchKey):
        store.download_file(bucket, "absent", work / "absent")
    with pytest.raises(NoSuchKey):
        store.head_object(bucket, "presen")
    assert list(work.iterdir()) == []


# -- writing and reading -------------------------------------------------------------------


def test_put_bytes_round_trip(store: ObjectStore, bucket: str) -> None:
    data = payload(100_000)
    before = time.time()
    info = store.put_object(bucket, "models/model.bin", data)
    after = time.time()
    assert (info.key, info.size, info.etag) == ("models/model.bin", len(data), md5(data))
    assert re.fullmatch(r"[0-9a-f]{32}", info.etag)
    assert info.content_type == "binary/octet-stream"
    assert dict(info.metadata) == {}
    assert_recent(info, before, after)
    assert store.head_object(bucket, "models/model.bin") == info
    assert read_all(store, bucket, "models/model.bin") == data


def test_empty_object(store: ObjectStore, bucket: str, work: Path) -> None:
    info = store.put_object(bucket, "empty", b"")
    assert (info.size, info.etag) == (0, EMPTY_MD5)
    assert read_all(store, bucket, "empty") == b""
    assert store.download_file(bucket, "empty", work / "empty") == info
    assert (work / "empty").read_bytes() == b""


def test_content_type_and_metadata_round_trip(store: ObjectStore, bucket: str, work: Path) -> None:
    metadata = {"framework": "scikit-learn", "epoch": "3", "note": "a b=c"}
    info = store.put_object(
        bucket, "put", b"{}", content_type="application/json", metadata=metadata
    )
    assert (info.content_type, dict(info.metadata)) == ("application/json", metadata)
    head = store.head_object(bucket, "put")
    assert (head.content_type, dict(head.metadata)) == ("application/json", metadata)

    source = work / "weights.npy"
    source.write_bytes(b"\x93NUMPY")
    uploaded = store.upload_file(
        bucket, "uploaded", source, content_type="application/x-npy", metadata={"k": "v"}
    )
    assert (uploaded.content_type, dict(uploaded.metadata)) == ("application/x-npy", {"k": "v"})
    assert store.download_file(bucket, "uploaded", work / "copy") == uploaded


def test_overwrite_replaces_content_and_attributes(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "k", b"first", content_type="text/plain", metadata={"v": "1"})
    info = store.put_object(bucket, "k", b"second!")
    assert (info.size, info.etag) == (7, md5(b"second!"))
    assert (info.content_type, dict(info.metadata)) == ("binary/octet-stream", {})
    assert store.head_object(bucket, "k") == info
    assert read_all(store, bucket, "k") == b"second!"
    assert [entry.key for entry in store.list_objects(bucket)] == ["k"]


def test_put_reads_streams_to_their_end(target: Target, bucket: str, work: Path) -> None:
    store = target.store
    source = work / "with-header"
    source.write_bytes(b"HEADER" + b"body after the header")
    with source.open("rb") as stream:
        stream.read(6)
        info = store.put_object(bucket, "seekable", stream, content_type="text/plain")
    assert (info.size, info.etag, info.content_type) == (
        21,
        md5(b"body after the header"),
        "text/plain",
    )
    assert read_all(store, bucket, "seekable") == b"body after the header"

    small = payload(5000, seed=1)
    assert store.put_object(bucket, "pipe-small", ChunkStream(small)).etag == md5(small)
    assert read_all(store, bucket, "pipe-small") == small

    large = payload(2 * PART + 1234, seed=2)
    info = store.put_object(bucket, "pipe-large", ChunkStream(large), metadata={"m": "1"})
    assert (info.size, dict(info.metadata)) == (len(large), {"m": "1"})
    assert info.etag == expected_etag(large, target.part_size)
    assert read_all(store, bucket, "pipe-large") == large


def test_multipart_sized_file_round_trip(target: Target, bucket: str, work: Path) -> None:
    store = target.store
    data = payload(12 * MIB, seed=3)
    source = work / "model.tar.gz"
    source.write_bytes(data)
    before = time.time()
    info = store.upload_file(
        bucket,
        "job/output/model.tar.gz",
        source,
        content_type="application/x-tar",
        metadata={"job": "train-1"},
    )
    after = time.time()
    assert (info.key, info.size) == ("job/output/model.tar.gz", len(data))
    assert info.etag == expected_etag(data, target.part_size)
    if target.part_size is not None:
        assert re.fullmatch(r"[0-9a-f]{32}-3", info.etag)
    assert (info.content_type, dict(info.metadata)) == ("application/x-tar", {"job": "train-1"})
    assert_recent(info, before, after)
    assert store.head_object(bucket, "job/output/model.tar.gz") == info

    target_path = work / "out" / "nested" / "model.tar.gz"
    assert store.download_file(bucket, "job/output/model.tar.gz", target_path) == info
    assert sha256_file(target_path) == hashlib.sha256(data).hexdigest()
    assert os.listdir(target_path.parent) == ["model.tar.gz"]
    [listed] = store.list_objects(bucket, "job/")
    assert same_listing_entry(listed, info)


def test_open_object_streams_in_chunks(store: ObjectStore, bucket: str) -> None:
    data = payload(3 * MIB + 17, seed=4)
    store.put_object(bucket, "stream", data)
    chunks = []
    with store.open_object(bucket, "stream") as stream:
        while chunk := stream.read(64 * 1024):
            assert len(chunk) <= 64 * 1024
            chunks.append(chunk)
        assert stream.read(10) == b""
    assert stream.closed
    assert b"".join(chunks) == data
    assert len(chunks) == math.ceil(len(data) / (64 * 1024))


def test_open_object_closes_a_stream_left_unread(store: ObjectStore, bucket: str) -> None:
    data = payload(2 * MIB, seed=5)
    store.put_object(bucket, "partly-read", data)
    with store.open_object(bucket, "partly-read") as stream:
        assert stream.read(10) == data[:10]
    assert stream.closed
    for _ in range(3):  # a connection given back half-read would garble these
        with store.open_object(bucket, "partly-read") as again:
            assert again.read(100) == data[:100]
    assert store.head_object(bucket, "partly-read").size == len(data)


# -- downloads -----------------------------------------------------------------------------


def test_download_replaces_an_existing_file(store: ObjectStore, bucket: str, work: Path) -> None:
    store.put_object(bucket, "config.json", b'{"new": true}')
    path = work / "config.json"
    path.write_bytes(b"old content, longer than the new")
    store.download_file(bucket, "config.json", path)
    assert path.read_bytes() == b'{"new": true}'
    assert os.listdir(work) == ["config.json"]


def test_failed_download_leaves_no_file(target: Target, bucket: str, work: Path) -> None:
    store = target.store
    existing = work / "existing"
    existing.write_bytes(b"keep me")
    with pytest.raises(NoSuchKey):
        store.download_file(bucket, "absent", existing)
    assert existing.read_bytes() == b"keep me"

    # The content arrives, then the rename onto a non-empty directory fails.
    store.put_object(bucket, "big", ChunkStream(payload(PART + 1, seed=6)))
    occupied = work / "occupied"
    occupied.mkdir()
    (occupied / "inside").write_bytes(b"x")
    with pytest.raises(OSError):
        store.download_file(bucket, "big", occupied)
    assert sorted(os.listdir(work)) == ["existing", "occupied"]
    assert os.listdir(occupied) == ["inside"]


# -- listing -------------------------------------------------------------------------------


def test_list_objects_in_utf8_order_and_by_prefix(store: ObjectStore, bucket: str) -> None:
    # UTF-8 byte order: upper case before lower, "/" before "0", and U+FF5E before U+1F389
    # (UTF-16 order, as in Java or JavaScript string comparison, would put the emoji first).
    keys = ["a", "B", "a/b", "a/c/d", "a0", "a-", "ä", "\uff5e", "🎉", "日本", "a/b/"]
    infos = {key: store.put_object(bucket, key, key.encode()) for key in reversed(keys)}
    listed = list(store.list_objects(bucket))
    assert [entry.key for entry in listed] == sorted(keys, key=lambda key: key.encode())
    for entry in listed:
        assert same_listing_entry(entry, infos[entry.key])
    assert [entry.key for entry in store.list_objects(bucket, "a/")] == ["a/b", "a/b/", "a/c/d"]
    assert [entry.key for entry in store.list_objects(bucket, "a/b")] == ["a/b", "a/b/"]
    assert [entry.key for entry in store.list_objects(bucket, "a")][:2] == ["a", "a-"]
    assert list(store.list_objects(bucket, "zzz")) == []
    assert list(store.list_objects(bucket, "A")) == []


def test_list_objects_pages_past_a_thousand_keys(store: ObjectStore, bucket: str) -> None:
    keys = [f"shard/{number:05d}" for number in range(1005)]
    for key in keys:
        store.put_object(bucket, key, b"")
    store.put_object(bucket, "shards-after", b"")
    assert [entry.key for entry in store.list_objects(bucket, "shard/")] == keys
    assert sum(1 for _ in store.list_objects(bucket)) == 1006


def test_list_of_an_empty_bucket_is_empty(store: ObjectStore, bucket: str) -> None:
    assert list(store.list_objects(bucket)) == []


# -- keys ----------------------------------------------------------------------------------


def test_odd_keys_round_trip(store: ObjectStore, bucket: str, work: Path) -> None:
    for key in ODD_KEYS:
        info = store.put_object(bucket, key, f"content of {key!r}".encode())
        assert info.key == key
    for number, key in enumerate(ODD_KEYS):
        content = f"content of {key!r}".encode()
        assert store.head_object(bucket, key).etag == md5(content), key
        assert read_all(store, bucket, key) == content, key
        assert store.download_file(bucket, key, work / "out" / str(number)).key == key
        assert (work / "out" / str(number)).read_bytes() == content
    listed = [entry.key for entry in store.list_objects(bucket)]
    assert listed == sorted(ODD_KEYS, key=lambda key: key.encode())
    assert [entry.key for entry in store.list_objects(bucket, "ü/")] == ["ü/日本"]
    assert [entry.key for entry in store.list_objects(bucket, "a%2F")] == ["a%2Fb"]
    assert not any(path.name == "escape" for path in work.parent.rglob("*"))
    for key in ODD_KEYS:
        store.delete_object(bucket, key)
        with pytest.raises(NoSuchKey):
            store.head_object(bucket, key)
    assert list(store.list_objects(bucket)) == []


def test_dot_segments_and_slashes_name_distinct_objects(store: ObjectStore, bucket: str) -> None:
    """`a/../b` is not `b`, `dir/` is not `dir`, `%2F` is not `/`: keys are strings, not paths."""
    pairs = [("a/../b", "b"), ("dir/", "dir"), ("x%2Fy", "x/y"), ("double//slash", "double/slash")]
    for first, second in pairs:
        store.put_object(bucket, first, b"first")
        store.put_object(bucket, second, b"second")
        assert read_all(store, bucket, first) == b"first", first
        assert read_all(store, bucket, second) == b"second", second
    assert len(list(store.list_objects(bucket))) == 2 * len(pairs)


# -- deleting ------------------------------------------------------------------------------


def test_delete_is_idempotent(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "doomed", b"x")
    store.put_object(bucket, "doomed-not", b"y")
    store.delete_object(bucket, "doomed")
    with pytest.raises(NoSuchKey):
        store.head_object(bucket, "doomed")
    store.delete_object(bucket, "doomed")
    store.delete_object(bucket, "never-existed")
    assert [entry.key for entry in store.list_objects(bucket)] == ["doomed-not"]
    assert read_all(store, bucket, "doomed-not") == b"y"


# -- the S3 client alone -------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, 2 * PART + 1])
def test_s3_download_refuses_an_object_overwritten_after_its_head(
    s3_store: S3ClientObjectStore, work: Path, size: int
) -> None:
    """Another writer replaces the object between the HEAD that `download_file` reports and its
    GETs: the download must fail whole rather than write the new bytes (or, for a ranged
    download, a mix of both) under the old ObjectInfo."""
    bucket = unique_bucket()
    s3_store.ensure_bucket(bucket)
    s3_store.put_object(bucket, "k", b"a" * size)
    replaced: list[str] = []

    def replace_after_head(**_: Any) -> None:
        if not replaced:
            replaced.append("k")
            s3_store.client.put_object(Bucket=bucket, Key="k", Body=b"b" * size)

    events = s3_store.client.meta.events
    events.register("after-call.s3.HeadObject", replace_after_head)
    try:
        with pytest.raises(S3DownloadFailedError, match="did not match expected ETag"):
            s3_store.download_file(bucket, "k", work / "k")
    finally:
        events.unregister("after-call.s3.HeadObject", replace_after_head)
    assert replaced == ["k"]
    assert os.listdir(work) == []
    assert s3_store.download_file(bucket, "k", work / "k").etag == md5(b"b" * size)
    assert (work / "k").read_bytes() == b"b" * size
    s3_store.delete_object(bucket, "k")
    s3_store.client.delete_bucket(Bucket=bucket)
