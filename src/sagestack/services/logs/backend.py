"""What the Logs API needs of a log store, as a protocol.

Services do not import `observability`; the composition root hands `LogsApi` the SQLite
`LogStore`, which satisfies these protocols structurally (mypy checks it where app.py wires
them). Misses raise `RecordNotFound(kind)` and clashes `RecordExists(kind)` from `store.base`,
where `kind` is "log group" or "log stream"; a bad filter pattern raises ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

#: (timestamp, event id): a gap between events; see observability.log_records.
Position = tuple[int, int]


class LogGroupView(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def creation_time(self) -> int: ...
    @property
    def retention_days(self) -> int | None: ...
    @property
    def kms_key_id(self) -> str | None: ...
    @property
    def log_group_class(self) -> str: ...
    @property
    def deletion_protection(self) -> bool: ...
    @property
    def stored_bytes(self) -> int: ...


class LogStreamView(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def creation_time(self) -> int: ...
    @property
    def first_event(self) -> int | None: ...
    @property
    def last_event(self) -> int | None: ...
    @property
    def last_ingestion(self) -> int | None: ...
    @property
    def batches(self) -> int: ...


class LogEventView(Protocol):
    @property
    def stream(self) -> str: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def ingestion_time(self) -> int: ...
    @property
    def message(self) -> str: ...
    @property
    def event_id(self) -> int: ...
    @property
    def position(self) -> Position: ...
    @property
    def next_position(self) -> Position: ...


class EventPageView(Protocol):
    @property
    def events(self) -> Sequence[LogEventView]: ...
    @property
    def next_position(self) -> Position | None: ...


class LogBackend(Protocol):
    def create_group(
        self,
        account: str,
        region: str,
        name: str,
        *,
        creation_time: int,
        tags: Mapping[str, str] | None = None,
        kms_key_id: str | None = None,
        log_group_class: str = "STANDARD",
        deletion_protection: bool = False,
    ) -> LogGroupView: ...

    def get_group(self, account: str, region: str, name: str) -> LogGroupView | None: ...

    def list_groups(
        self,
        account: str,
        region: str,
        *,
        limit: int,
        prefix: str | None = None,
        contains: str | None = None,
        names: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        after: str | None = None,
    ) -> Sequence[LogGroupView]: ...

    def delete_group(self, account: str, region: str, name: str) -> None: ...

    def set_retention(self, account: str, region: str, name: str, days: int | None) -> None: ...

    def set_deletion_protection(
        self, account: str, region: str, name: str, enabled: bool
    ) -> None: ...

    def tags(self, account: str, region: str, name: str) -> dict[str, str]: ...

    def tag_group(self, account: str, region: str, name: str, tags: Mapping[str, str]) -> None: ...

    def untag_group(self, account: str, region: str, name: str, keys: Sequence[str]) -> None: ...

    def create_stream(
        self, account: str, region: str, group: str, name: str, *, creation_time: int
    ) -> LogStreamView: ...

    def get_stream(self, account: str, region: str, group: str, name: str) -> LogStreamView: ...

    def delete_stream(self, account: str, region: str, group: str, name: str) -> None: ...

    def list_streams(
        self,
        account: str,
        region: str,
        group: str,
        *,
        limit: int,
        prefix: str | None = None,
        by_last_event: bool = False,
        descending: bool = False,
        after: tuple[str | int, str] | None = None,
    ) -> Sequence[LogStreamView]: ...

    def put_events(
        self,
        account: str,
        region: str,
        group: str,
        stream: str,
        events: Sequence[tuple[int, str]],
        *,
        ingestion_time: int,
    ) -> LogStreamView: ...

    def read_stream(
        self,
        account: str,
        region: str,
        group: str,
        stream: str,
        *,
        limit: int,
        forward: bool,
        position: Position | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> Sequence[LogEventView]: ...

    def filter_events(
        self,
        account: str,
        region: str,
        group: str,
        *,
        limit: int,
        forward: bool = True,
        pattern: str | None = None,
        stream_names: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        position: Position | None = None,
        start: int | None = None,
        end: int | None = None,
        max_scanned: int = 100_000,
    ) -> EventPageView: ...
