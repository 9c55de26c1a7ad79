"""The operation registry: `@operation("CreateModel")` marks a handler method; the registry maps
(service, operation) to the bound handler of a service API object."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sagestack.api.context import RequestContext

Params = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[RequestContext, Params], Output | Awaitable[Output]]

_F = TypeVar("_F", bound=Callable[..., Any])
_MARK = "__sagestack_operation__"
_STREAMS = "__sagestack_streams_body__"


def operation(name: str, *, streams_body: bool = False) -> Callable[[_F], _F]:
    """Mark a method as the handler of the AWS operation `name` (its exact AWS spelling).

    With `streams_body` the handler (a coroutine) gets the request's blob payload as a
    `BodyStream` to read as it arrives, instead of bytes read whole before it is called.
    """

    def mark(func: _F) -> _F:
        setattr(func, _MARK, name)
        setattr(func, _STREAMS, streams_body)
        return func

    return mark


class OperationRegistry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], tuple[Handler, bool]] = {}
        self._streaming: set[tuple[str, str]] = set()

    def register(self, service: str, api: object) -> None:
        """Register every `@operation` method of `api` for `service`."""
        for _, method in inspect.getmembers(api, inspect.ismethod):
            name = getattr(method, _MARK, None)
            if name is None:
                continue
            key = (service, name)
            if key in self._handlers:
                raise ValueError(f"{service}.{name} is registered twice")
            is_async = inspect.iscoroutinefunction(method)
            self._handlers[key] = (method, is_async)
            if getattr(method, _STREAMS, False):
                if not is_async:
                    raise ValueError(f"{service}.{name} streams its body, so must be async")
                self._streaming.add(key)

    def lookup(self, service: str, operation_name: str) -> tuple[Handler, bool] | None:
        """The handler and whether it is a coroutine function, or None when not implemented."""
        return self._handlers.get((service, operation_name))

    def streams_body(self, service: str, operation_name: str) -> bool:
        return (service, operation_name) in self._streaming

    def implemented(self, service: str) -> set[str]:
        return {name for (svc, name) in self._handlers if svc == service}
