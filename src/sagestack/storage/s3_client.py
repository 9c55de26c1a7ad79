"""The object store as a client of any S3-compatible endpoint: AWS S3, MinIO, Ceph, or sagestack.

This is the scale-out side of the object store boundary: when sagestack runs on several machines,
their inputs and artifacts live in a shared S3 service instead of one data dir.

Large objects go through boto3's managed transfers (s3transfer): uploads above the multipart
threshold are sent as parallel parts and downloads as parallel ranged GETs, both streaming from
and to disk, so no object ever has to fit in memory.

Request checksums are computed only where an operation requires them (the default since
botocore 1.36 is to add CRC trailers to every upload, which MinIO before 2025, Ceph and other
S3-compatible services reject or ignore). Single-request uploads of bytes carry Content-MD5
instead, which every S3 implementation checks.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import ClientError

from sagestack.storage.base import NoSuchBucket, NoSuchKey, ObjectInfo, ObjectStoreError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MIB = 1024 * 1024
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
#: Error codes that say "not found" without saying what: a HEAD response has no body, so
#: botocore can only report its status.
_BARE_NOT_FOUND = {"404", "NotFound"}


class S3ClientObjectStore:
    """An `ObjectStore` over a boto3 S3 client.

    Credentials and region left as None come from boto3's usual chain (environment, shared
    config, instance metadata). Addressing is path-style, which every S3-compatible service
    accepts, where virtual-hosted style needs wildcard DNS that MinIO or sagestack rarely have.

    `multipart_threshold` and `part_size` shape managed transfers (S3 requires parts of at least
    5 MiB, except the last); `max_concurrency` is the number of parallel requests one transfer
    makes. The connection pool is sized so several transfers at once do not starve each other.

    S3 lowercases user metadata keys and carries them as HTTP headers, so callers should use
    lowercase ASCII keys. Credentials without s3:ListBucket get 403, not 404, for a missing key;
    that stays a botocore `ClientError`.
    """

    def __init__(
        self,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str | None = None,
        *,
        session_token: str | None = None,
        multipart_threshold: int = 16 * MIB,
        part_size: int = 16 * MIB,
        max_concurrency: int = 10,
        max_pool_connections: int = 64,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        max_attempts: int = 5,
    ) -> None:
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
            region_name=region,
        )
        config = Config(
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
            tcp_keepalive=True,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self.client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)
        self.multipart_threshold = multipart_threshold
        self._transfer_config = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=part_size,
            max_concurrency=max_concurrency,
            use_threads=True,
        )

    def close(self) -> None:
        """Close the client's pooled connections."""
        self.client.close()

    # -- buckets ---------------------------------------------------------------------------

    def ensure_bucket(self, bucket: str) -> None:
        """Check before creating: a pre-provisioned bucket often comes with credentials that may
        use it but not create buckets."""
        if self.bucket_exists(bucket):
            return
        arguments: dict[str, Any] = {"Bucket": bucket}
        region = self.client.meta.region_name
        if region and region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**arguments)
        except ClientError as error:
            # Another client with our credentials created it since the check.
            if _code(error) != "BucketAlreadyOwnedByYou":
                raise

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.client.head_bucket(Bucket=bucket)
        except ClientError as error:
            if _code(error) in _BARE_NOT_FOUND | {"NoSuchBucket"}:
                return False
            raise
        return True

    # -- writing ---------------------------------------------------------------------------

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Bytes below the multipart threshold go in one PutObject (with Content-MD5); anything
        else goes through a managed transfer, which reads a stream in parts."""
        extra = _extra_args(content_type, metadata)
        if isinstance(body, (bytes, bytearray, memoryview)):
            data = bytes(body)
            if len(data) < self.multipart_threshold:
                digest = hashlib.md5(data, usedforsecurity=False).digest()
                with self._mapped(bucket, key):
                    self.client.put_object(
                        Bucket=bucket,
                        Key=key,
                        Body=data,
                        ContentMD5=base64.b64encode(digest).decode("ascii"),
                        **extra,
                    )
                return self.head_object(bucket, key)
            self._upload(io.BytesIO(data), bucket, key, extra)
        else:
            self._upload(body if body.seekable() else _FullReads(body), bucket, key, extra)
        return self.head_object(bucket, key)

    def upload_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        self._upload(str(path), bucket, key, _extra_args(content_type, metadata))
        return self.head_object(bucket, key)

    def _upload(
        self, source: str | BinaryIO | io.RawIOBase, bucket: str, key: str, extra: dict[str, Any]
    ) -> None:
        with (
            self._mapped(bucket, key),
            create_transfer_manager(self.client, self._transfer_config) as manager,
        ):
            manager.upload(source, bucket, key, extra_args=extra).result()

    def delete_object(self, bucket: str, key: str) -> None:
        with self._mapped(bucket, key):
            self.client.delete_object(Bucket=bucket, Key=key)

    # -- reading ---------------------------------------------------------------------------

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        return _info(key, self._head(bucket, key))

    def _head(self, bucket: str, key: str) -> dict[str, Any]:
        with self._mapped(bucket, key):
            response: dict[str, Any] = self.client.head_object(Bucket=bucket, Key=key)
        return response

    def open_object(self, bucket: str, key: str) -> BinaryIO:
        """The GET is sent here, so a missing object fails at the call as in the local store.
        The returned stream is its own context manager and closes the connection on exit."""
        with self._mapped(bucket, key):
            response = self.client.get_object(Bucket=bucket, Key=key)
        return io.BufferedReader(_BodyReader(response["Body"]), buffer_size=MIB)

    def download_file(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        """Write to a temporary file beside `path`, fsync it, then rename it over `path`: a reader
        of `path` sees the old file or the whole new one, and a failure leaves nothing behind.

        The HEAD that reports what is downloaded also pins it: every GET of the transfer carries
        If-Match with its ETag, so an object overwritten meanwhile fails the download instead of
        mixing two versions' parts or returning the wrong `ObjectInfo`."""
        head = self._head(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".part"
        )
        try:
            with os.fdopen(descriptor, "wb") as target:
                with (
                    self._mapped(bucket, key),
                    create_transfer_manager(self.client, self._transfer_config) as manager,
                ):
                    subscriber = _PinnedETag(head["ETag"])
                    manager.download(bucket, key, target, subscribers=[subscriber]).result()
                target.flush()
                os.fsync(target.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)
        return _info(key, head)

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Pages of ListObjectsV2, fetched as the caller iterates. Listings carry no content type
        or user metadata, so those fields are the defaults; `head_object` has them."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        with self._mapped(bucket):
            for page in pages:
                for entry in page.get("Contents", ()):
                    yield ObjectInfo(
                        key=entry["Key"],
                        size=entry["Size"],
                        etag=entry["ETag"].strip('"'),
                        last_modified=entry["LastModified"].timestamp(),
                    )

    # -- errors ----------------------------------------------------------------------------

    @contextmanager
    def _mapped(self, bucket: str, key: str | None = None) -> Iterator[None]:
        """Raise the protocol's `NoSuchBucket` / `NoSuchKey` for S3's not-found errors."""
        try:
            yield
        except ClientError as error:
            missing = self._missing(error, bucket, key)
            if missing is None:
                raise
            raise missing from error

    def _missing(self, error: ClientError, bucket: str, key: str | None) -> ObjectStoreError | None:
        code = _code(error)
        if code == "NoSuchBucket":
            return NoSuchBucket(bucket)
        if code == "NoSuchKey" and key is not None:
            return NoSuchKey(bucket, key)
        if code in _BARE_NOT_FOUND:
            if key is None or not self.bucket_exists(bucket):
                return NoSuchBucket(bucket)
            return NoSuchKey(bucket, key)
        return None


