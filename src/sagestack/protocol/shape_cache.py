"""Compile-once caches of per-shape functions (readers, writers), safe for recursive shapes.

botocore makes a fresh `Shape` object at every reference, so functions are cached by what makes
two references behave alike: the shape's name, type and merged serialization traits. A shape
met again while it is still being compiled (a recursive shape) gets a stub that forwards to the
finished function.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from botocore.model import Shape

Compiled = TypeVar("Compiled")


def shape_key(shape: Shape, *extra: Hashable) -> tuple[Hashable, ...]:
    return (shape.name, shape.type_name, repr(sorted(shape.serialization.items())), *extra)


def compile_once(
    cache: dict[tuple[Hashable, ...], Compiled],
    key: tuple[Hashable, ...],
    build: Callable[[], Compiled],
) -> Compiled:
    """`cache[key]`, built by `build` on first use. A function compiled to None means "values
    pass through unchanged"; a stub for one hands back its first argument."""
    if key in cache:
        return cache[key]
    cell: list[Any] = []

    def forward(*args: Any) -> Any:
        target = cell[0]
        return args[0] if target is None else target(*args)

    cache[key] = cast(Compiled, forward)
    built = build()
    cell.append(built)
    cache[key] = built
    return built
