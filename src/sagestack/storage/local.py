"""Objects as files in the data dir: the embedded object store, also served as S3.

Layout under the root: `index.db` (keys and attributes, see local_index), `blobs/xx/<id>` (the
immutable content files), `incoming/` (bodies being written). A write goes to `incoming/`, is
fsynced, renamed into `blobs/` and only then indexed, so an object is there whole or not at
all; a crash leaves at worst an unindexed file, which the next start removes. An overwrite
indexes a new blob and unlinks the old one; readers holding the old file open keep reading it.
A multipart object is its part files in order (completing an upload copies nothing). Copies
hard-link the files: content files are never modified in place.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from sagestack.storage.base import NoSuchBucket, NoSuchKey, ObjectInfo
from sagestack.storage.joined import JoinedBlob
from sagestack.storage.local_index import (
    Attributes,
    Bucket,
    Index,
    Part,
    StoredObject,
    Upload,
)

CHUNK = 1024 * 1024


class BucketAlreadyExists(Exception):
    pass


class BucketNotEmpty(Exception):
    pass


class NoSuchUpload(Exception):
    pass


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...


class PendingBlob:
    """A body being written to `incoming/`: MD5 (and any extra hashers) computed on the way.

    `write` may be called from a worker thread; `discard` removes the file (always safe to call).
    """

    def __init__(self, path: Path, hashers: Iterable[Hasher] = ()) -> None:
        self.path = path
        self.blob_id = path.name
        self.size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._hashers = list(hashers)
        self._file: BinaryIO | None = path.open("xb")

    def write(self, data: bytes) -> None:
        self.digest(data)
        self.store(data)

    def digest(self, data: bytes) -> None:
        """Hash `data` (the next bytes of the body). With `store` it is `write`, split so the
        two can run at once on separate threads (both release the GIL)."""
        self._md5.update(data)
        for hasher in self._hashers:
            hasher.update(data)

    def store(self, data: bytes) -> None:
        """Append `data` to the file (the same bytes `digest` is given, in the same order)."""
        assert self._file is not None, "write after finish"
        self._file.write(data)
        self.size += len(data)

    def finish(self) -> str:
        """Flush and fsync; the hex MD5 of everything written."""
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        return self._md5.hexdigest()

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.path.unlink(missing_ok=True)


class LocalObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._open()

    def _open(self) -> None:
        self._blobs = self.root / "blobs"
        self._incoming = self.root / "incoming"
        self._blobs.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self._incoming, ignore_errors=True)  # bodies a crash cut short
        self._incoming.mkdir()
        self.index = Index(self.root / "index.db")
        self._collect_orphans()

    def close(self) -> None:
        self.index.close()

    def reset(self) -> None:
        self.index.close()
        shutil.rmtree(self.root, ignore_errors=True)
        self._open()

    def _collect_orphans(self) -> None:
        """Remove blobs no index row names (renamed in, then a crash before indexing)."""
        known = {blob_id for blob in self.index.blobs() for blob_id in blob.split()}
        for directory in self._blobs.iterdir():
            for blob in directory.iterdir():
                if blob.name not in known:
                    blob.unlink(missing_ok=True)

    def blob_path(self, blob_id: str) -> Path:
        return self._blobs / blob_id[:2] / blob_id

    # -- writing ---------------------------------------------------------------------------

    def begin(self, hashers: Iterable[Hasher] = ()) -> PendingBlob:
        return PendingBlob(self._incoming / uuid.uuid4().hex, hashers)

    def _adopt(self, pending: PendingBlob) -> str:
        """Move a finished body into `blobs/`; its id."""
        target = self.blob_path(pending.blob_id)
        target.parent.mkdir(exist_ok=True)
        os.rename(pending.path, target)
        return pending.blob_id

    def _unlink_blobs(self, blobs: Iterable[str]) -> None:
        """Remove the content files of `blobs` (each one id, or a multipart object's ids)."""
        for blob in blobs:
            for blob_id in blob.split():
                self.blob_path(blob_id).unlink(missing_ok=True)

    def commit_object(
        self, bucket: str, key: str, pending: PendingBlob, etag: str, attributes: Attributes
    ) -> StoredObject:
        blob_id = self._adopt(pending)
        stored = StoredObject(bucket, key, blob_id, pending.size, etag, time.time(), attributes)
        return self._index(stored)

    def copy_object(
        self, source: StoredObject, bucket: str, key: str, attributes: Attributes
    ) -> StoredObject:
        linked = []
        try:
            for blob_id in source.blob.split():
                pending = self.begin()
                pending.discard()
                os.link(self.blob_path(blob_id), pending.path)
                linked.append(self._adopt(pending))
        except BaseException:
            self._unlink_blobs(linked)
            raise
        blob = " ".join(linked)
        copied = StoredObject(bucket, key, blob, source.size, source.etag, time.time(), attributes)
        return self._index(copied)

    def _index(self, stored: StoredObject, completes: Upload | None = None) -> StoredObject:
        """Index adopted content as `stored` (replacing any object at its key), or end the
        multipart upload it `completes` (whose parts it is); on failure new content is removed
        again, and an upload's parts stay with the upload."""
        obsolete: list[str] = []
        try:
            with self.index.transaction() as db:
                if completes is not None:
                    upload_id = completes.upload_id
                    if not _exists(db, "uploads", "upload_id", upload_id):
                        raise NoSuchUpload(upload_id)
                    kept = set(stored.blob.split())
                    parts = _deleted_blobs(db, "parts", "upload_id", upload_id)
                    obsolete += [blob for blob in parts if blob not in kept]
                    db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
                if not _exists(db, "buckets", "name", stored.bucket):
                    raise NoSuchBucket(stored.bucket)
                old = db.execute(
                    "SELECT blob FROM objects WHERE bucket = ? AND key = ?",
                    (stored.bucket, stored.key),
                ).fetchone()
                if old is not None:
                    obsolete.append(old[0])
                db.execute(
                    "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        stored.bucket,
                        stored.key,
                        stored.blob,
                        stored.size,
                        stored.etag,
                        stored.modified,
                        stored.attributes.to_json(),
                    ),
                )
        except BaseException:
            if completes is None:
                self._unlink_blobs([stored.blob])
            raise
        self._unlink_blobs(obsolete)
        return stored

    def update_attributes(self, bucket: str, key: str, attributes: Attributes) -> None:
        with self.index.transaction() as db:
            changed = db.execute(
                "UPDATE objects SET attributes = ? WHERE bucket = ? AND key = ?",
                (attributes.to_json(), bucket, key),
            ).rowcount
        if not changed:
            raise NoSuchKey(bucket, key)

    def remove(self, bucket: str, keys: Sequence[str]) -> None:
        gone: list[str] = []
        with self.index.transaction() as db:
            for key in keys:
                row = db.execute(
                    "DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING blob", (bucket, key)
                ).fetchone()
                if row is not None:
                    gone.append(row[0])
        self._unlink_blobs(gone)

    # -- buckets ---------------------------------------------------------------------------

    def create_bucket(self, name: str, region: str) -> Bucket:
        bucket = Bucket(name, region, time.time())
        with self.index.transaction() as db:
            if _exists(db, "buckets", "name", name):
                raise BucketAlreadyExists(name)
            db.execute("INSERT INTO buckets VALUES (?, ?, ?, NULL)", (name, region, bucket.created))
        return bucket

    def require_bucket(self, name: str) -> Bucket:
        bucket = self.index.bucket(name)
        if bucket is None:
            raise NoSuchBucket(name)
        return bucket

    def delete_bucket(self, name: str) -> None:
        """Delete an empty bucket, and with it any multipart uploads still open in it."""
        obsolete: list[str] = []
        with self.index.transaction() as db:
            if not _exists(db, "buckets", "name", name):
                raise NoSuchBucket(name)
            if _exists(db, "objects", "bucket", name):
                raise BucketNotEmpty(name)
            uploads = db.execute("SELECT upload_id FROM uploads WHERE bucket = ?", (name,))
            for (upload_id,) in uploads.fetchall():
                obsolete += _deleted_blobs(db, "parts", "upload_id", upload_id)
            db.execute("DELETE FROM uploads WHERE bucket = ?", (name,))
            db.execute("DELETE FROM buckets WHERE name = ?", (name,))
        self._unlink_blobs(obsolete)

    def set_bucket_tags(self, name: str, tags: Mapping[str, str] | None) -> None:
        with self.index.transaction() as db:
            changed = db.execute(
                "UPDATE buckets SET tags = ? WHERE name = ?",
                (json.dumps(dict(tags)) if tags is not None else None, name),
            ).rowcount
        if not changed:
            raise NoSuchBucket(name)

    # -- reading ---------------------------------------------------------------------------

    def require_object(self, bucket: str, key: str) -> StoredObject:
        stored = self.index.object(bucket, key)
        if stored is None:
            self.require_bucket(bucket)
            raise NoSuchKey(bucket, key)
        return stored

    def open_blob(self, stored: StoredObject) -> BinaryIO:
        blob_ids = stored.blob.split()
        if len(blob_ids) == 1:
            return self.blob_path(blob_ids[0]).open("rb")
        joined = JoinedBlob([self.blob_path(blob_id) for blob_id in blob_ids])
        return cast(BinaryIO, io.BufferedReader(joined, CHUNK))

    # -- multipart -------------------------------------------------------------------------

    def create_upload(self, bucket: str, key: str, attributes: Attributes) -> Upload:
        self.require_bucket(bucket)
        upload = Upload(uuid.uuid4().hex + uuid.uuid4().hex, bucket, key, time.time(), attributes)
        with self.index.transaction() as db:
            db.execute(
                "INSERT INTO uploads VALUES (?, ?, ?, ?, ?)",
                (upload.upload_id, bucket, key, upload.initiated, attributes.to_json()),
            )
        return upload

    def require_upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        upload = self.index.upload(upload_id)
        if upload is None or upload.bucket != bucket or upload.key != key:
            self.require_bucket(bucket)
            raise NoSuchUpload(upload_id)
        return upload

    def commit_part(
        self,
        upload: Upload,
        number: int,
        pending: PendingBlob,
        etag: str,
        checksums: dict[str, str],
    ) -> Part:
        blob_id = self._adopt(pending)
        part = Part(number, blob_id, pending.size, etag, time.time(), checksums)
        obsolete: list[str] = []
        try:
            with self.index.transaction() as db:
                if not _exists(db, "uploads", "upload_id", upload.upload_id):
                    raise NoSuchUpload(upload.upload_id)
                old = db.execute(
                    "SELECT blob FROM parts WHERE upload_id = ? AND number = ?",
                    (upload.upload_id, number),
                ).fetchone()
                if old is not None:
                    obsolete.append(old[0])
                db.execute(
                    "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        upload.upload_id,
                        number,
                        blob_id,
                        part.size,
                        etag,
                        part.modified,
                        json.dumps(checksums),
                    ),
                )
        except BaseException:
            self._unlink_blobs([blob_id])
            raise
        self._unlink_blobs(obsolete)
        return part

    def abort_upload(self, upload: Upload) -> None:
        with self.index.transaction() as db:
            obsolete = _deleted_blobs(db, "parts", "upload_id", upload.upload_id)
            db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload.upload_id,))
        self._unlink_blobs(obsolete)

    def complete_upload(
        self, upload: Upload, parts: Sequence[Part], etag: str, attributes: Attributes
    ) -> StoredObject:
        """Index `parts` (already checked), in order, as the object in place of the upload."""
        stored = StoredObject(
            upload.bucket,
            upload.key,
            " ".join(part.blob for part in parts),
            sum(part.size for part in parts),
            etag,
            time.time(),
            attributes,
        )
        return self._index(stored, completes=upload)

    # -- the ObjectStore protocol, for sagestack's own use ----------------------------------

    def ensure_bucket(self, bucket: str) -> None:
        with suppress(BucketAlreadyExists):
            self.create_bucket(bucket, "us-east-1")

    def bucket_exists(self, bucket: str) -> bool:
        return self.index.bucket(bucket) is not None

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        self.require_bucket(bucket)
        pending = self.begin()
        try:
            if isinstance(body, (bytes, bytearray, memoryview)):
                pending.write(bytes(body))
            else:
                for chunk in iter(lambda: body.read(CHUNK), b""):
                    pending.write(chunk)
            etag = pending.finish()
        except BaseException:
            pending.discard()
            raise
        attributes = Attributes(
            content_type=content_type or "binary/octet-stream", metadata=dict(metadata or {})
        )
        return info(self.commit_object(bucket, key, pending, etag, attributes))

    def upload_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        with path.open("rb") as source:
            return self.put_object(
                bucket, key, source, content_type=content_type, metadata=metadata
            )

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        return info(self.require_object(bucket, key))

    def open_object(self, bucket: str, key: str) -> AbstractContextManager[BinaryIO]:
        stored = self.require_object(bucket, key)
        return self.open_blob(stored)

    def download_file(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        stored = self.require_object(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            with self.open_blob(stored) as source, temporary.open("wb") as target:
                _copy_range(source, target, stored.size)
                target.flush()
                os.fsync(target.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return info(stored)

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        self.require_bucket(bucket)
        after = ""
        while True:
            page = self.index.objects_after(bucket, prefix, after, 1000)
            yield from (info(stored) for stored in page)
            if len(page) < 1000:
                return
            after = page[-1].key

    def delete_object(self, bucket: str, key: str) -> None:
        self.require_bucket(bucket)
        self.remove(bucket, [key])


def _exists(db: sqlite3.Connection, table: str, column: str, value: str) -> bool:
    sql = f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1"
    return db.execute(sql, (value,)).fetchone() is not None


def _deleted_blobs(db: sqlite3.Connection, table: str, column: str, value: str) -> list[str]:
    """Delete the rows of `table` where `column` is `value`; the blobs they named."""
    sql = f"DELETE FROM {table} WHERE {column} = ? RETURNING blob"
    return [row[0] for row in db.execute(sql, (value,))]


def info(stored: StoredObject) -> ObjectInfo:
    attributes = stored.attributes
    return ObjectInfo(
        key=stored.key,
        size=stored.size,
        etag=stored.etag,
        last_modified=stored.modified,
        content_type=attributes.content_type,
        metadata=attributes.metadata,
    )


def _copy_range(source: BinaryIO, target: BinaryIO, size: int) -> None:
    """Copy `size` bytes in the kernel where it can (copy_file_range), else through a buffer."""
    remaining = size
    try:
        while remaining > 0:
            copied = os.copy_file_range(source.fileno(), target.fileno(), min(remaining, 1 << 30))
            if copied == 0:
                break
            remaining -= copied
    except OSError:
        pass
    while remaining > 0:
        chunk = source.read(min(CHUNK, remaining))
        if not chunk:
            raise OSError(f"blob ended {remaining} bytes early")
        target.write(chunk)
        remaining -= len(chunk)
