"""One contract suite for every ResourceStore: the in-memory store and the SQLite store must
behave identically, down to ordering, exceptions and copies."""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sagestack.resources.arns import arn
from sagestack.resources.lifecycles import created_event, deleted_event
from sagestack.resources.records import Event, ResourceRecord
from sagestack.store.base import (
    SORT_COLUMNS,
    ListQuery,
    RecordBusy,
    RecordChanged,
    RecordExists,
    RecordNotFound,
    ResourceStore,
    change_record,
)
from sagestack.store.keyset import SORT_VALUES
from sagestack.store.memory import MemoryResourceStore
from sagestack.store.sqlite import SqliteResourceStore
from sagestack.store.urls import open_store

ACCOUNT, REGION = "111122223333", "us-east-1"


def make(
    name: str,
    *,
    kind: str = "model",
    account: str = ACCOUNT,
    region: str = REGION,
    created: float = 1_700_000_000.0,
    modified: float | None = None,
    status: str | None = None,
    spec: dict[str, Any] | None = None,
) -> ResourceRecord:
    return ResourceRecord(
        kind=kind,
        account=account,
        region=region,
        name=name,
        arn=arn(kind, account, region, name),
        spec={"Name": name} if spec is None else spec,
        creation_time=created,
        last_modified_time=created if modified is None else modified,
        status=status,
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ResourceStore]:
    opened: ResourceStore = (
        MemoryResourceStore()
        if request.param == "memory"
        else SqliteResourceStore(tmp_path / "s.db")
    )
    yield opened
    opened.close()


def test_every_sort_column_has_a_sort_value() -> None:
    assert tuple(SORT_VALUES) == SORT_COLUMNS


def test_insert_then_get_by_name_in_any_case_and_by_arn(store: ResourceStore) -> None:
    record = make("MyModel", spec={"PrimaryContainer": {"Image": "img", "Env": {"A": "1"}}})
    store.insert(record)
    assert store.get("model", ACCOUNT, REGION, "mymodel") == record
    assert store.get("model", ACCOUNT, REGION, "MYMODEL") == record
    assert store.get_by_arn(record.arn) == record
    assert store.get("model", ACCOUNT, "us-west-2", "MyModel") is None
    assert store.get("model", "999999999999", REGION, "MyModel") is None
    assert store.get("endpoint", ACCOUNT, REGION, "MyModel") is None
    assert store.get_by_arn(record.arn + "x") is None


def test_returned_records_are_copies(store: ResourceStore) -> None:
    spec: dict[str, Any] = {"Env": {"A": "1"}}
    store.insert(make("m", spec=spec))
    spec["Env"]["A"] = "changed"
    got = store.get("model", ACCOUNT, REGION, "m")
    assert got is not None and got.spec == {"Env": {"A": "1"}}
    got.spec["Env"]["A"] = "mutated"  # type: ignore[index]
    again = store.get("model", ACCOUNT, REGION, "m")
    assert again is not None and again.spec == {"Env": {"A": "1"}}


def test_case_insensitive_clash_raises_and_writes_nothing(store: ResourceStore) -> None:
    first = make("Model")
    store.insert(first, tags=[("k", "v")], event=created_event(first))
    clash = make("MODEL", spec={"other": True})
    with pytest.raises(RecordExists):
        store.insert(clash, tags=[("k", "other")], event=created_event(clash))
    assert store.get("model", ACCOUNT, REGION, "model") == first
    assert store.tags(first.arn) == [("k", "v")]
    assert [e.type for e in store.events()] == ["Created"]


def test_unserializable_spec_is_refused_without_a_trace(store: ResourceStore) -> None:
    bad = make("bad", spec={"When": object()})
    with pytest.raises(TypeError):
        store.insert(bad, event=created_event(bad))
    assert store.get("model", ACCOUNT, REGION, "bad") is None
    assert store.events() == []


