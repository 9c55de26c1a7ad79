"""What every S3 handler shares: the store, and lookups that fail with S3's own errors."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator
from typing import Any, BinaryIO
from urllib.parse import unquote

from sagestack.api.context import RequestContext
from sagestack.services.s3.conditions import parse_tagging
from sagestack.services.s3.errors import (
    invalid_argument,
    invalid_request,
    no_such_bucket,
    no_such_key,
    no_such_upload,
)
from sagestack.storage.base import NoSuchBucket, NoSuchKey
from sagestack.storage.local import CHUNK, LocalObjectStore, NoSuchUpload
from sagestack.storage.local_index import Attributes, Bucket, StoredObject, Upload

#: Request members kept as an object's system headers, and given back on GET/HEAD.
SYSTEM_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage")

OWNER_NAME = "sagestack"


def owner(ctx: RequestContext) -> dict[str, str]:
    return {"DisplayName": OWNER_NAME, "ID": ctx.account}


def quoted(etag: str) -> str:
    return f'"{etag}"'


class S3Api:
    def __init__(self, store: LocalObjectStore) -> None:
        self.store = store

    def bucket(self, name: str) -> Bucket:
        try:
            return self.store.require_bucket(name)
        except NoSuchBucket:
            raise no_such_bucket(name) from None

    def object(self, bucket: str, key: str) -> StoredObject:
        try:
            return self.store.require_object(bucket, key)
        except NoSuchBucket:
            raise no_such_bucket(bucket) from None
        except NoSuchKey:
            raise no_such_key(key) from None

    def upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        try:
            return self.store.require_upload(bucket, key, upload_id)
        except NoSuchBucket:
            raise no_such_bucket(bucket) from None
        except NoSuchUpload:
            raise no_such_upload(upload_id) from None

    def copy_source(self, request: dict[str, Any]) -> StoredObject:
        """The object `x-amz-copy-source` names: `[/]bucket/key[?versionId=...]`, URL-encoded."""
        source = request["CopySource"]
        path, _, version = source.partition("?")
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        if not bucket or not key:
            raise invalid_argument("Invalid copy source object key", "x-amz-copy-source", source)
        if version and version not in ("versionId=null", "versionId="):
            raise invalid_request("This bucket does not have versioning enabled.")
        return self.object(bucket, key)


def attributes_from(request: dict[str, Any], *, checksum: str | None = None) -> Attributes:
    """An object's attributes as a write request (PutObject, CreateMultipartUpload, CopyObject
    with REPLACE) sets them."""
    headers = {name: request[name] for name in SYSTEM_HEADERS if request.get(name)}
    encoding = headers.get("ContentEncoding", "")
    if "aws-chunked" in encoding:  # transfer framing, not the object's own encoding
        remaining = [e.strip() for e in encoding.split(",") if e.strip() != "aws-chunked"]
        if remaining:
            headers["ContentEncoding"] = ",".join(remaining)
        else:
            del headers["ContentEncoding"]
    if request.get("Expires") is not None:
        headers["Expires"] = _epoch(request["Expires"])
    return Attributes(
        content_type=request.get("ContentType") or "binary/octet-stream",
        metadata=dict(request.get("Metadata") or {}),
        headers=headers,
        tags=parse_tagging(request["Tagging"]) if request.get("Tagging") else {},
        checksums={checksum: ""} if checksum else {},
    )


def _epoch(value: Any) -> float:
    return float(value.timestamp()) if hasattr(value, "timestamp") else float(value)


def described(stored: StoredObject, request: dict[str, Any]) -> dict[str, Any]:
    """The headers GetObject and HeadObject answer with."""
    attributes = stored.attributes
    output: dict[str, Any] = {
        "ETag": quoted(stored.etag),
        "LastModified": int(stored.modified),
        "ContentLength": stored.size,
        "ContentType": attributes.content_type,
        "AcceptRanges": "bytes",
        "Metadata": attributes.metadata or None,
        "TagCount": len(attributes.tags) or None,
        **attributes.headers,
    }
    if request.get("ChecksumMode") == "ENABLED":
        for algorithm, value in attributes.checksums.items():
            if value:
                output[f"Checksum{algorithm}"] = value
                output["ChecksumType"] = "COMPOSITE" if "-" in value else "FULL_OBJECT"
    for name in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage"):
        if request.get(f"Response{name}"):
            output[name] = request[f"Response{name}"]
    if request.get("ResponseContentType"):
        output["ContentType"] = request["ResponseContentType"]
    if request.get("ResponseExpires") is not None:
        output["Expires"] = request["ResponseExpires"]
    return output


async def read_blob(handle: BinaryIO, first: int, last: int) -> AsyncIterator[bytes]:
    """Bytes `first`..`last` (inclusive) of an open blob, read on a worker thread; the blob is
    opened before the response starts, so a concurrent overwrite cannot change what is sent."""
    try:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def encode_marker(after: str) -> str:
    """A continuation token: where the next page starts after, opaque to the client."""
    return base64.urlsafe_b64encode(after.encode()).decode()


def decode_marker(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_argument(
            "The continuation token provided is incorrect", "continuation-token", token
        ) from None
