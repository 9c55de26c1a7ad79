"""The term filter-pattern syntax of CloudWatch Logs, as a pure matcher."""

from __future__ import annotations

import pytest

from sagestack.observability.filter_patterns import (
    FilterPatternError,
    TermPattern,
    compile_pattern,
    parse,
)


def test_parse_sorts_terms_by_kind() -> None:
    assert parse('ERROR "disk full" -DEBUG ?a ?"b c"') == TermPattern(
        required=("ERROR", "disk full"), excluded=("DEBUG",), any_of=("a", "b c")
    )


def test_escapes_inside_quotes() -> None:
    assert parse(r'"say \"hi\"" "back\\slash"').required == ('say "hi"', "back\\slash")


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("ERROR", "an ERROR here", True),
        ("ERROR", "an error here", False),  # case-sensitive
        ("ERR", "ERROR", True),  # substring
        ("ERROR disk", "disk ERROR", True),  # order does not matter
        ("ERROR disk", "ERROR only", False),
        ('"disk full"', "the disk is full", False),
        ('"disk full"', "disk full!", True),
        ("ERROR -retry", "ERROR will retry", False),
        ("ERROR -retry", "ERROR fatal", True),
        ("?ERROR ?WARN", "WARN low", True),
        ("?ERROR ?WARN", "INFO fine", False),
        ("?ERROR ?WARN -test", "ERROR in test", False),
        ("app ?ERROR ?WARN", "app WARN", True),
        ("app ?ERROR ?WARN", "lib WARN", False),
        ("  ", "anything", True),
    ],
)
def test_matching(pattern: str, message: str, expected: bool) -> None:
    assert compile_pattern(pattern)(message) is expected


def test_no_pattern_matches_everything() -> None:
    assert compile_pattern(None)("x")
    assert compile_pattern("")("")


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ('{ $.level = "error" }', "JSON"),
        ("[ip, user, ...]", "Space-delimited"),
        ("%ERR.*%", "Regular expression"),
        ('"open', "unterminated"),
        ('""', "empty"),
        ('ab"c"', "quote"),
        ("ERROR -", "followed by a term"),
        ("? x", "followed by a term"),
    ],
)
def test_malformed_and_unsupported_patterns(pattern: str, words: str) -> None:
    with pytest.raises(FilterPatternError, match=words):
        compile_pattern(pattern)
