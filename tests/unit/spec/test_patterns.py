"""Every pattern in the served models compiles, and each translated Java construct keeps its
Java meaning."""

from __future__ import annotations

import pytest

from sagestack.spec.catalog import _loader
from sagestack.spec.patterns import compile_pattern, full_match, translate

SERVICES = ["sagemaker", "sagemaker-runtime", "s3", "sts", "logs", "iam", "events", "cloudwatch"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_model_pattern_compiles(service: str) -> None:
    shapes = _loader().load_service_model(service, "service-2")["shapes"]
    patterns = {shape["pattern"] for shape in shapes.values() if "pattern" in shape}
    for pattern in patterns:
        compile_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (r"\p{L}+", "héllo", True),
        (r"\p{L}+", "h1", False),
        (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", "team é 12:x", True),
        (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", "a#b", False),
        (r"\p{ASCII}*", "plain", True),
        (r"\p{ASCII}*", "é", False),
        (r"[\p{Alnum}\-]+", "aws-cn", True),
        (r"[\p{Alnum}\-]+", "é", False),  # Java's \p{Alnum} is ASCII-only
        (r"\A\S[\p{Print}]*\z", "x y", True),
        (r"\A\S[\p{Print}]*\z", " x", False),
        (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*", "a😀\tb", True),
        (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*", "a\x01", False),
        (r"[\w-_]*", "a-b_c", True),
        (r"[\w-_]*", "a.b", False),
        (r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?", "my-model", True),
        (r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?", "my-model-", False),  # full match
    ],
)
def test_java_constructs(pattern: str, value: str, matches: bool) -> None:
    assert full_match(pattern, value) is matches


def test_translation_leaves_plain_patterns_alone() -> None:
    assert translate(r"[a-z]+\.[0-9]{2}") == r"[a-z]+\.[0-9]{2}"
    assert translate(r"\P{Digit}") == "[^0-9]"
