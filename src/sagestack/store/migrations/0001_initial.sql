-- Resources, their tags and their events.

CREATE TABLE resources (
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,  -- lower(name): names are unique without regard to case
    arn TEXT NOT NULL UNIQUE,
    status TEXT,
    spec TEXT NOT NULL,  -- JSON
    state TEXT NOT NULL,  -- JSON
    creation_time REAL NOT NULL,
    last_modified_time REAL NOT NULL,
    generation INTEGER NOT NULL,
    -- What the list engine sorts by under Status: a record without a status sorts first.
    status_key TEXT NOT NULL GENERATED ALWAYS AS (ifnull(status, '')) VIRTUAL,
    PRIMARY KEY (kind, account, region, name_key)
);

-- One index per sort column of the list engine; the primary key serves sorting by Name.
CREATE INDEX resources_by_creation_time
    ON resources (kind, account, region, creation_time, name_key);
CREATE INDEX resources_by_last_modified_time
    ON resources (kind, account, region, last_modified_time, name_key);
CREATE INDEX resources_by_status
    ON resources (kind, account, region, status_key, name_key);

-- seq (the rowid) keeps a key's position when its value is overwritten.
CREATE TABLE tags (
    seq INTEGER PRIMARY KEY,
    arn TEXT NOT NULL REFERENCES resources (arn) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (arn, key)
);

-- Events outlive their resources: they are the audit trail.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    type TEXT NOT NULL,
    time REAL NOT NULL,
    status TEXT,
    previous_status TEXT,
    detail TEXT NOT NULL  -- JSON
);
CREATE INDEX events_by_arn ON events (arn, id);
