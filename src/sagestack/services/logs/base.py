"""What every part of the Logs API shares: its errors, ARNs, the log group a request names,
and signed paging tokens for the listings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from sagestack.api.context import RequestContext
from sagestack.services.logs.backend import LogBackend
from sagestack.spec.errors import ServiceError
from sagestack.spec.pagination import InvalidToken, TokenCodec
from sagestack.store.base import RecordNotFound

_P = ParamSpec("_P")
_T = TypeVar("_T")

INVALID_TOKEN = "The specified nextToken is invalid."


class InvalidParameterException(ServiceError):
    code = "InvalidParameterException"
    status = 400


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"
    status = 400


class ResourceAlreadyExistsException(ServiceError):
    code = "ResourceAlreadyExistsException"
    status = 400


class TooManyTagsException(ServiceError):
    code = "TooManyTagsException"
    status = 400


def not_found(kind: str) -> ResourceNotFoundException:
    """AWS's words for a missing "log group" or "log stream" (the kind a store miss names)."""
    return ResourceNotFoundException(f"The specified {kind} does not exist.")


def already_exists(kind: str) -> ResourceAlreadyExistsException:
    return ResourceAlreadyExistsException(f"The specified {kind} already exists")


def or_not_found(method: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Call a log store method, answering a miss with the ResourceNotFoundException that names
    what was missing."""
    try:
        return method(*args, **kwargs)
    except RecordNotFound as error:
        raise not_found(str(error)) from None


def group_arn(ctx: RequestContext, name: str) -> str:
    """The log group's ARN without the trailing `:*` (`logGroupArn`, tagging, identifiers)."""
    return f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:{name}"


def stream_arn(ctx: RequestContext, group: str, stream: str) -> str:
    return f"{group_arn(ctx, group)}:log-stream:{stream}"


def group_from_arn(ctx: RequestContext, arn: str) -> str | None:
    """The log group name in an ARN of the caller's account and region (a trailing `:*` is
    accepted), or None when the ARN names anything else."""
    prefix = f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:"
    if not arn.startswith(prefix):
        return None
    name = arn[len(prefix) :].removesuffix(":*")
    return name if name and ":" not in name else None


class LogsApiBase:
    def __init__(self, logs: LogBackend, tokens: TokenCodec) -> None:
        self._logs = logs
        self._tokens = tokens

    def group_named(self, ctx: RequestContext, request: Mapping[str, Any]) -> str:
        """The log group of a request that takes `logGroupName` or `logGroupIdentifier`."""
        name, identifier = request.get("logGroupName"), request.get("logGroupIdentifier")
        if name is not None and identifier is not None:
            raise InvalidParameterException(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters."
            )
        if name is not None:
            return str(name)
        if identifier is None:
            raise InvalidParameterException(
                "Either logGroupName or logGroupIdentifier must be specified."
            )
        if not identifier.startswith("arn:"):
            return str(identifier)
        found = group_from_arn(ctx, identifier)
        if found is None:
            raise not_found("log group")
        return found

    def page_token(self, listing: str, query: Mapping[str, Any], cursor: Any) -> str:
        """A nextToken that continues `listing` with the same `query` after `cursor`."""
        return self._tokens.encode({"l": listing, "q": dict(query), "c": cursor})

    def page_cursor(self, listing: str, query: Mapping[str, Any], token: str | None) -> Any:
        """The cursor inside a nextToken (None without one); InvalidParameterException when the
        token is forged, or was issued for another listing or other filters."""
        if token is None:
            return None
        try:
            payload = self._tokens.decode(token)
        except InvalidToken:
            raise InvalidParameterException(INVALID_TOKEN) from None
        if payload.get("l") != listing or payload.get("q") != dict(query) or "c" not in payload:
            raise InvalidParameterException(INVALID_TOKEN)
        return payload["c"]
