"""A JSON object read from the store, decoded only when first read.

Listing pages hand back many records whose spec and state nobody reads (a ListModels summary
needs only columns); decoding those on demand keeps a 100-row page cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


class JsonDocument(Mapping[str, Any]):
    __slots__ = ("_decoded", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._decoded: dict[str, Any] | None = None

    def _value(self) -> dict[str, Any]:
        if self._decoded is None:
            self._decoded = json.loads(self._text)
        return self._decoded

    def __getitem__(self, key: str) -> Any:
        return self._value()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._value())

    def __len__(self) -> int:
        return len(self._value())

    def __eq__(self, other: object) -> bool:
        return self._value() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"JsonDocument({self._text if self._decoded is None else self._decoded!r})"

    def to_json(self) -> str:
        """The compact JSON text (re-encoded if the decoded value may have been changed)."""
        if self._decoded is None:
            return self._text
        return json.dumps(self._decoded, separators=(",", ":"))
