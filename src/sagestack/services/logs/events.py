"""Log events: PutLogEvents, GetLogEvents and FilterLogEvents.

GetLogEvents' tokens have CloudWatch's form, `f/<56 digits>` forward and `b/<56 digits>`
backward; the digits name a gap between events (timestamp, then event id). A read that finds
nothing more answers with the very token it was given, which is how every client (the SageMaker
SDK's log tailer included) knows it has reached the end. FilterLogEvents pages with signed,
opaque tokens and omits nextToken once nothing is left.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.services.logs.backend import LogEventView, Position
from sagestack.services.logs.base import (
    INVALID_TOKEN,
    InvalidParameterException,
    LogsApiBase,
    not_found,
    or_not_found,
)
from sagestack.services.logs.streams import sequence_token

MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
TOO_NEW_MS = 2 * 3600 * 1000
TOO_OLD_MS = 14 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
#: A response carries at most this many bytes of events (messages plus overhead), as AWS's do.
MAX_RESPONSE_BYTES = 1_048_576
DEFAULT_EVENT_LIMIT = 10_000
#: FilterLogEvents with startFromHead=false needs a startTime on or after 2024-01-01 UTC.
DESCENDING_FILTER_EPOCH_MS = 1_704_067_200_000

_EVENT_TOKEN = re.compile(r"([fb])/(\d{20})(\d{36})")


def event_token(direction: str, position: Position) -> str:
    timestamp, event_id = position
    return f"{direction}/{max(timestamp, 0):020d}{event_id:036d}"


def parse_event_token(token: str) -> tuple[bool, Position]:
    """(forward?, position) of a GetLogEvents token; InvalidParameterException otherwise."""
    match = _EVENT_TOKEN.fullmatch(token)
    if match is None:
        raise InvalidParameterException(INVALID_TOKEN)
    return match[1] == "f", (int(match[2]), int(match[3]))


def _event_bytes(event: LogEventView) -> int:
    return len(event.message.encode("utf-8")) + EVENT_OVERHEAD_BYTES


def _within_response(events: Sequence[LogEventView]) -> list[LogEventView]:
    """The leading events (in the order given) that fit in one response."""
    kept: list[LogEventView] = []
    total = 0
    for event in events:
        total += _event_bytes(event)
        if total > MAX_RESPONSE_BYTES and kept:
            break
        kept.append(event)
    return kept


def _checked_batch(events: Sequence[dict[str, Any]]) -> None:
    size = sum(len(e["message"].encode("utf-8")) + EVENT_OVERHEAD_BYTES for e in events)
    if size > MAX_BATCH_BYTES:
        raise InvalidParameterException(
            f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )
    timestamps = [event["timestamp"] for event in events]
    if any(later < earlier for earlier, later in itertools.pairwise(timestamps)):
        raise InvalidParameterException(
            "Log events in a single PutLogEvents request must be in chronological order."
        )
    if timestamps[-1] - timestamps[0] > MAX_BATCH_SPAN_MS:
        raise InvalidParameterException(
            "The batch of log events in a single PutLogEvents request cannot span more than "
            "24 hours."
        )


class LogEventsOps(LogsApiBase):
    @operation("PutLogEvents")
    def put_log_events(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        group_name, stream = request["logGroupName"], request["logStreamName"]
        events = request["logEvents"]
        _checked_batch(events)
        group = self._logs.get_group(ctx.account, ctx.region, group_name)
        if group is None:
            raise not_found("log group")
        now = round(ctx.now * 1000)
        timestamps = [event["timestamp"] for event in events]  # chronological: bisect works
        too_old_end = bisect.bisect_left(timestamps, now - TOO_OLD_MS)
        expired_end = 0
        if group.retention_days is not None:
            expired_end = bisect.bisect_left(timestamps, now - group.retention_days * DAY_MS)
        too_new_start = bisect.bisect_right(timestamps, now + TOO_NEW_MS)
        accepted = [
            (event["timestamp"], event["message"])
            for event in events[max(too_old_end, expired_end) : too_new_start]
        ]
        if accepted:
            written = or_not_found(
                self._logs.put_events,
                ctx.account,
                ctx.region,
                group_name,
                stream,
                accepted,
                ingestion_time=now,
            )
        else:
            written = or_not_found(
                self._logs.get_stream, ctx.account, ctx.region, group_name, stream
            )
        output: dict[str, Any] = {"nextSequenceToken": sequence_token(written.batches)}
        rejected: dict[str, int] = {}
        if too_new_start < len(events):
            rejected["tooNewLogEventStartIndex"] = too_new_start
        if too_old_end:
            rejected["tooOldLogEventEndIndex"] = too_old_end
        if expired_end:
            rejected["expiredLogEventEndIndex"] = expired_end
        if rejected:
            output["rejectedLogEventsInfo"] = rejected
        return output

    def _window_start(self, ctx: RequestContext, group: str, start: int | None) -> int | None:
        """`start`, raised to the group's retention horizon: expired events are never read."""
        found = self._logs.get_group(ctx.account, ctx.region, group)
        if found is None:
            raise not_found("log group")
        if found.retention_days is None:
            return start
        horizon = round(ctx.now * 1000) - found.retention_days * DAY_MS
        return horizon if start is None else max(start, horizon)

    @operation("GetLogEvents")
    def get_log_events(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        group = self.group_named(ctx, request)
        requested_start, end = request.get("startTime"), request.get("endTime")
        position: Position | None = None
        if "nextToken" in request:
            forward, position = parse_event_token(request["nextToken"])
        else:
            forward = bool(request.get("startFromHead", False))
        events = or_not_found(
            self._logs.read_stream,
            ctx.account,
            ctx.region,
            group,
            request["logStreamName"],
            limit=request.get("limit", DEFAULT_EVENT_LIMIT),
            forward=forward,
            position=position,
            start=self._window_start(ctx, group, requested_start),
            end=end,
        )
        # A full response keeps the events nearest to where the read started.
        kept = _within_response(events) if forward else _within_response(events[::-1])[::-1]
        if kept:
            ahead, behind = kept[-1].next_position, kept[0].position
        else:
            if position is None:
                # Nothing in the window: both tokens name its start, so reading forward from
                # there later finds whatever has arrived since.
                position = (requested_start or 0, 0)
            ahead = behind = position
        return {
            "events": [
                {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time}
                for e in kept
            ],
            "nextForwardToken": event_token("f", ahead),
            "nextBackwardToken": event_token("b", behind),
        }

    @operation("FilterLogEvents")
    def filter_log_events(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        group = self.group_named(ctx, request)
        names, prefix = request.get("logStreamNames"), request.get("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise InvalidParameterException(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
            )
        pattern = request.get("filterPattern")
        query = {"g": group, "n": names, "p": prefix, "f": pattern}
        cursor = self.page_cursor("events", query, request.get("nextToken"))
        position: Position | None = None
        if cursor is None:
            forward = bool(request.get("startFromHead", True))
            start = request.get("startTime")
            if not forward and start is not None and start < DESCENDING_FILTER_EPOCH_MS:
                raise InvalidParameterException(
                    "startFromHead=false requires a startTime on or after Jan 1, 2024 00:00:00 UTC."
                )
        elif (
            isinstance(cursor, list)
            and len(cursor) == 3
            and isinstance(cursor[0], bool)
            and all(isinstance(part, int) for part in cursor[1:])
        ):
            forward, position = cursor[0], (cursor[1], cursor[2])
        else:
            raise InvalidParameterException(INVALID_TOKEN)
        end = request.get("endTime")
        try:
            page = or_not_found(
                self._logs.filter_events,
                ctx.account,
                ctx.region,
                group,
                limit=request.get("limit", DEFAULT_EVENT_LIMIT),
                forward=forward,
                pattern=pattern,
                stream_names=names,
                stream_prefix=prefix,
                position=position,
                start=self._window_start(ctx, group, request.get("startTime")),
                end=None if end is None else end + 1,  # FilterLogEvents' endTime is inclusive
            )
        except ValueError as error:  # the filter pattern
            raise InvalidParameterException(str(error)) from None
        kept = _within_response(page.events)
        next_position = page.next_position
        if len(kept) < len(page.events):
            next_position = kept[-1].next_position if forward else kept[-1].position
        output: dict[str, Any] = {
            "events": [
                {
                    "logStreamName": e.stream,
                    "timestamp": e.timestamp,
                    "message": e.message,
                    "ingestionTime": e.ingestion_time,
                    "eventId": f"{e.event_id:056d}",
                }
                for e in kept
            ],
            "searchedLogStreams": [],  # no longer filled in by CloudWatch since 2020
        }
        if next_position is not None:
            output["nextToken"] = self.page_token("events", query, [forward, *next_position])
        return output