def test_update_bumps_generation_and_checks_it(store: ResourceStore) -> None:
    record = make("ep", kind="endpoint", status="Creating")
    store.insert(record)
    changed = dataclasses.replace(
        record, status="InService", last_modified_time=5.0e9, state={"Replicas": 2}
    )
    event = Event(record.arn, "endpoint", ACCOUNT, REGION, "StatusChanged", 5.0e9, "InService")
    stored = store.update(changed, expected_generation=1, event=event)
    assert stored == dataclasses.replace(changed, generation=2)
    assert store.get("endpoint", ACCOUNT, REGION, "ep") == stored
    with pytest.raises(RecordChanged):
        store.update(changed, expected_generation=1, event=event)
    assert [e.type for e in store.events()] == ["StatusChanged"]
    assert store.update(stored, expected_generation=2).generation == 3


def test_update_keeps_identity_and_creation_time(store: ResourceStore) -> None:
    record = make("Keep", created=10.0)
    store.insert(record)
    stored = store.update(
        dataclasses.replace(record, name="KEEP", creation_time=99.0), expected_generation=1
    )
    assert (stored.name, stored.creation_time, stored.arn) == ("Keep", 10.0, record.arn)


def test_update_of_a_deleted_record_is_not_found(store: ResourceStore) -> None:
    record = make("gone")
    store.insert(record)
    assert store.delete("model", ACCOUNT, REGION, "GONE") == record
    with pytest.raises(RecordNotFound):
        store.update(record, expected_generation=1, event=created_event(record))
    assert store.events() == []


def test_delete_removes_record_and_tags_and_logs_once(store: ResourceStore) -> None:
    record = make("m")
    store.insert(record, tags=[("a", "1")])
    assert (
        store.delete("model", ACCOUNT, REGION, "m", event=deleted_event(record, now=2.0)) == record
    )
    assert store.get_by_arn(record.arn) is None
    assert store.tags(record.arn) == []
    assert store.delete("model", ACCOUNT, REGION, "m", event=deleted_event(record, now=3.0)) is None
    assert [(e.type, e.previous_status) for e in store.events()] == [("Deleted", None)]
    store.insert(record)
    assert store.tags(record.arn) == []


def test_tags_keep_first_insertion_order(store: ResourceStore) -> None:
    record = make("t")
    store.insert(record, tags=[("b", "1"), ("a", "2"), ("b", "3")])
    assert store.tags(record.arn) == [("b", "3"), ("a", "2")]
    store.put_tags(record.arn, [("c", "4"), ("b", "5")])
    assert store.tags(record.arn) == [("b", "5"), ("a", "2"), ("c", "4")]
    store.remove_tags(record.arn, ["b", "missing"])
    store.put_tags(record.arn, [("b", "6")])
    assert store.tags(record.arn) == [("a", "2"), ("c", "4"), ("b", "6")]
    store.remove_tags("arn:aws:sagemaker:us-east-1:1:model/none", ["a"])
    with pytest.raises(RecordNotFound):
        store.put_tags("arn:aws:sagemaker:us-east-1:1:model/none", [("a", "1")])
    assert store.tags("arn:aws:sagemaker:us-east-1:1:model/none") == []


def test_events_in_order_filtered_and_kept_after_delete(store: ResourceStore) -> None:
    one, two = make("one"), make("two")
    store.insert(one, event=dataclasses.replace(created_event(one), detail={"x": [1, {"y": 2}]}))
    store.insert(two, event=created_event(two))
    store.delete("model", ACCOUNT, REGION, "one", event=deleted_event(one, now=9.0))
    events = store.events()
    assert [(e.arn, e.type) for e in events] == [
        (one.arn, "Created"),
        (two.arn, "Created"),
        (one.arn, "Deleted"),
    ]
    assert events[0].detail == {"x": [1, {"y": 2}]}
    assert [e.id for e in events] == sorted({e.id for e in events}) and events[0].id > 0
    assert store.events(after_id=events[0].id) == events[1:]
    assert store.events(arn=one.arn) == [events[0], events[2]]
    assert store.events(limit=2) == events[:2]
    assert store.events(after_id=events[0].id, arn=one.arn, limit=1) == [events[2]]


