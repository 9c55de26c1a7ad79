"""The model's regular expressions, written in Java syntax, made usable from Python.

The `regex` library understands Unicode general categories (`\\p{L}`, `\\p{Zs}`, ...), which the
standard `re` does not. What remains is translated here: Java's ASCII-only POSIX classes
(`\\p{Alnum}`, `\\p{Print}`, `\\p{ASCII}`, ...), UTF-16 surrogate pairs (Java patterns describe
astral characters as pairs of surrogates), `\\z`, and `[\\w-_]`-style ranges Java reads as literals.
Patterns carry no anchors in the model; callers use full-match semantics.
"""

from __future__ import annotations

from functools import cache

import regex

#: Java's POSIX classes are ASCII-only; their members as class-body text.
_POSIX_CLASSES = {
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
_SHORTHAND = frozenset("wWdDsS")


def _surrogate_pair(pattern: str, at: int) -> int | None:
    """The astral code point a `\\uD8xx\\uDCxx` pair at `at` stands for, else None."""
    high, low = pattern[at + 2 : at + 6], pattern[at + 8 : at + 12]
    if pattern[at : at + 2] != "\\u" or pattern[at + 6 : at + 8] != "\\u":
        return None
    try:
        hi, lo = int(high, 16), int(low, 16)
    except ValueError:
        return None
    if 0xD800 <= hi <= 0xDBFF and 0xDC00 <= lo <= 0xDFFF:
        return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
    return None


def translate(pattern: str) -> str:
    """Java regex syntax → syntax the `regex` library reads with the same meaning."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            astral = _surrogate_pair(pattern, i)
            if astral is not None:
                out.append(f"\\U{astral:08X}")
                i += 12
                continue
            if nxt in "pP" and pattern[i + 2 : i + 3] == "{":
                end = pattern.index("}", i)
                name = pattern[i + 3 : end]
                if name in _POSIX_CLASSES:
                    body = _POSIX_CLASSES[name]
                    negate = "^" if nxt == "P" else ""
                    if in_class and not negate:
                        out.append(body)
                    else:
                        out.append(f"[{negate}{body}]")
                    i = end + 1
                    continue
            if nxt == "z":
                out.append("\\Z")
                i += 2
                continue
            if nxt == "Z":
                out.append("(?=\\n?\\Z)")
                i += 2
                continue
            if in_class and nxt in _SHORTHAND and pattern[i + 2 : i + 3] == "-":
                # Java reads "[\w-_]" as \w, '-', '_'; make the hyphen literal.
                out.append(pattern[i : i + 2] + "\\-")
                i += 3
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":  # a leading ']' is a literal
                out.append("\\]")
                i += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        else:
            out.append(char)
        i += 1
    return "".join(out)


@cache
def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """The compiled form of a model pattern (cached: each pattern is translated once)."""
    return regex.compile(translate(pattern), flags=regex.VERSION0)


def full_match(pattern: str, value: str) -> bool:
    return compile_pattern(pattern).fullmatch(value) is not None