class _BodyReader(io.RawIOBase):
    """A botocore StreamingBody as a raw stream, so `io.BufferedReader` can give it the whole
    binary file interface (`read(n)`, `readline`, `readinto`, iteration) and close it once."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data: bytes = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        """The rest in one read, not in `io.DEFAULT_BUFFER_SIZE` pieces."""
        data: bytes = self._body.read()
        return data

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class _FullReads(io.RawIOBase):
    """A non-seekable stream whose `read(n)` returns `n` bytes unless the stream ends.

    s3transfer reads a stream of unknown size once up to the multipart threshold and once per
    part; a raw pipe or socket answering with fewer bytes would turn a large body into one
    in-memory PutObject, or into parts smaller than S3's 5 MiB minimum.
    """

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self._stream.read()
        chunks: list[bytes] = []
        remaining = size
        while remaining > 0:
            chunk = self._stream.read(remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


class _PinnedETag:
    """An s3transfer subscriber that hands the transfer the ETag already read by our HEAD, so its
    first GET is conditional too (s3transfer otherwise takes the ETag from that GET's reply)."""

    def __init__(self, etag: str) -> None:
        self.etag = etag

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_object_etag(self.etag)


def _extra_args(content_type: str | None, metadata: Mapping[str, str] | None) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if content_type is not None:
        extra["ContentType"] = content_type
    if metadata:
        extra["Metadata"] = dict(metadata)
    return extra


def _info(key: str, head: Mapping[str, Any]) -> ObjectInfo:
    return ObjectInfo(
        key=key,
        size=head["ContentLength"],
        etag=head["ETag"].strip('"'),
        last_modified=head["LastModified"].timestamp(),
        content_type=head.get("ContentType") or DEFAULT_CONTENT_TYPE,
        metadata=dict(head.get("Metadata", {})),
    )


def _code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code


def _fsync_directory(directory: Path) -> None:
    """Make a rename into `directory` survive a crash."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
