"""Log streams: CreateLogStream, DescribeLogStreams, DeleteLogStream.

DescribeLogStreams returns a nextToken only when another stream really follows the page: the
SageMaker Python SDK 2.x tails training logs with `limit=instance_count` and never passes a
token back, so a token after a complete listing would make it loop forever.
"""

from __future__ import annotations

from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.services.logs.backend import LogStreamView
from sagestack.services.logs.base import (
    INVALID_TOKEN,
    InvalidParameterException,
    LogsApiBase,
    already_exists,
    not_found,
    or_not_found,
    stream_arn,
)
from sagestack.spec.errors import ValidationException
from sagestack.store.base import RecordExists

DEFAULT_LIMIT = 50


def sequence_token(batches: int) -> str:
    """The (ignored) upload sequence token of a stream that has taken `batches` batches, in
    the 56-digit form CloudWatch's tokens have."""
    return f"{batches:056d}"


def described_stream(ctx: RequestContext, group: str, stream: LogStreamView) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "logStreamName": stream.name,
        "creationTime": stream.creation_time,
        "firstEventTimestamp": stream.first_event,
        "lastEventTimestamp": stream.last_event,
        "lastIngestionTime": stream.last_ingestion,
        "uploadSequenceToken": sequence_token(stream.batches) if stream.batches else None,
        "arn": stream_arn(ctx, group, stream.name),
        "storedBytes": 0,  # always zero for streams since 2019; groups carry the figure
    }
    return {key: value for key, value in shown.items() if value is not None}


class LogStreamsOps(LogsApiBase):
    @operation("CreateLogStream")
    def create_log_stream(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        try:
            or_not_found(
                self._logs.create_stream,
                ctx.account,
                ctx.region,
                request["logGroupName"],
                request["logStreamName"],
                creation_time=round(ctx.now * 1000),
            )
        except RecordExists as error:
            raise already_exists(str(error)) from None
        return {}

    @operation("DeleteLogStream")
    def delete_log_stream(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        group, stream = request["logGroupName"], request["logStreamName"]
        found = self._logs.get_group(ctx.account, ctx.region, group)
        if found is None:
            raise not_found("log group")
        if found.deletion_protection:
            raise ValidationException(
                f"Log group {group} has deletion protection enabled; disable it before "
                "deleting its log streams."
            )
        or_not_found(self._logs.delete_stream, ctx.account, ctx.region, group, stream)
        return {}

    @operation("DescribeLogStreams")
    def describe_log_streams(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        group = self.group_named(ctx, request)
        prefix = request.get("logStreamNamePrefix")
        by_last_event = request.get("orderBy", "LogStreamName") == "LastEventTime"
        if by_last_event and prefix is not None:
            raise InvalidParameterException(
                "Cannot order by LastEventTime with a logStreamNamePrefix."
            )
        descending = bool(request.get("descending", False))
        query = {"g": group, "p": prefix, "o": by_last_event, "d": descending}
        cursor = self.page_cursor("streams", query, request.get("nextToken"))
        after = None
        if cursor is not None:
            if not (isinstance(cursor, list) and len(cursor) == 2 and isinstance(cursor[1], str)):
                raise InvalidParameterException(INVALID_TOKEN)
            after = (cursor[0], cursor[1])
        limit = request.get("limit", DEFAULT_LIMIT)
        streams = or_not_found(
            self._logs.list_streams,
            ctx.account,
            ctx.region,
            group,
            limit=limit + 1,
            prefix=prefix,
            by_last_event=by_last_event,
            descending=descending,
            after=after,
        )
        page = list(streams[:limit])
        output: dict[str, Any] = {
            "logStreams": [described_stream(ctx, group, stream) for stream in page]
        }
        if len(streams) > limit:
            last = page[-1]
            key: str | int = last.name
            if by_last_event:
                key = -1 if last.last_event is None else last.last_event
            output["nextToken"] = self.page_token("streams", query, [key, last.name])
        return output
