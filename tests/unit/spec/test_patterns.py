"""Every pattern in the served models compiles, and each translated Java construct keeps its
Java meaning."""

from __future__ import annotations

import pytest

from sagestack.spec.catalog import _loader
from sagestack.spec.patterns import compile_pattern, full_match, translate

SERVICES = ["sagemaker", "sagemaker-runtime", "s3", "sts", "logs", "iam", "events", "cloudwatch"]
XML_CHARS = r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*"


@pytest.mark.parametrize("service", SERVICES)
def test_every_model_pattern_compiles(service: str) -> None:
    shapes = _loader().load_service_model(service, "service-2")["shapes"]
    patterns = {shape["pattern"] for shape in shapes.values() if "pattern" in shape}
    assert patterns
    for pattern in patterns:
        compile_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        # Unicode properties and their negations
        (r"\p{L}+", "héllo", True),
        (r"\p{L}+", "h1", False),
        (r"\p{N}+", "\u06612", True),
        (r"\P{L}+", "12", True),
        (r"\P{L}+", "1a", False),
        (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", "team é 12:x", True),
        (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", "a#b", False),
        # Java's POSIX classes are ASCII-only
        (r"\p{ASCII}*", "plain~", True),
        (r"\p{ASCII}*", "é", False),
        (r"[\p{Alnum}\-]+", "aws-cn", True),
        (r"[\p{Alnum}\-]+", "é", False),
        (r"\p{Punct}+", "!/:@[`{~", True),
        (r"\p{Punct}+", "a", False),
        (r"\p{XDigit}+", "0aF9", True),
        (r"\p{XDigit}+", "g", False),
        (r"\P{Digit}+", "ab", True),
        (r"[a\P{Digit}]+", "a1", False),
        # shorthand classes are ASCII-only in Java
        (r"\w+", "a_1", True),
        (r"\w+", "é", False),
        (r"\d+", "\u0661", False),
        (r"\s", "\u2003", False),
        (r"\S+", "é", True),
        # anchors and line terminators
        (r"\A\S[\p{Print}]*\z", "x y", True),
        (r"\A\S[\p{Print}]*\z", " x", False),
        (r"a\Z", "a\r\n", False),  # Z only looks ahead; full match still needs the end
        (r".*", "a\rb", False),
        (r".*", "a\u2028", False),
        (r".*", "a\tb", True),
        # quantifiers, flags, class algebra
        (r"a*+a", "aaa", False),  # possessive: never gives back
        (r"a++b", "aab", True),
        (r"(?i)ab", "AB", True),
        (r"x(?i:a)b", "xAb", True),
        (r"x(?i:a)b", "xAB", False),
        (r"[a-z&&[^b]]+", "acd", True),
        (r"[a-z&&[^b]]+", "abc", False),
        (r"[a[0-9]]+", "a1", True),
        (r"[+--]+", ",+-", True),
        (r"[a||b]+", "a|b", True),
        (r"[]a]+", "]a", True),
        # escapes Java knows and Python does not (or reads differently)
        (XML_CHARS, "a😀\tb", True),
        (XML_CHARS, "a\x01", False),
        (r"\x{1F600}", "😀", True),
        (r"\Qa.b\E+", "a.b+", False),
        (r"\Qa.b\E", "a.b", True),
        (r"\Qa.b\E", "axb", False),
        (r"a\hb", "a\u00a0b", True),
        (r"a\Rb", "a\r\nb", True),
        (r"\e", "\x1b", True),
        (r"[\w-_]*", "a-b_c", True),
        (r"[\w-_]*", "a.b", False),
        # full-match semantics
        (r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?", "my-model", True),
        (r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?", "my-model-", False),
        (r"([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)${1,128}", "a b", True),
    ],
)
def test_java_constructs(pattern: str, value: str, matches: bool) -> None:
    assert full_match(pattern, value) is matches


def test_translation_leaves_plain_patterns_alone_and_caches() -> None:
    assert translate(r"[a-z]+\.[0-9]{2}") == r"[a-z]+\.[0-9]{2}"
    assert translate(r"\P{Digit}") == "[^0-9]"
    assert compile_pattern(r"[a-z]+") is compile_pattern(r"[a-z]+")
