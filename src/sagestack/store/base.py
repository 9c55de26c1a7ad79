"""The ResourceStore protocol, its query types and its exceptions."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sagestack.resources.records import Event, ResourceRecord

#: A keyset position in a listing: (value of the sort column, lower-cased name) of the last row
#: already returned. Values are str for Name/Status and float for the time columns.
Cursor = tuple[str | float, str]

SORT_COLUMNS = ("Name", "CreationTime", "LastModifiedTime", "Status")


class StoreError(Exception):
    pass


class RecordExists(StoreError):
    """A record with this (kind, account, region, name) already exists."""


class RecordNotFound(StoreError):
    pass


class RecordChanged(StoreError):
    """The record's generation is not the expected one: someone else wrote it first."""


class RecordBusy(StoreError):
    """Every attempt to change the record lost the race to another writer."""


#: A change of a record: the new record and its event, or None to leave it as it is.
Change = Callable[[ResourceRecord], "tuple[ResourceRecord, Event | None] | None"]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """One page request for the generic list engine; filters combine with AND.

    `name_contains` is case-insensitive; time filters are exclusive (After: >, Before: <) epoch
    seconds. Ordering is by `sort_by`, ties broken by lower-cased name, so keyset paging is stable.
    """

    sort_by: str = "CreationTime"
    ascending: bool = False
    limit: int = 10
    name_contains: str | None = None
    status_equals: str | None = None
    created_after: float | None = None
    created_before: float | None = None
    modified_after: float | None = None
    modified_before: float | None = None
    after: Cursor | None = None


@dataclass(frozen=True, slots=True)
class Page:
    records: list[ResourceRecord]
    #: Where the next page starts, or None when this page is the last.
    next_cursor: Cursor | None


class ResourceStore(Protocol):
    def insert(
        self,
        record: ResourceRecord,
        *,
        tags: Sequence[tuple[str, str]] = (),
        event: Event | None = None,
    ) -> None:
        """Store a new record (and its tags and event) in one transaction; RecordExists on clash."""

    def get(self, kind: str, account: str, region: str, name: str) -> ResourceRecord | None: ...

    def get_by_arn(self, arn: str) -> ResourceRecord | None: ...

    def update(
        self, record: ResourceRecord, *, expected_generation: int, event: Event | None = None
    ) -> ResourceRecord:
        """Replace the stored record if its generation is still `expected_generation`.

        Returns the stored record, whose generation is `expected_generation + 1`.
        RecordNotFound if it is gone, RecordChanged if another write came first.
        """

    def delete(
        self, kind: str, account: str, region: str, name: str, *, event: Event | None = None
    ) -> ResourceRecord | None:
        """Remove a record and its tags; returns what was removed, or None if nothing was there."""

    def list(self, kind: str, account: str, region: str, query: ListQuery) -> Page: ...

    def events(
        self, *, after_id: int = 0, arn: str | None = None, limit: int = 1000
    ) -> builtins.list[Event]:
        """Events in id order, oldest first."""

    def tags(self, arn: str) -> builtins.list[tuple[str, str]]:
        """The tags on an ARN in the order their keys were first added."""

    def put_tags(self, arn: str, tags: Sequence[tuple[str, str]]) -> None:
        """Add tags, overwriting the value of a key already present (its position is kept).

        RecordNotFound when no record has this ARN: tags live and die with their resource.
        """

    def remove_tags(self, arn: str, keys: Sequence[str]) -> None: ...

    def reset(self) -> None:
        """Remove every record, tag and event."""

    def close(self) -> None: ...


def change_record(
    store: ResourceStore, arn: str, change: Change, *, attempts: int = 50
) -> ResourceRecord | None:
    """Apply `change` to the current record at `arn` and store it, reading it again whenever
    another writer came first (optimistic concurrency: the API and the controllers write the
    same records). Returns the stored (or unchanged) record; None when there is no record at
    `arn`; RecordBusy after `attempts` lost races."""
    for _ in range(attempts):
        record = store.get_by_arn(arn)
        if record is None:
            return None
        changed = change(record)
        if changed is None:
            return record
        try:
            return store.update(changed[0], expected_generation=record.generation, event=changed[1])
        except RecordChanged:
            continue
        except RecordNotFound:
            return None
    raise RecordBusy(arn)
