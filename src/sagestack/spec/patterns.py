"""The model's regular expressions, written in Java syntax, made usable from Python.

The patterns compile with the `regex` library in its VERSION1 mode, which already reads Java's
Unicode properties (`\\p{L}`, `\\p{Zs}`, `\\p{IsLatin}`), possessive quantifiers, nested classes
(`[a[0-9]]`), intersections (`[a-z&&[^b]]`) and scoped inline flags. What remains is translated:

- Java's POSIX classes are ASCII-only: `\\p{Alnum}`, `\\p{Punct}`, `\\p{Print}`, `\\p{ASCII}` ...
  and their `\\P{..}` negations;
- `\\w \\d \\s` (and negations) are ASCII-only in Java, Unicode-aware in Python;
- `.` stops at every Java line terminator, not just `\\n`;
- UTF-16 surrogate pairs (`\\uD800\\uDC00`) name one astral code point;
- `\\z`, `\\Z`, `\\h`, `\\v`, `\\R`, `\\e`, `\\x{..}` and `\\Q..\\E` quoting;
- inside a class, `[\\w-_]` is a literal hyphen, and VERSION1's set operators `||`, `--`, `~~`
  are plain characters in Java.

The model's patterns carry no anchors: callers use full-match semantics (`Pattern.matches`).
"""

from __future__ import annotations

from functools import cache

import regex

#: Java's POSIX classes (ASCII-only) as class-body text.
_POSIX = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7F",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1F\\x7F",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0B\\f\\r",
}
_LINE_TERMINATORS = "\\n\\r\\x85\\u2028\\u2029"
#: Escapes whose class meaning differs between Java and Python, as class-body text.
_CLASS_ESCAPES = {
    "w": "a-zA-Z0-9_",
    "d": "0-9",
    "s": " \\t\\n\\x0B\\f\\r",
    "h": " \\t\\xA0\\u1680\\u180E\\u2000-\\u200A\\u202F\\u205F\\u3000",
    "v": "\\n\\x0B\\f\\r\\x85\\u2028\\u2029",
}
#: Escapes that translate to a fixed text wherever they stand.
_FIXED_ESCAPES = {
    "z": "\\Z",
    "Z": "(?=(?:\\r\\n|[" + _LINE_TERMINATORS + "])?\\Z)",
    "R": "(?:\\r\\n|[\\n\\x0B\\f\\r\\x85\\u2028\\u2029])",
    "e": "\\x1B",
}


def _surrogate_pair(pattern: str, at: int) -> int | None:
    """The astral code point a `\\uD8xx\\uDCxx` pair at `at` stands for, else None."""
    if pattern[at : at + 2] != "\\u" or pattern[at + 6 : at + 8] != "\\u":
        return None
    try:
        high, low = int(pattern[at + 2 : at + 6], 16), int(pattern[at + 8 : at + 12], 16)
    except ValueError:
        return None
    if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
        return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
    return None


def _class_text(body: str, negate: bool, in_class: bool) -> str:
    """A class body as a standalone class, or spliced into the enclosing one."""
    if in_class and not negate:
        return body
    return f"[{'^' if negate else ''}{body}]"


class _Translator:
    """One left-to-right pass over a Java pattern, tracking class nesting."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.out: list[str] = []
        self.depth = 0  # nesting of character classes
        self.at = 0

    def run(self) -> str:
        while self.at < len(self.pattern):
            char = self.pattern[self.at]
            if char == "\\" and self.at + 1 < len(self.pattern):
                self._escape()
            elif char == "[":
                self._open_class()
            elif char == "]" and self.depth:
                self.depth -= 1
                self._emit("]", 1)
            elif self.depth and self._set_operator(char):
                self._emit("\\" + char, 1)
            elif char == "." and not self.depth:
                self._emit(f"[^{_LINE_TERMINATORS}]", 1)
            else:
                self._emit(char, 1)
        return "".join(self.out)

    def _emit(self, text: str, consumed: int) -> None:
        self.out.append(text)
        self.at += consumed

    def _set_operator(self, char: str) -> bool:
        """Whether `char` must be escaped so VERSION1 reads no `||`, `~~` or `--` operator
        where Java sees plain characters (`[+--]` stays the range '+'..'-')."""
        if char in "|~":
            return True
        return char == "-" and self.out[-1] == "-"

    def _open_class(self) -> None:
        self.depth += 1
        self._emit("[", 1)
        if self.pattern.startswith("^", self.at):
            self._emit("^", 1)
        if self.pattern.startswith("]", self.at):  # a leading ']' is a literal
            self._emit("\\]", 1)

    def _escape(self) -> None:
        pattern, at, in_class = self.pattern, self.at, self.depth > 0
        name = pattern[at + 1]
        astral = _surrogate_pair(pattern, at)
        if astral is not None:
            self._emit(f"\\U{astral:08X}", 12)
        elif name in "pP" and pattern[at + 2 : at + 3] == "{":
            end = pattern.index("}", at)
            body = _POSIX.get(pattern[at + 3 : end])
            if body is None:  # a Unicode property: `regex` reads it as Java does
                self._emit(pattern[at : end + 1], end + 1 - at)
            else:
                self._emit(_class_text(body, name == "P", in_class), end + 1 - at)
        elif name.lower() in _CLASS_ESCAPES:
            body = _CLASS_ESCAPES[name.lower()]
            text = _class_text(body, name.isupper(), in_class)
            if in_class and pattern[at + 2 : at + 3] == "-":  # Java: "[\w-_]" has a literal '-'
                self._emit(text + "\\-", 3)
            else:
                self._emit(text, 2)
        elif name in _FIXED_ESCAPES:
            self._emit(_FIXED_ESCAPES[name], 2)
        elif name == "x" and pattern[at + 2 : at + 3] == "{":
            end = pattern.index("}", at)
            self._emit(f"\\U{int(pattern[at + 3 : end], 16):08X}", end + 1 - at)
        elif name == "Q":
            end = pattern.find("\\E", at + 2)
            stop = len(pattern) if end < 0 else end
            quoted = regex.escape(pattern[at + 2 : stop])
            self._emit(quoted, stop + (2 if end >= 0 else 0) - at)
        else:
            self._emit(pattern[at : at + 2], 2)


def translate(pattern: str) -> str:
    """Java regex syntax → `regex` VERSION1 syntax with the same meaning."""
    return _Translator(pattern).run()


@cache
def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """The compiled form of a model pattern (cached: each pattern is translated once)."""
    return regex.compile(translate(pattern), flags=regex.VERSION1)


def full_match(pattern: str, value: str) -> bool:
    """Whether `value` matches the whole of the Java `pattern`, as `String.matches` does."""
    return compile_pattern(pattern).fullmatch(value) is not None
