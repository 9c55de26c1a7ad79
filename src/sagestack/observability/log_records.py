"""What the log store holds: log groups, log streams and log events, as immutable values.

Times are epoch milliseconds, as CloudWatch Logs speaks them. An event's `event_id` is its
position in the store (ascending with ingestion), which breaks ties between events of the same
timestamp. A *position* `(timestamp, event_id)` names the gap just before that key: reading
forward from it yields the events at or after it, reading backward those before it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: (timestamp, event_id): a gap between events in (timestamp, event_id) order.
Position = tuple[int, int]

#: The kinds a `RecordNotFound` / `RecordExists` from the log store names, as AWS words them.
LOG_GROUP = "log group"
LOG_STREAM = "log stream"


@dataclass(frozen=True, slots=True)
class LogGroup:
    account: str
    region: str
    name: str
    creation_time: int
    retention_days: int | None
    kms_key_id: str | None
    log_group_class: str
    deletion_protection: bool
    #: UTF-8 bytes of every message ever stored in the group (deleted streams included, as
    #: CloudWatch's own figure lags behind deletions too).
    stored_bytes: int


@dataclass(frozen=True, slots=True)
class LogStream:
    group: str
    name: str
    creation_time: int
    first_event: int | None
    last_event: int | None
    last_ingestion: int | None
    #: How many batches were written: the source of the (ignored) upload sequence token.
    batches: int


@dataclass(frozen=True, slots=True)
class LogEvent:
    stream: str
    timestamp: int
    ingestion_time: int
    message: str
    event_id: int

    @property
    def position(self) -> Position:
        """The gap just before this event."""
        return (self.timestamp, self.event_id)

    @property
    def next_position(self) -> Position:
        """The gap just after this event."""
        return (self.timestamp, self.event_id + 1)


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events of a scan in the order read, and where to go on (None: nothing more)."""

    events: list[LogEvent]
    next_position: Position | None
