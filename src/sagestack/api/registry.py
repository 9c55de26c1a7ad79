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


def operation(name: str) -> Callable[[_F], _F]:
    """Mark a method as the handler of the AWS operation `name` (its exact AWS spelling)."""

    def mark(func: _F) -> _F:
        setattr(func, _MARK, name)
        return func

    return mark


class OperationRegistry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], tuple[Handler, bool]] = {}

    def register(self, service: str, api: object) -> None:
        """Register every `@operation` method of `api` for `service`."""
        for _, method in inspect.getmembers(api, inspect.ismethod):
            name = getattr(method, _MARK, None)
            if name is None:
                continue
            key = (service, name)
            if key in self._handlers:
                raise ValueError(f"{service}.{name} is registered twice")
            self._handlers[key] = (method, inspect.iscoroutinefunction(method))

    def lookup(self, service: str, operation_name: str) -> tuple[Handler, bool] | None:
        """The handler and whether it is a coroutine function, or None when not implemented."""
        return self._handlers.get((service, operation_name))

    def implemented(self, service: str) -> set[str]:
        return {name for (svc, name) in self._handlers if svc == service}
