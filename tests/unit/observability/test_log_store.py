"""The SQLite log store on a real database file."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from sagestack.observability.filter_patterns import FilterPatternError
from sagestack.observability.log_records import LOG_GROUP, LOG_STREAM, LogEvent
from sagestack.observability.log_schema import SCHEMA_VERSION
from sagestack.observability.log_store import LogStore
from sagestack.store.base import RecordExists, RecordNotFound

ACCOUNT, REGION = "000000000000", "us-east-1"
SCOPE = {"account": ACCOUNT, "region": REGION}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LogStore]:
    opened = LogStore(tmp_path / "logs.db")
    yield opened
    opened.close()


def append(store: LogStore, group: str, stream: str, events: list[tuple[int, str]]) -> None:
    store.append(group, stream, events, ingestion_time=5_000, **SCOPE)


def messages(events: Sequence[LogEvent]) -> list[str]:
    return [event.message for event in events]


def test_database_is_wal_with_the_current_schema(tmp_path: Path) -> None:
    LogStore(tmp_path / "logs.db").close()
    db = sqlite3.connect(tmp_path / "logs.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        LogStore(tmp_path / "logs.db")


def test_append_creates_group_and_stream_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    store = LogStore(path)
    events = [(1_000 + index, f"line {index}") for index in range(20_000)]
    store.append("/aws/sagemaker/TrainingJobs", "job/algo-1-1", events, **SCOPE)
    store.close()

    reopened = LogStore(path)
    group = reopened.get_group(ACCOUNT, REGION, "/aws/sagemaker/TrainingJobs")
    assert group is not None
    assert group.stored_bytes == sum(len(message) for _, message in events)
    stream = reopened.get_stream(ACCOUNT, REGION, group.name, "job/algo-1-1")
    assert (stream.first_event, stream.last_event, stream.batches) == (1_000, 20_999, 1)
    read = reopened.read_stream(ACCOUNT, REGION, group.name, stream.name, limit=3, forward=False)
    assert messages(read) == ["line 19997", "line 19998", "line 19999"]
    reopened.close()


def test_append_into_existing_stream_keeps_the_group_as_it_was(store: LogStore) -> None:
    store.create_group(ACCOUNT, REGION, "g", creation_time=1, tags={"a": "1"})
    store.set_retention(ACCOUNT, REGION, "g", 7)
    append(store, "g", "s", [(20, "b")])
    append(store, "g", "s", [(10, "a")])  # internal writers may go back in time
    group = store.get_group(ACCOUNT, REGION, "g")
    assert group is not None
    assert (group.creation_time, group.retention_days) == (1, 7)
    assert store.tags(ACCOUNT, REGION, "g") == {"a": "1"}
    stream = store.get_stream(ACCOUNT, REGION, "g", "s")
    assert (stream.first_event, stream.last_event, stream.batches) == (10, 20, 2)
    read = store.read_stream(ACCOUNT, REGION, "g", "s", limit=10, forward=True)
    assert messages(read) == ["a", "b"]


def test_groups_are_scoped_by_account_and_region(store: LogStore) -> None:
    store.create_group(ACCOUNT, REGION, "g", creation_time=1)
    store.create_group("111111111111", REGION, "g", creation_time=1)
    store.create_group(ACCOUNT, "eu-west-1", "g", creation_time=1)
    with pytest.raises(RecordExists) as excinfo:
        store.create_group(ACCOUNT, REGION, "g", creation_time=2)
    assert str(excinfo.value) == LOG_GROUP
    assert [g.name for g in store.list_groups(ACCOUNT, REGION, limit=10)] == ["g"]


def test_list_groups_filters_and_pages(store: LogStore) -> None:
    for name in ("/b", "/a/x", "/a/y", "/c/Data"):
        store.create_group(ACCOUNT, REGION, name, creation_time=1, log_group_class="STANDARD")
    store.create_group(ACCOUNT, REGION, "/d/Data", creation_time=1, log_group_class="DELIVERY")

    def names(**filters: Any) -> list[str]:
        return [g.name for g in store.list_groups(ACCOUNT, REGION, limit=10, **filters)]

    assert names() == ["/a/x", "/a/y", "/b", "/c/Data", "/d/Data"]
    assert names(prefix="/a/") == ["/a/x", "/a/y"]
    assert names(contains="Data") == ["/c/Data", "/d/Data"]
    assert names(contains="data") == []
    assert names(names=["/b", "/zzz"]) == ["/b"]
    assert names(classes=["DELIVERY"]) == ["/d/Data"]
    assert names(after="/a/y") == ["/b", "/c/Data", "/d/Data"]


def test_streams_create_clash_and_missing_group(store: LogStore) -> None:
    with pytest.raises(RecordNotFound) as missing:
        store.create_stream(ACCOUNT, REGION, "g", "s", creation_time=1)
    assert str(missing.value) == LOG_GROUP
    store.create_group(ACCOUNT, REGION, "g", creation_time=1)
    store.create_stream(ACCOUNT, REGION, "g", "s", creation_time=1)
    with pytest.raises(RecordExists) as clash:
        store.create_stream(ACCOUNT, REGION, "g", "s", creation_time=1)
    assert str(clash.value) == LOG_STREAM
    with pytest.raises(RecordNotFound) as gone:
        store.put_events(ACCOUNT, REGION, "g", "t", [(1, "m")], ingestion_time=1)
    assert str(gone.value) == LOG_STREAM


def test_list_streams_by_name_and_last_event_with_keyset(store: LogStore) -> None:
    append(store, "g", "b", [(300, "x")])
    append(store, "g", "a", [(100, "x")])
    append(store, "g", "c", [(100, "x")])
    store.create_stream(ACCOUNT, REGION, "g", "d", creation_time=1)  # no events yet

    def names(**options: Any) -> list[str]:
        listed = store.list_streams(ACCOUNT, REGION, "g", limit=10, **options)
        return [s.name for s in listed]

    assert names() == ["a", "b", "c", "d"]
    assert names(prefix="b") == ["b"]
    assert names(after=("b", "b")) == ["c", "d"]
    assert names(by_last_event=True) == ["d", "a", "c", "b"]
    assert names(by_last_event=True, after=(100, "a")) == ["c", "b"]
    assert names(by_last_event=True, descending=True) == ["b", "c", "a", "d"]
    assert names(by_last_event=True, descending=True, after=(100, "c")) == ["a", "d"]


def test_read_stream_positions_split_equal_timestamps(store: LogStore) -> None:
    append(store, "g", "s", [(10, "a"), (10, "b"), (10, "c"), (20, "d")])
    first = store.read_stream(ACCOUNT, REGION, "g", "s", limit=2, forward=True)
    assert messages(first) == ["a", "b"]
    rest = store.read_stream(
        ACCOUNT, REGION, "g", "s", limit=10, forward=True, position=first[-1].next_position
    )
    assert messages(rest) == ["c", "d"]
    before = store.read_stream(
        ACCOUNT, REGION, "g", "s", limit=10, forward=False, position=rest[0].position
    )
    assert messages(before) == ["a", "b"]
    window = store.read_stream(ACCOUNT, REGION, "g", "s", limit=10, forward=False, start=11, end=21)
    assert messages(window) == ["d"]


def test_filter_events_interleaves_matches_and_pages(store: LogStore) -> None:
    append(store, "g", "x", [(1, "ERROR x1"), (3, "INFO x3"), (5, "ERROR x5")])
    append(store, "g", "y", [(2, "ERROR y2"), (4, "ERROR y4")])
    append(store, "g", "other", [(6, "ERROR o6")])
    page = store.filter_events(ACCOUNT, REGION, "g", limit=10, pattern="ERROR")
    assert messages(page.events) == ["ERROR x1", "ERROR y2", "ERROR y4", "ERROR x5", "ERROR o6"]
    assert page.next_position is None
    by_prefix = store.filter_events(ACCOUNT, REGION, "g", limit=10, stream_prefix="x")
    assert [e.stream for e in by_prefix.events] == ["x", "x", "x"]
    by_name = store.filter_events(ACCOUNT, REGION, "g", limit=10, stream_names=["y", "other"])
    assert messages(by_name.events) == ["ERROR y2", "ERROR y4", "ERROR o6"]

    # A scan budget ends a page early, possibly empty, and says where to go on.
    short = store.filter_events(ACCOUNT, REGION, "g", limit=10, pattern="INFO", max_scanned=2)
    assert (short.events, short.next_position is not None) == ([], True)
    on = store.filter_events(
        ACCOUNT, REGION, "g", limit=10, pattern="INFO", position=short.next_position
    )
    assert messages(on.events) == ["INFO x3"]
    backward = store.filter_events(ACCOUNT, REGION, "g", limit=2, forward=False, end=6)
    assert messages(backward.events) == ["ERROR x5", "ERROR y4"]
    assert backward.next_position is not None
    older = store.filter_events(
        ACCOUNT, REGION, "g", limit=10, forward=False, end=6, position=backward.next_position
    )
    assert messages(older.events) == ["INFO x3", "ERROR y2", "ERROR x1"]
    with pytest.raises(FilterPatternError):
        store.filter_events(ACCOUNT, REGION, "g", limit=1, pattern="{ $.a = 1 }")


def test_delete_stream_and_group_take_their_events(store: LogStore) -> None:
    append(store, "g", "s", [(1, "a")])
    append(store, "g", "t", [(2, "b")])
    store.delete_stream(ACCOUNT, REGION, "g", "s")
    assert messages(store.filter_events(ACCOUNT, REGION, "g", limit=10).events) == ["b"]
    store.delete_group(ACCOUNT, REGION, "g")
    with pytest.raises(RecordNotFound):
        store.delete_group(ACCOUNT, REGION, "g")
    append(store, "g", "t", [(3, "c")])
    assert messages(store.filter_events(ACCOUNT, REGION, "g", limit=10).events) == ["c"]


def test_tags_upsert_and_remove(store: LogStore) -> None:
    store.create_group(ACCOUNT, REGION, "g", creation_time=1, tags={"a": "1", "b": "2"})
    store.tag_group(ACCOUNT, REGION, "g", {"a": "one", "c": "3"})
    store.untag_group(ACCOUNT, REGION, "g", ["b", "absent"])
    assert store.tags(ACCOUNT, REGION, "g") == {"a": "one", "c": "3"}
    with pytest.raises(RecordNotFound):
        store.tags(ACCOUNT, REGION, "absent")


def test_reset_forgets_everything(store: LogStore) -> None:
    store.create_group(ACCOUNT, REGION, "tagged", creation_time=1, tags={"a": "1"})
    append(store, "g", "s", [(1, "a")])
    store.reset()
    assert store.list_groups(ACCOUNT, REGION, limit=10) == []
    append(store, "g", "s", [(2, "b")])
    assert messages(store.read_stream(ACCOUNT, REGION, "g", "s", limit=10, forward=True)) == ["b"]


def test_concurrent_appends_all_land(store: LogStore) -> None:
    def write(stream: str) -> None:
        for batch in range(20):
            append(store, "g", stream, [(batch * 10 + i, f"{stream}{batch}") for i in range(10)])

    threads = [threading.Thread(target=write, args=(f"s{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.filter_events(ACCOUNT, REGION, "g", limit=10_000).events) == 4 * 20 * 10
    assert {s.batches for s in store.list_streams(ACCOUNT, REGION, "g", limit=10)} == {20}


def test_event_reads_walk_an_index(tmp_path: Path) -> None:
    """GetLogEvents and FilterLogEvents stay cheap on big groups: no full scan, no sort."""
    LogStore(tmp_path / "logs.db").close()
    db = sqlite3.connect(tmp_path / "logs.db")
    plans = {
        "stream": "SELECT id FROM log_events WHERE stream_id = 1 AND timestamp >= 0"
        " AND (timestamp, id) >= (0, 0) ORDER BY timestamp DESC, id DESC LIMIT 10",
        "group": "SELECT e.id FROM log_events e JOIN log_streams s ON s.id = e.stream_id"
        " WHERE e.group_id = 1 AND e.timestamp >= 0 ORDER BY e.timestamp, e.id LIMIT 10",
    }
    for name, sql in plans.items():
        plan = " | ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "USING INDEX log_events_by_" in plan or "USING COVERING INDEX" in plan, name
        assert "TEMP B-TREE" not in plan, (name, plan)
    db.close()
