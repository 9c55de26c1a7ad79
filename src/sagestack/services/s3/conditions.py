"""Pure S3 request rules: byte ranges, conditional requests, tag sets, bucket names."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from sagestack.services.s3.errors import (
    invalid_range,
    invalid_tag,
    not_modified,
    precondition_failed,
    s3_error,
)

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte a Range header asks for, or None for the whole object.

    As S3 does: a header it cannot parse (or several ranges) is ignored; a range starting at or
    past the end is InvalidRange (416); a suffix range longer than the object is the object.
    """
    if header is None:
        return None
    found = _RANGE.fullmatch(header.strip())
    if found is None or (not found[1] and not found[2]):
        return None
    if not found[1]:  # bytes=-N: the last N bytes
        length = int(found[2])
        if length == 0 or size == 0:
            raise invalid_range(header, size)
        return max(0, size - length), size - 1
    first = int(found[1])
    if found[2] and int(found[2]) < first:
        return None
    last = int(found[2]) if found[2] else size - 1
    if first >= size:
        raise invalid_range(header, size)
    return first, min(last, size - 1)


def _etags(header: str) -> set[str]:
    return {item.strip().strip('"') for item in header.split(",")}


def _seconds(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def check_read(request: dict[str, Any], etag: str, modified: float, *, prefix: str = "") -> None:
    """Apply If-Match / If-None-Match / If-(Un)Modified-Since (RFC 7232 precedence, as S3).

    With `prefix` "CopySource" the x-amz-copy-source-if-* forms are checked, and every failure
    is PreconditionFailed (a copy has no 304).
    """
    if_match = request.get(f"{prefix}IfMatch")
    if_none_match = request.get(f"{prefix}IfNoneMatch")
    since = request.get(f"{prefix}IfModifiedSince")
    unmodified_since = request.get(f"{prefix}IfUnmodifiedSince")
    seconds = int(modified)
    header = "x-amz-copy-source-" if prefix else ""
    if if_match is not None:
        if "*" not in _etags(if_match) and etag not in _etags(if_match):
            raise precondition_failed(f"{header}If-Match")
    elif unmodified_since is not None and seconds > _seconds(unmodified_since):
        raise precondition_failed(f"{header}If-Unmodified-Since")
    if if_none_match is not None:
        if "*" in _etags(if_none_match) or etag in _etags(if_none_match):
            if prefix:
                raise precondition_failed(f"{header}If-None-Match")
            raise not_modified()
    elif since is not None and seconds <= _seconds(since):
        if prefix:
            raise precondition_failed(f"{header}If-Modified-Since")
        raise not_modified()


def parse_tagging(header: str) -> dict[str, str]:
    """The x-amz-tagging header (URL query form) as a tag set."""
    return checked_tags(parse_qsl(header, keep_blank_values=True))


def checked_tags(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise invalid_tag("Cannot provide multiple Tags with the same key")
        if not 1 <= len(key) <= 128:
            raise invalid_tag("The TagKey you have provided is invalid")
        if len(value) > 256:
            raise invalid_tag("The TagValue you have provided is invalid")
        tags[key] = value
    if len(tags) > 10:
        raise invalid_tag("Object tags cannot be greater than 10")
    return tags


_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name: str) -> None:
    """S3's general-purpose bucket naming rules; InvalidBucketName otherwise."""
    valid = (
        _BUCKET_NAME.fullmatch(name) is not None
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not name.startswith(_RESERVED_PREFIXES)
        and not name.endswith(_RESERVED_SUFFIXES)
        and not _is_ip_address(name)
    )
    if not valid:
        raise s3_error(
            "InvalidBucketName", 400, "The specified bucket is not valid.", BucketName=name
        )


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True
