"""Pure S3 rules: byte ranges, bucket names, tag sets."""

from __future__ import annotations

import pytest

from sagestack.services.s3.conditions import byte_range, check_bucket_name, parse_tagging
from sagestack.spec.errors import ServiceError


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=3-", 10, (3, 9)),
        ("bytes=-4", 10, (6, 9)),
        ("bytes=5-500", 10, (5, 9)),
        ("bytes=4-2", 10, None),  # unreadable: the whole object, as S3 does
        ("bytes=0-1,4-5", 10, None),  # several ranges: the whole object
        ("items=0-1", 10, None),
    ],
)
def test_byte_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=0-", 0), ("bytes=-0", 5)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(ServiceError) as excinfo:
        byte_range(header, size)
    assert (excinfo.value.code, excinfo.value.status) == ("InvalidRange", 416)


@pytest.mark.parametrize(
    "name", ["abc", "my.bucket-1", "sagemaker-us-east-1-000000000000", "a" * 63]
)
def test_valid_bucket_names(name: str) -> None:
    check_bucket_name(name)


@pytest.mark.parametrize(
    "name", ["ab", "a" * 64, "A-b", "a_b", "a..b", "a.-b", "-ab", "ab-", "10.0.0.1", "sthree-x"]
)
def test_invalid_bucket_names(name: str) -> None:
    with pytest.raises(ServiceError) as excinfo:
        check_bucket_name(name)
    assert excinfo.value.code == "InvalidBucketName"


def test_tagging_header() -> None:
    assert parse_tagging("a=1&b=&c%20d=e%26f") == {"a": "1", "b": "", "c d": "e&f"}
    with pytest.raises(ServiceError):
        parse_tagging("a=1&a=2")
    with pytest.raises(ServiceError):
        parse_tagging("k=" + "v" * 257)
