"""An in-memory `ResourceStore` with the SQLite store's semantics, for tests and throwaway runs.

Specs, states and event details are kept as JSON text, exactly as the SQLite store keeps them, so
what a caller gets back is always a fresh copy and anything SQLite would refuse is refused here.
"""

from __future__ import annotations

import bisect
import builtins
import dataclasses
import itertools
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sagestack.resources.records import Event, ResourceRecord
from sagestack.store.base import (
    Cursor,
    ListQuery,
    Page,
    RecordChanged,
    RecordExists,
    RecordNotFound,
)
from sagestack.store.keyset import SORT_VALUES, check_query, cursor_of

Scope = tuple[str, str, str]
#: An entry with its place in one listing order.
_Position = tuple[Cursor, "_Entry"]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _Entry:
    """A stored record: its spec and state live in the JSON fields, not in `record`."""

    record: ResourceRecord
    spec: str
    state: str

    @classmethod
    def of(cls, record: ResourceRecord) -> _Entry:
        bare = dataclasses.replace(record, spec={}, state={})
        return cls(bare, _dumps(record.spec), _dumps(record.state))

    def thaw(self) -> ResourceRecord:
        return dataclasses.replace(
            self.record, spec=json.loads(self.spec), state=json.loads(self.state)
        )


class MemoryResourceStore:
    """A `ResourceStore` held in dictionaries, guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scopes: dict[Scope, dict[str, _Entry]] = {}
        self._arns: dict[str, tuple[Scope, str]] = {}
        self._tags: dict[str, dict[str, str]] = {}
        self._orders: dict[tuple[Scope, str], builtins.list[_Position]] = {}
        self._events: builtins.list[tuple[Event, str]] = []
        self._last_event_id = 0

    def _append_event(self, event: Event | None, detail: str | None) -> None:
        if event is not None and detail is not None:
            self._last_event_id += 1
            self._events.append((dataclasses.replace(event, id=self._last_event_id), detail))

    def insert(
        self,
        record: ResourceRecord,
        *,
        tags: Sequence[tuple[str, str]] = (),
        event: Event | None = None,
    ) -> None:
        entry = _Entry.of(record)
        detail = None if event is None else _dumps(event.detail)
        scope, key = (record.kind, record.account, record.region), record.name.lower()
        with self._lock:
            records = self._scopes.setdefault(scope, {})
            if key in records or record.arn in self._arns:
                raise RecordExists(record.arn)
            records[key] = entry
            self._arns[record.arn] = (scope, key)
            self._changed(scope)
            if tags:
                self._tags[record.arn] = dict(tags)
            self._append_event(event, detail)

    def get(self, kind: str, account: str, region: str, name: str) -> ResourceRecord | None:
        with self._lock:
            entry = self._scopes.get((kind, account, region), {}).get(name.lower())
        return None if entry is None else entry.thaw()

    def get_by_arn(self, arn: str) -> ResourceRecord | None:
        with self._lock:
            where = self._arns.get(arn)
            entry = None if where is None else self._scopes[where[0]][where[1]]
        return None if entry is None else entry.thaw()

    def update(
        self, record: ResourceRecord, *, expected_generation: int, event: Event | None = None
    ) -> ResourceRecord:
        spec, state = _dumps(record.spec), _dumps(record.state)
        detail = None if event is None else _dumps(event.detail)
        scope, key = (record.kind, record.account, record.region), record.name.lower()
        with self._lock:
            records = self._scopes.get(scope, {})
            stored = records.get(key)
            if stored is None:
                raise RecordNotFound(record.arn)
            if stored.record.generation != expected_generation:
                raise RecordChanged(record.arn)
            bare = dataclasses.replace(
                stored.record,
                status=record.status,
                last_modified_time=record.last_modified_time,
                generation=expected_generation + 1,
            )
            entry = records[key] = _Entry(bare, spec, state)
            self._changed(scope)
            self._append_event(event, detail)
        return entry.thaw()

    def delete(
        self, kind: str, account: str, region: str, name: str, *, event: Event | None = None
    ) -> ResourceRecord | None:
        detail = None if event is None else _dumps(event.detail)
        scope = (kind, account, region)
        with self._lock:
            entry = self._scopes.get(scope, {}).pop(name.lower(), None)
            if entry is None:
                return None
            self._changed(scope)
            del self._arns[entry.record.arn]
            self._tags.pop(entry.record.arn, None)
            self._append_event(event, detail)
        return entry.thaw()

    def list(self, kind: str, account: str, region: str, query: ListQuery) -> Page:
        """One keyset page, in the SQLite store's order (see `sagestack.store.keyset`)."""
        check_query(query)
        with self._lock:
            ordered = self._ordered((kind, account, region), query.sort_by)
        if query.ascending:
            start = 0 if query.after is None else bisect.bisect_right(ordered, query.after, key=_at)
            candidates: Iterable[_Position] = ordered[start:]
        else:
            end = (
                len(ordered)
                if query.after is None
                else bisect.bisect_left(ordered, query.after, key=_at)
            )
            candidates = reversed(ordered[:end])
        chosen = builtins.list(
            itertools.islice(
                (entry for _, entry in candidates if _matches(entry.record, query)), query.limit + 1
            )
        )
        records = [entry.thaw() for entry in chosen[: query.limit]]
        if len(chosen) <= query.limit:
            return Page(records, None)
        return Page(records, cursor_of(records[-1], query.sort_by))

    def _ordered(self, scope: Scope, sort_by: str) -> builtins.list[_Position]:
        """The scope's entries sorted by (sort value, name key); built once per change."""
        ordered = self._orders.get((scope, sort_by))
        if ordered is None:
            value = SORT_VALUES[sort_by]
            entries = self._scopes.get(scope, {}).items()
            ordered = sorted((((value(e.record), key), e) for key, e in entries), key=_at)
            self._orders[(scope, sort_by)] = ordered
        return ordered

    def _changed(self, scope: Scope) -> None:
        for sort_by in SORT_VALUES:
            self._orders.pop((scope, sort_by), None)

    def events(
        self, *, after_id: int = 0, arn: str | None = None, limit: int = 1000
    ) -> builtins.list[Event]:
        with self._lock:
            start = bisect.bisect_right(self._events, after_id, key=lambda item: item[0].id)
            found: builtins.list[Event] = []
            for event, detail in self._events[start:]:
                if len(found) >= limit:
                    break
                if arn is None or event.arn == arn:
                    found.append(dataclasses.replace(event, detail=json.loads(detail)))
        return found

    def tags(self, arn: str) -> builtins.list[tuple[str, str]]:
        with self._lock:
            return builtins.list(self._tags.get(arn, {}).items())

    def put_tags(self, arn: str, tags: Sequence[tuple[str, str]]) -> None:
        """RecordNotFound if no record has this ARN."""
        with self._lock:
            if arn not in self._arns:
                raise RecordNotFound(arn)
            self._tags.setdefault(arn, {}).update(tags)

    def remove_tags(self, arn: str, keys: Sequence[str]) -> None:
        with self._lock:
            present = self._tags.get(arn, {})
            for key in keys:
                present.pop(key, None)

    def reset(self) -> None:
        """Remove everything; event ids keep increasing so event readers never go back."""
        with self._lock:
            self._scopes.clear()
            self._orders.clear()
            self._arns.clear()
            self._tags.clear()
            self._events.clear()

    def close(self) -> None:
        """Nothing to release."""


def _at(position: _Position) -> Cursor:
    return position[0]


def _matches(record: ResourceRecord, query: ListQuery) -> bool:
    return (
        (not query.name_contains or query.name_contains.lower() in record.name.lower())
        and (query.status_equals is None or record.status == query.status_equals)
        and _within(record.creation_time, query.created_after, query.created_before)
        and _within(record.last_modified_time, query.modified_after, query.modified_before)
    )


def _within(value: float, after: float | None, before: float | None) -> bool:
    return (after is None or value > after) and (before is None or value < before)
