"""The local object store's index: buckets, objects, multipart uploads and their parts, in SQLite.

Keys live only here, never in a file name, so no key can name a path: content files are called
by random ids. SQLite compares TEXT with memcmp over UTF-8, which is exactly S3's key order.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    created REAL NOT NULL,
    tags TEXT
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified REAL NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    initiated REAL NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, initiated);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified REAL NOT NULL,
    checksums TEXT NOT NULL,
    PRIMARY KEY (upload_id, number)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Attributes:
    """What an object carries besides its bytes (all optional, as S3 stores them)."""

    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    #: Content-Encoding, Cache-Control, Content-Disposition, Content-Language, Expires.
    headers: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    #: Algorithm (CRC32, SHA256, ...) → base64 value; for multipart objects "<value>-N".
    checksums: dict[str, str] = field(default_factory=dict)
    parts: int | None = None

    def to_json(self) -> str:
        value: dict[str, Any] = {"ContentType": self.content_type}
        for name in ("metadata", "headers", "tags", "checksums"):
            if getattr(self, name):
                value[name] = getattr(self, name)
        if self.parts is not None:
            value["parts"] = self.parts
        return json.dumps(value, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Attributes:
        value = json.loads(text)
        return cls(
            content_type=value["ContentType"],
            metadata=value.get("metadata", {}),
            headers=value.get("headers", {}),
            tags=value.get("tags", {}),
            checksums=value.get("checksums", {}),
            parts=value.get("parts"),
        )


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    region: str
    created: float
    tags: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class StoredObject:
    bucket: str
    key: str
    #: The id of its content file; for a multipart object its parts' ids, space-separated.
    blob: str
    size: int
    etag: str
    modified: float
    attributes: Attributes


@dataclass(frozen=True, slots=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    attributes: Attributes


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    blob: str
    size: int
    etag: str
    modified: float
    checksums: dict[str, str]


class Index:
    """One SQLite connection, serialised by a lock: every call is a short transaction."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- buckets ---------------------------------------------------------------------------

    def bucket(self, name: str) -> Bucket | None:
        rows = self.query("SELECT name, region, created, tags FROM buckets WHERE name = ?", (name,))
        return _bucket(rows[0]) if rows else None

    def buckets(self) -> list[Bucket]:
        rows = self.query("SELECT name, region, created, tags FROM buckets ORDER BY name")
        return [_bucket(row) for row in rows]

    # -- objects ---------------------------------------------------------------------------

    def object(self, bucket: str, key: str) -> StoredObject | None:
        rows = self.query(
            "SELECT key, blob, size, etag, modified, attributes FROM objects "
            "WHERE bucket = ? AND key = ?",
            (bucket, key),
        )
        return _object(bucket, rows[0]) if rows else None

    def objects_after(self, bucket: str, prefix: str, after: str, limit: int) -> list[StoredObject]:
        """Up to `limit` objects with `prefix`, keys greater than `after`, in key order."""
        rows = self.query(
            "SELECT key, blob, size, etag, modified, attributes FROM objects "
            "WHERE bucket = ? AND key >= ? AND key > ? AND key < ? ORDER BY key LIMIT ?",
            (bucket, prefix, after, _prefix_end(prefix), limit),
        )
        return [_object(bucket, row) for row in rows]

    def has_objects(self, bucket: str) -> bool:
        return bool(self.query("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (bucket,)))

    def blobs(self) -> set[str]:
        rows = self.query("SELECT blob FROM objects UNION ALL SELECT blob FROM parts")
        return {row[0] for row in rows}

    # -- multipart -------------------------------------------------------------------------

    def upload(self, upload_id: str) -> Upload | None:
        rows = self.query(
            "SELECT upload_id, bucket, key, initiated, attributes FROM uploads WHERE upload_id = ?",
            (upload_id,),
        )
        return _upload(rows[0]) if rows else None

    def uploads(self, bucket: str, prefix: str) -> list[Upload]:
        rows = self.query(
            "SELECT upload_id, bucket, key, initiated, attributes FROM uploads "
            "WHERE bucket = ? AND substr(key, 1, ?) = ? ORDER BY key, initiated",
            (bucket, len(prefix), prefix),
        )
        return [_upload(row) for row in rows]

    def parts(self, upload_id: str) -> list[Part]:
        rows = self.query(
            "SELECT number, blob, size, etag, modified, checksums FROM parts "
            "WHERE upload_id = ? ORDER BY number",
            (upload_id,),
        )
        return [Part(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]


def _prefix_end(prefix: str) -> str:
    """The least string greater than every string starting with `prefix`."""
    while prefix and ord(prefix[-1]) == 0x10FFFF:
        prefix = prefix[:-1]
    if not prefix:
        return "\U0010ffff" * 2048  # beyond any key (S3 keys are at most 1,024 bytes)
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates cannot be encoded; skip past them
        following = 0xE000
    return prefix[:-1] + chr(following)


def _bucket(row: tuple[Any, ...]) -> Bucket:
    return Bucket(row[0], row[1], row[2], json.loads(row[3]) if row[3] is not None else None)


def _object(bucket: str, row: tuple[Any, ...]) -> StoredObject:
    return StoredObject(
        bucket, row[0], row[1], row[2], row[3], row[4], Attributes.from_json(row[5])
    )


def _upload(row: tuple[Any, ...]) -> Upload:
    return Upload(row[0], row[1], row[2], row[3], Attributes.from_json(row[4]))
