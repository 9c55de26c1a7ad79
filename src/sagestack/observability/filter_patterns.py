"""CloudWatch Logs filter patterns for unstructured events: the term syntax.

A pattern is a list of terms separated by spaces. Matching is case-sensitive and by substring:

- ``ERROR Exception``: every plain term must occur (AND);
- ``"Connection reset"``: a double-quoted phrase is one term (spaces and punctuation included;
  ``\\"`` and ``\\\\`` escape inside quotes);
- ``-DEBUG``: a term after a minus sign must not occur;
- ``?ERROR ?WARN``: at least one of the question-marked terms must occur.

Kinds combine: ``?ERROR ?WARN -heartbeat`` matches events with ERROR or WARN and no heartbeat. An
empty pattern matches everything. JSON patterns (``{ $.level = "error" }``), space-delimited
patterns (``[ip, user, ...]``) and regular expressions (``%...%``) are recognised and refused
with `FilterPatternError`, so a caller can answer InvalidParameterException instead of
silently matching the wrong events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Matcher = Callable[[str], bool]


class FilterPatternError(ValueError):
    """The pattern is malformed or uses a syntax sagestack does not support yet."""


@dataclass(frozen=True, slots=True)
class TermPattern:
    """A parsed term pattern: what must, must not, and (any one of) may occur."""

    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    def matches(self, message: str) -> bool:
        if not all(term in message for term in self.required):
            return False
        if any(term in message for term in self.excluded):
            return False
        return not self.any_of or any(term in message for term in self.any_of)


_UNSUPPORTED = {
    "{": 'JSON filter patterns are not supported yet; use terms such as ERROR or "a phrase".',
    "[": "Space-delimited filter patterns are not supported yet; use terms such as ERROR.",
    "%": "Regular expression filter patterns are not supported yet; use terms such as ERROR.",
}


def parse(pattern: str) -> TermPattern:
    """Parse a term pattern; FilterPatternError for malformed or unsupported syntax."""
    text = pattern.strip()
    if text and text[0] in _UNSUPPORTED:
        raise FilterPatternError(_UNSUPPORTED[text[0]])
    required: list[str] = []
    excluded: list[str] = []
    any_of: list[str] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        bucket = required
        if text[position] in "-?":
            bucket = excluded if text[position] == "-" else any_of
            position += 1
            if position == len(text) or text[position].isspace():
                raise FilterPatternError(
                    f"Invalid filter pattern {pattern!r}: '{text[position - 1]}' must be "
                    "followed by a term."
                )
        term, position = _term(text, position, pattern)
        bucket.append(term)
    return TermPattern(tuple(required), tuple(excluded), tuple(any_of))


def _term(text: str, position: int, pattern: str) -> tuple[str, int]:
    """The term starting at `position` and the index just past it."""
    if text[position] != '"':
        end = position
        while end < len(text) and not text[end].isspace():
            if text[end] == '"':
                raise FilterPatternError(
                    f"Invalid filter pattern {pattern!r}: a quote may only start a term."
                )
            end += 1
        return text[position:end], end
    chars: list[str] = []
    index = position + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in '"\\':
            chars.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            if not chars:
                raise FilterPatternError(f"Invalid filter pattern {pattern!r}: empty phrase.")
            return "".join(chars), index + 1
        chars.append(char)
        index += 1
    raise FilterPatternError(f"Invalid filter pattern {pattern!r}: unterminated quote.")


def compile_pattern(pattern: str | None) -> Matcher:
    """A predicate over messages for `pattern` (None or blank: everything matches)."""
    if pattern is None or not pattern.strip():
        return _everything
    return parse(pattern).matches


def _everything(message: str) -> bool:
    del message
    return True
