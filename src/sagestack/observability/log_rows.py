"""Row-level pieces the log store's reads and writes share: id lookups that raise the store's
not-found errors, the stream row mapping, and the batch insert that keeps stream and group
statistics in step with the events."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sagestack.observability.log_records import LOG_GROUP, LOG_STREAM, LogStream
from sagestack.store.base import RecordNotFound

STREAM_COLUMNS = "name, creation_time, first_event, last_event, last_ingestion, batches"
INSERT_EVENT = (
    "INSERT INTO log_events (group_id, stream_id, timestamp, ingestion_time, message)"
    " VALUES (?, ?, ?, ?, ?)"
)


def stream_record(group: str, row: Sequence[Any]) -> LogStream:
    return LogStream(group, *row)


def group_id_of(db: sqlite3.Connection, account: str, region: str, name: str) -> int:
    row = db.execute(
        "SELECT id FROM log_groups WHERE account = ? AND region = ? AND name = ?",
        (account, region, name),
    ).fetchone()
    if row is None:
        raise RecordNotFound(LOG_GROUP)
    return int(row[0])


def stream_id_of(db: sqlite3.Connection, group_id: int, name: str) -> int:
    row = db.execute(
        "SELECT id FROM log_streams WHERE group_id = ? AND name = ?", (group_id, name)
    ).fetchone()
    if row is None:
        raise RecordNotFound(LOG_STREAM)
    return int(row[0])


def load_stream(db: sqlite3.Connection, group_id: int, group: str, name: str) -> LogStream:
    row = db.execute(
        f"SELECT {STREAM_COLUMNS} FROM log_streams WHERE group_id = ? AND name = ?",
        (group_id, name),
    ).fetchone()
    if row is None:
        raise RecordNotFound(LOG_STREAM)
    return stream_record(group, row)


def insert_events(
    db: sqlite3.Connection,
    group_id: int,
    stream_id: int,
    events: Sequence[tuple[int, str]],
    ingestion_time: int,
) -> None:
    if not events:
        return
    db.executemany(
        INSERT_EVENT,
        [
            (group_id, stream_id, timestamp, ingestion_time, message)
            for timestamp, message in events
        ],
    )
    timestamps = [timestamp for timestamp, _ in events]
    db.execute(
        "UPDATE log_streams SET first_event = MIN(COALESCE(first_event, ?1), ?1),"
        " last_event = MAX(COALESCE(last_event, ?2), ?2), last_ingestion = ?3,"
        " batches = batches + 1 WHERE id = ?4",
        (min(timestamps), max(timestamps), ingestion_time, stream_id),
    )
    size = sum(len(message.encode("utf-8")) for _, message in events)
    db.execute(
        "UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?", (size, group_id)
    )
