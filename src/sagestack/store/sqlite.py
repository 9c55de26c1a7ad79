"""The embedded resource store: one SQLite database file in WAL mode.

A single connection, guarded by a lock, serves the asyncio thread and worker threads alike. Every
public write is one transaction, so a record, its tags and its event land together or not at all.
The schema comes from the numbered SQL files in `migrations/`, applied in order when the store
opens and tracked in `PRAGMA user_version`.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any

from sagestack.resources.records import Event, ResourceRecord
from sagestack.store.base import (
    ListQuery,
    Page,
    RecordChanged,
    RecordExists,
    RecordNotFound,
)
from sagestack.store.documents import JsonDocument
from sagestack.store.keyset import check_query, cursor_of

_MIGRATION_FILE = re.compile(r"(\d{4})_\w+\.sql")
_COLUMNS = (
    "kind, account, region, name, arn, status, spec, state,"
    " creation_time, last_modified_time, generation"
)
#: The SQL expression each sort column orders by; each one leads an index after the scope.
_SORT_EXPRESSIONS = {
    "Name": "name_key",
    "CreationTime": "creation_time",
    "LastModifiedTime": "last_modified_time",
    "Status": "status_key",
}
_TIME_FILTERS = (
    ("created_after", "creation_time >"),
    ("created_before", "creation_time <"),
    ("modified_after", "last_modified_time >"),
    ("modified_before", "last_modified_time <"),
)
_UPSERT_TAG = (
    "INSERT INTO tags (arn, key, value) VALUES (?, ?, ?)"
    " ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value"
)
_INSERT_EVENT = (
    "INSERT INTO events (arn, kind, account, region, type, time, status, previous_status, detail)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _dumps(value: Any) -> str:
    if isinstance(value, JsonDocument):
        return value.to_json()
    return json.dumps(value, separators=(",", ":"))


def _record(row: Sequence[Any]) -> ResourceRecord:
    kind, account, region, name, arn, status, spec, state, created, modified, generation = row
    return ResourceRecord(
        kind=kind,
        account=account,
        region=region,
        name=name,
        arn=arn,
        spec=JsonDocument(spec),
        creation_time=created,
        last_modified_time=modified,
        status=status,
        state=JsonDocument(state),
        generation=generation,
    )


def _event_row(event: Event) -> tuple[Any, ...]:
    return (
        event.arn,
        event.kind,
        event.account,
        event.region,
        event.type,
        event.time,
        event.status,
        event.previous_status,
        _dumps(event.detail),
    )


def migrate(connection: sqlite3.Connection) -> int:
    """Apply the migrations newer than the database's version, each in its own transaction.

    Returns the resulting version. Safe when several processes open the database at once: a
    migration that loses the race fails, rolls back, and is found applied on the re-check.
    """
    folder = resources.files("sagestack.store").joinpath("migrations")
    scripts = sorted(
        (int(match[1]), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if (match := _MIGRATION_FILE.fullmatch(entry.name))
    )
    if [number for number, _ in scripts] != list(range(1, len(scripts) + 1)):
        raise RuntimeError("Store migrations must be numbered 0001, 0002, ... without gaps")
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > len(scripts):
        raise RuntimeError(
            f"The database schema (version {version}) is newer than this sagestack knows"
            f" ({len(scripts)}); upgrade sagestack"
        )
    for number, script in scripts[version:]:
        try:
            connection.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
        except sqlite3.Error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if connection.execute("PRAGMA user_version").fetchone()[0] < number:
                raise
    return len(scripts)


class SqliteResourceStore:
    """A `ResourceStore` in one SQLite database file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, cached_statements=512
        )
        self._db.execute("PRAGMA busy_timeout = 10000")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        try:
            migrate(self._db)
        except BaseException:
            self._db.close()
            raise

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

    def insert(
        self,
        record: ResourceRecord,
        *,
        tags: Sequence[tuple[str, str]] = (),
        event: Event | None = None,
    ) -> None:
        row = (
            record.kind,
            record.account,
            record.region,
            record.name,
            record.name.lower(),
            record.arn,
            record.status,
            _dumps(record.spec),
            _dumps(record.state),
            record.creation_time,
            record.last_modified_time,
            record.generation,
        )
        event_row = None if event is None else _event_row(event)
        with self._transaction() as db:
            try:
                db.execute(
                    "INSERT INTO resources (kind, account, region, name, name_key, arn, status,"
                    " spec, state, creation_time, last_modified_time, generation)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            except sqlite3.IntegrityError:
                raise RecordExists(record.arn) from None
            if tags:
                db.executemany(_UPSERT_TAG, [(record.arn, key, value) for key, value in tags])
            if event_row is not None:
                db.execute(_INSERT_EVENT, event_row)

    def get(self, kind: str, account: str, region: str, name: str) -> ResourceRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM resources"
                " WHERE kind = ? AND account = ? AND region = ? AND name_key = ?",
                (kind, account, region, name.lower()),
            ).fetchone()
        return None if row is None else _record(row)

    def get_by_arn(self, arn: str) -> ResourceRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM resources WHERE arn = ?", (arn,)
            ).fetchone()
        return None if row is None else _record(row)

    def update(
        self, record: ResourceRecord, *, expected_generation: int, event: Event | None = None
    ) -> ResourceRecord:
        key = (record.kind, record.account, record.region, record.name.lower())
        values = (
            record.status,
            _dumps(record.spec),
            _dumps(record.state),
            record.last_modified_time,
        )
        event_row = None if event is None else _event_row(event)
        with self._transaction() as db:
            row = db.execute(
                "UPDATE resources SET status = ?, spec = ?, state = ?, last_modified_time = ?,"
                " generation = generation + 1"
                " WHERE kind = ? AND account = ? AND region = ? AND name_key = ?"
                " AND generation = ?"
                f" RETURNING {_COLUMNS}",
                (*values, *key, expected_generation),
            ).fetchone()
            if row is None:
                exists = db.execute(
                    "SELECT 1 FROM resources"
                    " WHERE kind = ? AND account = ? AND region = ? AND name_key = ?",
                    key,
                ).fetchone()
                raise (RecordChanged if exists else RecordNotFound)(record.arn)
            if event_row is not None:
                db.execute(_INSERT_EVENT, event_row)
        return _record(row)

    def delete(
        self, kind: str, account: str, region: str, name: str, *, event: Event | None = None
    ) -> ResourceRecord | None:
        event_row = None if event is None else _event_row(event)
        with self._transaction() as db:
            row = db.execute(
                "DELETE FROM resources"
                " WHERE kind = ? AND account = ? AND region = ? AND name_key = ?"
                f" RETURNING {_COLUMNS}",
                (kind, account, region, name.lower()),
            ).fetchone()
            if row is not None and event_row is not None:
                db.execute(_INSERT_EVENT, event_row)
        return None if row is None else _record(row)

    def list(self, kind: str, account: str, region: str, query: ListQuery) -> Page:
        """One keyset page. Name sorts by the lower-cased name, Status puts no status first."""
        check_query(query)
        sort = _SORT_EXPRESSIONS[query.sort_by]
        where = ["kind = ? AND account = ? AND region = ?"]
        params: list[Any] = [kind, account, region]
        if query.name_contains:
            where.append("instr(name_key, ?) > 0")
            params.append(query.name_contains.lower())
        if query.status_equals is not None:
            where.append("status = ?")
            params.append(query.status_equals)
        for field, condition in _TIME_FILTERS:
            value = getattr(query, field)
            if value is not None:
                where.append(f"{condition} ?")
                params.append(value)
        direction, beyond = ("ASC", ">") if query.ascending else ("DESC", "<")
        order = f"{sort} {direction}"
        if query.sort_by != "Name":
            order += f", name_key {direction}"
        if query.after is not None:
            if query.sort_by == "Name":
                where.append(f"name_key {beyond} ?")
                params.append(query.after[1])
            else:
                where.append(f"({sort}, name_key) {beyond} (?, ?)")
                params.extend(query.after)
        params.append(query.limit + 1)
        sql = (
            f"SELECT {_COLUMNS} FROM resources WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        records = [_record(row) for row in rows[: query.limit]]
        if len(rows) <= query.limit:
            return Page(records, None)
        return Page(records, cursor_of(records[-1], query.sort_by))

    def events(
        self, *, after_id: int = 0, arn: str | None = None, limit: int = 1000
    ) -> builtins.list[Event]:
        sql = (
            "SELECT arn, kind, account, region, type, time, status, previous_status, detail, id"
            " FROM events WHERE id > ?"
        )
        params: tuple[Any, ...] = (after_id, limit)
        if arn is not None:
            sql += " AND arn = ?"
            params = (after_id, arn, limit)
        with self._lock:
            rows = self._db.execute(f"{sql} ORDER BY id LIMIT ?", params).fetchall()
        return [
            Event(a, k, acc, reg, typ, t, st, prev, json.loads(detail), id_)
            for a, k, acc, reg, typ, t, st, prev, detail, id_ in rows
        ]

    def tags(self, arn: str) -> builtins.list[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM tags WHERE arn = ? ORDER BY seq", (arn,)
            ).fetchall()
        return [(key, value) for key, value in rows]

    def put_tags(self, arn: str, tags: Sequence[tuple[str, str]]) -> None:
        """RecordNotFound if no record has this ARN."""
        with self._transaction() as db:
            try:
                db.executemany(_UPSERT_TAG, [(arn, key, value) for key, value in tags])
            except sqlite3.IntegrityError:
                raise RecordNotFound(arn) from None

    def remove_tags(self, arn: str, keys: Sequence[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM tags WHERE arn = ? AND key = ?", [(arn, k) for k in keys])

    def reset(self) -> None:
        """Remove everything; event ids keep increasing so event readers never go back."""
        with self._transaction() as db:
            db.execute("DELETE FROM tags")
            db.execute("DELETE FROM resources")
            db.execute("DELETE FROM events")

    def close(self) -> None:
        with self._lock:
            self._db.close()