def test_reset_clears_everything_and_event_ids_keep_growing(store: ResourceStore) -> None:
    record = make("r")
    store.insert(record, tags=[("k", "v")], event=created_event(record))
    last = store.events()[-1].id
    store.reset()
    assert store.get_by_arn(record.arn) is None
    assert store.tags(record.arn) == []
    assert store.events() == []
    assert store.list("model", ACCOUNT, REGION, ListQuery()).records == []
    store.insert(record, event=created_event(record))
    assert store.events()[0].id > last


def _all(store: ResourceStore, query: ListQuery, kind: str = "model") -> list[ResourceRecord]:
    page = store.list(kind, ACCOUNT, REGION, query)
    assert page.next_cursor is None
    return page.records


def _names(records: list[ResourceRecord]) -> list[str]:
    return [r.name for r in records]


@pytest.fixture
def listed(store: ResourceStore) -> list[ResourceRecord]:
    """Records with ties in every column, mixed-case names and missing statuses."""
    statuses = [None, "InService", "Failed", "Creating"]
    records = [
        make(
            name,
            kind="endpoint",
            created=100.0 + i % 3,
            modified=200.0 - i % 4,
            status=statuses[i % 4],
        )
        for i, name in enumerate(["b", "A", "c", "D", "e", "F", "alpha", "Beta", "gamma", "Zed"])
    ]
    for record in records:
        store.insert(record)
    store.insert(make("other-kind"))
    store.insert(make("other-region", kind="endpoint", region="eu-west-1"))
    store.insert(make("other-account", kind="endpoint", account="999999999999"))
    return records


@pytest.mark.parametrize("sort_by", SORT_COLUMNS)
@pytest.mark.parametrize("ascending", [True, False])
def test_listing_orders_by_every_column_then_name_key(
    store: ResourceStore, listed: list[ResourceRecord], sort_by: str, ascending: bool
) -> None:
    def key(r: ResourceRecord) -> tuple[Any, str]:
        value = {
            "Name": r.name.lower(),
            "CreationTime": r.creation_time,
            "LastModifiedTime": r.last_modified_time,
            "Status": r.status or "",
        }[sort_by]
        return value, r.name.lower()

    expected = sorted(listed, key=key, reverse=not ascending)
    query = ListQuery(sort_by=sort_by, ascending=ascending, limit=100)
    assert _all(store, query, "endpoint") == expected
    paged, after = [], None
    while True:
        page = store.list(
            "endpoint", ACCOUNT, REGION, dataclasses.replace(query, limit=3, after=after)
        )
        paged += page.records
        if (after := page.next_cursor) is None:
            break
    assert paged == expected


def test_listing_filters(store: ResourceStore, listed: list[ResourceRecord]) -> None:
    def names(**filters: Any) -> set[str]:
        return set(_names(_all(store, ListQuery(limit=100, **filters), "endpoint")))

    assert names(name_contains="A") == {"A", "alpha", "Beta", "gamma"}
    assert names(name_contains="ALPH") == {"alpha"}
    assert names(status_equals="Failed") == {"c", "alpha"}
    assert names(status_equals="failed") == set()
    assert names(created_after=101.0) == {"c", "F", "gamma"}
    assert names(created_before=101.0) == {"b", "D", "alpha", "Zed"}
    assert names(modified_after=198.0) == {"b", "A", "e", "F", "gamma", "Zed"}
    assert names(modified_before=198.0) == {"D", "Beta"}
    assert names(name_contains="a", status_equals="InService", created_after=100.0) == {"A"}
    assert names(created_after=100.0, created_before=102.0) == {"A", "e", "Beta"}


