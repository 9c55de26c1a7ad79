"""What both stores agree on for keyset listing: the sort value of a record in each column.

Name sorts by the lower-cased name (the name key) so that the order and the keyset cursor agree
with the case-insensitive uniqueness of names; a record without a status sorts as "" under Status.
Ties are broken by the name key.
"""

from __future__ import annotations

from collections.abc import Callable

from sagestack.resources.records import ResourceRecord
from sagestack.store.base import Cursor, ListQuery

SortValue = Callable[[ResourceRecord], str | float]

SORT_VALUES: dict[str, SortValue] = {
    "Name": lambda record: record.name.lower(),
    "CreationTime": lambda record: record.creation_time,
    "LastModifiedTime": lambda record: record.last_modified_time,
    "Status": lambda record: record.status or "",
}


def check_query(query: ListQuery) -> None:
    """ValueError for a query no store can answer (the services layer never builds one)."""
    if query.sort_by not in SORT_VALUES or query.limit < 1:
        raise ValueError(f"Bad list query: sort_by={query.sort_by!r}, limit={query.limit}")


def cursor_of(record: ResourceRecord, sort_by: str) -> Cursor:
    """The keyset position just after `record` in a listing sorted by `sort_by`."""
    return SORT_VALUES[sort_by](record), record.name.lower()
