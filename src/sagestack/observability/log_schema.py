"""The log store's SQLite schema, kept apart from the resource store's: logs are high-volume,
append-mostly data with their own file, so a busy training job never contends with the control
plane's transactions.

Events carry their group id beside their stream id so both GetLogEvents (one stream) and
FilterLogEvents (a whole group, in timestamp order) walk an index instead of sorting.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE log_groups (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    retention_days INTEGER,
    kms_key_id TEXT,
    log_group_class TEXT NOT NULL,
    deletion_protection INTEGER NOT NULL DEFAULT 0,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, region, name)
);
CREATE TABLE log_group_tags (
    group_id INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (group_id, key)
) WITHOUT ROWID;
CREATE TABLE log_streams (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    first_event INTEGER,
    last_event INTEGER,
    last_ingestion INTEGER,
    batches INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
);
CREATE INDEX log_streams_by_last_event
    ON log_streams (group_id, COALESCE(last_event, -1), name);
CREATE TABLE log_events (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL,
    stream_id INTEGER NOT NULL REFERENCES log_streams (id) ON DELETE CASCADE,
    timestamp INTEGER NOT NULL,
    ingestion_time INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX log_events_by_stream ON log_events (stream_id, timestamp, id);
CREATE INDEX log_events_by_group ON log_events (group_id, timestamp, id);
"""


def connect(path: str) -> sqlite3.Connection:
    """Open the log database (WAL, synchronous=NORMAL) and create its schema if it is new."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        version: int = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"The log database schema (version {version}) is newer than this sagestack "
                f"knows ({SCHEMA_VERSION}); upgrade sagestack"
            )
        if version < SCHEMA_VERSION:
            db.executescript(
                f"BEGIN IMMEDIATE;\n{_SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
            )
    except BaseException:
        db.close()
        raise
    return db
