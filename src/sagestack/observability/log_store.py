"""The log store: CloudWatch Logs' groups, streams and events in their own SQLite database.

One connection, guarded by a lock, serves the server's event loop and sagestack's own writers
(training jobs, endpoints) alike; every public write is one transaction. `append` is the internal
writer: it creates the group and stream on first use and lands a whole batch in one commit,
without the API's checks (those are the HTTP service's business).

Lookups that miss raise `RecordNotFound(LOG_GROUP)` or `RecordNotFound(LOG_STREAM)`, clashes
`RecordExists(...)`, naming the kind in AWS's words so a caller can say which one it was.
Event reads live in `log_reads.py`, row-level helpers in `log_rows.py`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sagestack.observability import log_reads
from sagestack.observability.log_records import (
    LOG_GROUP,
    LOG_STREAM,
    EventPage,
    LogEvent,
    LogGroup,
    LogStream,
    Position,
)
from sagestack.observability.log_rows import (
    STREAM_COLUMNS,
    group_id_of,
    insert_events,
    load_stream,
    stream_id_of,
    stream_record,
)
from sagestack.observability.log_schema import connect
from sagestack.store.base import RecordExists

_GROUP_COLUMNS = (
    "account, region, name, creation_time, retention_days, kms_key_id, log_group_class,"
    " deletion_protection, stored_bytes"
)
_UPSERT_TAG = (
    "INSERT INTO log_group_tags (group_id, key, value) VALUES (?, ?, ?)"
    " ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value"
)


def _group(row: Sequence[Any]) -> LogGroup:
    account, region, name, created, retention, kms, klass, protection, stored = row
    return LogGroup(account, region, name, created, retention, kms, klass, bool(protection), stored)


def _now_ms() -> int:
    return int(time.time() * 1000)


class LogStore:
    """CloudWatch Logs data in one SQLite file (WAL, synchronous=NORMAL)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._lock = threading.Lock()
        self._db = connect(os.fspath(path))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def reset(self) -> None:
        """Forget every group, stream, event and tag."""
        with self._transaction() as db:
            for table in ("log_events", "log_streams", "log_group_tags", "log_groups"):
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- log groups ------------------------------------------------------------------------

    def create_group(
        self,
        account: str,
        region: str,
        name: str,
        *,
        creation_time: int,
        tags: Mapping[str, str] | None = None,
        kms_key_id: str | None = None,
        log_group_class: str = "STANDARD",
        deletion_protection: bool = False,
    ) -> LogGroup:
        group = LogGroup(
            account,
            region,
            name,
            creation_time,
            None,
            kms_key_id,
            log_group_class,
            deletion_protection,
            0,
        )
        with self._transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO log_groups (account, region, name, creation_time, kms_key_id,"
                    " log_group_class, deletion_protection) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (account, region, name, creation_time, kms_key_id, log_group_class,
                     int(deletion_protection)),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise RecordExists(LOG_GROUP) from None
            group_id = cursor.lastrowid
            db.executemany(_UPSERT_TAG, [(group_id, k, v) for k, v in (tags or {}).items()])
        return group

    def get_group(self, account: str, region: str, name: str) -> LogGroup | None:
        with self._reading() as db:
            row = db.execute(
                f"SELECT {_GROUP_COLUMNS} FROM log_groups"
                " WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            ).fetchone()
        return None if row is None else _group(row)

    def list_groups(
        self,
        account: str,
        region: str,
        *,
        limit: int,
        prefix: str | None = None,
        contains: str | None = None,
        names: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        after: str | None = None,
    ) -> list[LogGroup]:
        """Groups in name order after `after`; `contains` is a case-sensitive substring."""
        where = ["account = ?", "region = ?"]
        params: list[Any] = [account, region]
        if prefix is not None:
            where.append("name >= ? AND name < ?")
            params += [prefix, prefix + "\U0010ffff"]
        if contains:
            where.append("instr(name, ?) > 0")
            params.append(contains)
        for column, values in (("name", names), ("log_group_class", classes)):
            if values is not None:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params += values
        if after is not None:
            where.append("name > ?")
            params.append(after)
        sql = f"SELECT {_GROUP_COLUMNS} FROM log_groups WHERE {' AND '.join(where)}"
        with self._reading() as db:
            rows = db.execute(f"{sql} ORDER BY name LIMIT ?", [*params, limit]).fetchall()
        return [_group(row) for row in rows]

    def delete_group(self, account: str, region: str, name: str) -> None:
        with self._transaction() as db:
            group_id = group_id_of(db, account, region, name)
            db.execute("DELETE FROM log_events WHERE group_id = ?", (group_id,))
            db.execute("DELETE FROM log_groups WHERE id = ?", (group_id,))

    def set_retention(self, account: str, region: str, name: str, days: int | None) -> None:
        """Set (None: remove) the retention; reads hide older events from then on."""
        self._update_group(account, region, name, "retention_days", days)

    def set_deletion_protection(self, account: str, region: str, name: str, enabled: bool) -> None:
        self._update_group(account, region, name, "deletion_protection", int(enabled))

    def _update_group(self, account: str, region: str, name: str, column: str, value: Any) -> None:
        with self._transaction() as db:
            group_id = group_id_of(db, account, region, name)
            db.execute(f"UPDATE log_groups SET {column} = ? WHERE id = ?", (value, group_id))

    def tags(self, account: str, region: str, name: str) -> dict[str, str]:
        with self._reading() as db:
            group_id = group_id_of(db, account, region, name)
            rows = db.execute(
                "SELECT key, value FROM log_group_tags WHERE group_id = ? ORDER BY key",
                (group_id,),
            ).fetchall()
        return dict(rows)

    def tag_group(self, account: str, region: str, name: str, tags: Mapping[str, str]) -> None:
        with self._transaction() as db:
            group_id = group_id_of(db, account, region, name)
            db.executemany(_UPSERT_TAG, [(group_id, k, v) for k, v in tags.items()])

    def untag_group(self, account: str, region: str, name: str, keys: Sequence[str]) -> None:
        with self._transaction() as db:
            group_id = group_id_of(db, account, region, name)
            db.executemany(
                "DELETE FROM log_group_tags WHERE group_id = ? AND key = ?",
                [(group_id, key) for key in keys],
            )

    # -- log streams -----------------------------------------------------------------------

    def create_stream(
        self, account: str, region: str, group: str, name: str, *, creation_time: int
    ) -> LogStream:
        with self._transaction() as db:
            group_id = group_id_of(db, account, region, group)
            try:
                db.execute(
                    "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)",
                    (group_id, name, creation_time),
                )
            except sqlite3.IntegrityError:
                raise RecordExists(LOG_STREAM) from None
        return LogStream(group, name, creation_time, None, None, None, 0)

    def get_stream(self, account: str, region: str, group: str, name: str) -> LogStream:
        with self._reading() as db:
            group_id = group_id_of(db, account, region, group)
            return load_stream(db, group_id, group, name)

    def delete_stream(self, account: str, region: str, group: str, name: str) -> None:
        with self._transaction() as db:
            stream_id = stream_id_of(db, group_id_of(db, account, region, group), name)
            db.execute("DELETE FROM log_events WHERE stream_id = ?", (stream_id,))
            db.execute("DELETE FROM log_streams WHERE id = ?", (stream_id,))

    def list_streams(
        self,
        account: str,
        region: str,
        group: str,
        *,
        limit: int,
        prefix: str | None = None,
        by_last_event: bool = False,
        descending: bool = False,
        after: tuple[str | int, str] | None = None,
    ) -> list[LogStream]:
        """Streams ordered by name, or by last event time then name; keyset paging on
        `after` = (sort key, name) of the last stream already returned."""
        with self._reading() as db:
            group_id = group_id_of(db, account, region, group)
            rows = log_reads.stream_rows(
                db,
                group_id,
                columns=STREAM_COLUMNS,
                limit=limit,
                prefix=prefix,
                by_last_event=by_last_event,
                descending=descending,
                after=after,
            )
        return [stream_record(group, row) for row in rows]

    # -- log events ------------------------------------------------------------------------

    def put_events(
        self,
        account: str,
        region: str,
        group: str,
        stream: str,
        events: Sequence[tuple[int, str]],
        *,
        ingestion_time: int,
    ) -> LogStream:
        """Store a batch in an existing stream; the stream as it is afterwards."""
        with self._transaction() as db:
            group_id = group_id_of(db, account, region, group)
            stream_id = stream_id_of(db, group_id, stream)
            insert_events(db, group_id, stream_id, events, ingestion_time)
            return load_stream(db, group_id, group, stream)

    def append(
        self,
        group: str,
        stream: str,
        events: Sequence[tuple[int, str]],
        *,
        account: str,
        region: str,
        ingestion_time: int | None = None,
    ) -> None:
        """sagestack's own writer: the batch lands in one transaction, the group and stream
        are created on first use, and no API limit applies (any order, any age, any size)."""
        now = _now_ms() if ingestion_time is None else ingestion_time
        with self._transaction() as db:
            db.execute(
                "INSERT INTO log_groups (account, region, name, creation_time, log_group_class)"
                " VALUES (?, ?, ?, ?, 'STANDARD') ON CONFLICT DO NOTHING",
                (account, region, group, now),
            )
            group_id = group_id_of(db, account, region, group)
            db.execute(
                "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (group_id, stream, now),
            )
            insert_events(db, group_id, stream_id_of(db, group_id, stream), events, now)

    def read_stream(
        self,
        account: str,
        region: str,
        group: str,
        stream: str,
        *,
        limit: int,
        forward: bool,
        position: Position | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> list[LogEvent]:
        """Up to `limit` events of one stream in [start, end), in timestamp order.

        Forward reads take the first events at or after `position` (None: the window's start);
        backward reads the last ones before it (None: the window's end).
        """
        with self._reading() as db:
            stream_id = stream_id_of(db, group_id_of(db, account, region, group), stream)
            return log_reads.stream_events(
                db, stream_id, stream, limit=limit, forward=forward, position=position,
                start=start, end=end,
            )  # fmt: skip

    def filter_events(
        self,
        account: str,
        region: str,
        group: str,
        *,
        limit: int,
        forward: bool = True,
        pattern: str | None = None,
        stream_names: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        position: Position | None = None,
        start: int | None = None,
        end: int | None = None,
        max_scanned: int = 100_000,
    ) -> EventPage:
        """Events of a whole group in [start, end) matching a filter pattern, interleaved in
        timestamp order. A page stops at `limit` matches or after `max_scanned` events, and
        says where to go on; FilterPatternError (a ValueError) for a bad pattern."""
        with self._reading() as db:
            group_id = group_id_of(db, account, region, group)
            return log_reads.group_events(
                db, group_id, limit=limit, forward=forward, pattern=pattern,
                stream_names=stream_names, stream_prefix=stream_prefix, position=position,
                start=start, end=end, max_scanned=max_scanned,
            )  # fmt: skip
