"""The HTTP request and response as the protocol layer sees them: plain data, no framework."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request, fully read.

    `path` is the raw (still percent-encoded) path without the query string; `query` is the
    decoded query string as ordered pairs (a key may repeat; a key without `=` has value "");
    `headers` keys are lower-case.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    host: str = ""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def query_value(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None


@dataclass(slots=True)
class HttpResponse:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
