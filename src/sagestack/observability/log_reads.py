"""The log store's read queries, each shaped to walk one index in order.

Keys are `(timestamp, id)`; a position is compared as a row value so a page boundary can fall
between two events of the same millisecond. Backward reads walk the index descending and turn the
result around, so every caller sees events in timestamp order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sagestack.observability.filter_patterns import compile_pattern
from sagestack.observability.log_records import EventPage, LogEvent, Position

#: Sorts after every other character, so [prefix, prefix + _TOP) holds the names with `prefix`.
_TOP = "\U0010ffff"
_LAST_EVENT = "COALESCE(last_event, -1)"


def _window(
    column: str, start: int | None, end: int | None, where: list[str], params: list[Any]
) -> None:
    if start is not None:
        where.append(f"{column} >= ?")
        params.append(start)
    if end is not None:
        where.append(f"{column} < ?")
        params.append(end)


def stream_rows(
    db: sqlite3.Connection,
    group_id: int,
    *,
    columns: str,
    limit: int,
    prefix: str | None,
    by_last_event: bool,
    descending: bool,
    after: tuple[str | int, str] | None,
) -> list[Any]:
    where = ["group_id = ?"]
    params: list[Any] = [group_id]
    if prefix is not None:
        where.append("name >= ? AND name < ?")
        params += [prefix, prefix + _TOP]
    beyond = "<" if descending else ">"
    if after is not None and by_last_event:
        where.append(f"({_LAST_EVENT}, name) {beyond} (?, ?)")
        params += after
    elif after is not None:
        where.append(f"name {beyond} ?")
        params.append(after[1])
    direction = "DESC" if descending else "ASC"
    order = f"{_LAST_EVENT} {direction}, name {direction}" if by_last_event else f"name {direction}"
    sql = f"SELECT {columns} FROM log_streams WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    return db.execute(sql, [*params, limit]).fetchall()


def stream_events(
    db: sqlite3.Connection,
    stream_id: int,
    stream: str,
    *,
    limit: int,
    forward: bool,
    position: Position | None,
    start: int | None,
    end: int | None,
) -> list[LogEvent]:
    where = ["stream_id = ?"]
    params: list[Any] = [stream_id]
    _window("timestamp", start, end, where, params)
    if position is not None:
        where.append(f"(timestamp, id) {'>=' if forward else '<'} (?, ?)")
        params += position
    direction = "ASC" if forward else "DESC"
    rows = db.execute(
        "SELECT id, timestamp, ingestion_time, message FROM log_events"
        f" WHERE {' AND '.join(where)} ORDER BY timestamp {direction}, id {direction} LIMIT ?",
        [*params, limit],
    ).fetchall()
    if not forward:
        rows.reverse()
    return [LogEvent(stream, ts, ingested, message, id_) for id_, ts, ingested, message in rows]


def group_events(
    db: sqlite3.Connection,
    group_id: int,
    *,
    limit: int,
    forward: bool,
    pattern: str | None,
    stream_names: Sequence[str] | None,
    stream_prefix: str | None,
    position: Position | None,
    start: int | None,
    end: int | None,
    max_scanned: int,
) -> EventPage:
    matches = compile_pattern(pattern)  # before any I/O: a bad pattern costs nothing
    where = ["e.group_id = ?"]
    params: list[Any] = [group_id]
    _window("e.timestamp", start, end, where, params)
    if position is not None:
        where.append(f"(e.timestamp, e.id) {'>=' if forward else '<'} (?, ?)")
        params += position
    if stream_names is not None or stream_prefix is not None:
        # Named streams: walk them by (group_id, name), then their events by stream.
        where.append("s.group_id = ?")
        params.append(group_id)
    if stream_names is not None:
        where.append(f"s.name IN ({', '.join('?' * len(stream_names))})")
        params += stream_names
    if stream_prefix is not None:
        where.append("s.name >= ? AND s.name < ?")
        params += [stream_prefix, stream_prefix + _TOP]
    direction = "ASC" if forward else "DESC"
    cursor = db.execute(
        "SELECT e.id, e.timestamp, e.ingestion_time, e.message, s.name"
        " FROM log_events e JOIN log_streams s ON s.id = e.stream_id"
        f" WHERE {' AND '.join(where)}"
        f" ORDER BY e.timestamp {direction}, e.id {direction} LIMIT ?",
        [*params, max_scanned + 1],
    )
    events: list[LogEvent] = []
    scanned = 0
    last: LogEvent | None = None
    try:
        for id_, ts, ingested, message, stream in cursor:
            if scanned == max_scanned or len(events) == limit:
                # Another event lies beyond this page: go on just past the last one read.
                assert last is not None
                return EventPage(events, last.next_position if forward else last.position)
            scanned += 1
            last = LogEvent(stream, ts, ingested, message, id_)
            if matches(message):
                events.append(last)
    finally:
        cursor.close()
    return EventPage(events, None)
