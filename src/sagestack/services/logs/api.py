"""The CloudWatch Logs API sagestack serves: what SageMaker's clients call to read training
and endpoint logs, and what anyone needs to write and search their own."""

from __future__ import annotations

from sagestack.services.logs.events import LogEventsOps
from sagestack.services.logs.groups import LogGroupsOps
from sagestack.services.logs.streams import LogStreamsOps


class LogsApi(LogGroupsOps, LogStreamsOps, LogEventsOps):
    """Every implemented Logs operation, built on one log store and the token codec:
    `LogsApi(log_store, tokens)`."""
