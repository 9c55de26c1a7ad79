"""The object store every part of sagestack reads inputs from and writes artifacts to.

Two implementations pass one contract suite (tests/contract/test_object_store.py): files in the
data dir (`local.LocalObjectStore`, which sagestack also serves as S3 on its port) and an S3
client for any S3-compatible endpoint (`s3_client.S3ClientObjectStore`: AWS S3, MinIO, Ceph).

The interface is synchronous and streams: nothing here needs an object to fit in memory. Keys are
S3 keys (any string S3 allows); a store never lets one escape its own storage.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol


class ObjectStoreError(Exception):
    """Base of the errors an object store raises; `bucket` and `key` say what was asked for."""

    def __init__(self, bucket: str, key: str | None = None) -> None:
        super().__init__(f"s3://{bucket}/{key}" if key is not None else f"s3://{bucket}")
        self.bucket = bucket
        self.key = key


class NoSuchBucket(ObjectStoreError):
    pass


class NoSuchKey(ObjectStoreError):
    pass


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    #: The S3 ETag without quotes: hex MD5 of the content, or `<md5-of-md5s>-<parts>` for a
    #: multipart object.
    etag: str
    #: Epoch seconds (whole seconds from S3 endpoints).
    last_modified: float
    content_type: str = "binary/octet-stream"
    #: User metadata; S3 lower-cases its keys (they travel as HTTP headers), so use lower case.
    metadata: Mapping[str, str] = field(default_factory=dict)


class ObjectStore(Protocol):
    def ensure_bucket(self, bucket: str) -> None:
        """Create `bucket` unless it exists (owned by us)."""
        ...

    def bucket_exists(self, bucket: str) -> bool: ...

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Store `body` (bytes, or a binary file read to its end) as one object, atomically."""
        ...

    def upload_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo: ...

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        """`NoSuchBucket` / `NoSuchKey` when absent."""
        ...

    def open_object(self, bucket: str, key: str) -> AbstractContextManager[BinaryIO]:
        """A readable binary stream of the object's content."""
        ...

    def download_file(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        """Write the object to `path` atomically (parents created)."""
        ...

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, in key order (UTF-8 binary order).

        Content type and metadata are only reliable from `head_object` (S3 listings omit them).
        """
        ...

    def delete_object(self, bucket: str, key: str) -> None:
        """Delete the object; deleting an absent key is not an error (S3's behaviour)."""
        ...

    def close(self) -> None:
        """Release connections and files; the store is not used afterwards."""
        ...


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/key` → ("bucket", "some/key"); ValueError for anything else."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, key