def test_bad_queries_are_refused(store: ResourceStore) -> None:
    with pytest.raises(ValueError):
        store.list("model", ACCOUNT, REGION, ListQuery(sort_by="Size"))
    with pytest.raises(ValueError):
        store.list("model", ACCOUNT, REGION, ListQuery(limit=0))


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_paging_through_a_thousand_records(store: ResourceStore, limit: int) -> None:
    records = [make(f"m-{i:04d}", created=float(i // 3)) for i in range(1000)]
    for record in records:
        store.insert(record)
    for ascending in (False, True):
        seen: list[str] = []
        after = None
        while True:
            query = ListQuery(limit=limit, ascending=ascending, after=after)
            page = store.list("model", ACCOUNT, REGION, query)
            assert len(page.records) <= limit
            seen += _names(page.records)
            if (after := page.next_cursor) is None:
                break
        expected = _names(sorted(records, key=lambda r: (r.creation_time, r.name)))
        assert seen == (expected if ascending else expected[::-1])


def test_records_inserted_while_paging_do_not_break_it(store: ResourceStore) -> None:
    originals = [make(f"m-{i:03d}", created=float(i)) for i in range(0, 200, 2)]
    for record in originals:
        store.insert(record)
    seen: list[str] = []
    after, fresh = None, itertools.count(1, 2)
    while True:
        page = store.list("model", ACCOUNT, REGION, ListQuery(limit=9, ascending=True, after=after))
        seen += _names(page.records)
        for _ in range(3):  # some land before the cursor, some after it
            i = next(fresh)
            store.insert(make(f"m-{i:03d}", created=float(i)))
        if (after := page.next_cursor) is None:
            break
    assert len(seen) == len(set(seen))
    assert [n for n in seen if int(n[2:]) % 2 == 0] == _names(originals)
    assert seen == sorted(seen)


def test_concurrent_updates_one_winner_per_generation(store: ResourceStore) -> None:
    record = make("hot", kind="endpoint", status="InService")
    store.insert(record)
    wins: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            current = store.get("endpoint", ACCOUNT, REGION, "hot")
            assert current is not None
            try:
                store.update(current, expected_generation=current.generation)
            except RecordChanged:
                continue
            with lock:
                wins.append(current.generation)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == list(range(1, len(wins) + 1))
    final = store.get("endpoint", ACCOUNT, REGION, "hot")
    assert final is not None and final.generation == len(wins) + 1


def test_sqlite_state_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    store = SqliteResourceStore(path)
    record = make("Durable", status="InService")
    store.insert(record, tags=[("k", "v")], event=created_event(record))
    stored = store.update(record, expected_generation=1)
    store.close()
    reopened = SqliteResourceStore(path)
    assert reopened.get("model", ACCOUNT, REGION, "durable") == stored
    assert reopened.tags(record.arn) == [("k", "v")]
    assert [e.type for e in reopened.events()] == ["Created"]
    reopened.close()


def test_sqlite_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    SqliteResourceStore(path).close()
    SqliteResourceStore(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        SqliteResourceStore(path)


def test_open_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_store("memory://"), MemoryResourceStore)
    absolute = open_store(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(absolute, SqliteResourceStore)
    absolute.close()
    assert (tmp_path / "abs.db").exists()
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///rel.db").close()
    assert (tmp_path / "rel.db").exists()
    for bad in ["postgres://x", "sqlite://", "sqlite:///", "sqlite:///x.db?mode=ro", "memory:", ""]:
        with pytest.raises(ValueError, match="Unsupported database URL"):
            open_store(bad)


def test_change_record_reads_again_after_losing_a_race(store: ResourceStore) -> None:
    record = make("raced")
    store.insert(record)
    calls: list[int] = []

    def change(current: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
        calls.append(current.generation)
        if len(calls) == 1:  # another writer gets in between our read and our write
            store.update(
                dataclasses.replace(current, spec={"Name": "raced", "by": "other"}),
                expected_generation=current.generation,
            )
        return dataclasses.replace(current, status="Done"), None

    stored = change_record(store, record.arn, change)
    assert stored is not None and stored.status == "Done"
    assert stored.spec == {"Name": "raced", "by": "other"}  # the other write was kept
    assert calls == [1, 2]


def test_change_record_without_a_record_or_a_change(store: ResourceStore) -> None:
    record = make("kept")
    store.insert(record)
    assert change_record(store, arn("model", ACCOUNT, REGION, "absent"), lambda r: None) is None
    unchanged = change_record(store, record.arn, lambda r: None)
    assert unchanged is not None and unchanged.generation == 1


def test_change_record_gives_up_when_it_always_loses(store: ResourceStore) -> None:
    record = make("busy")
    store.insert(record)

    def always_beaten(current: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
        store.update(current, expected_generation=current.generation)
        return current, None

    with pytest.raises(RecordBusy):
        change_record(store, record.arn, always_beaten, attempts=3)
