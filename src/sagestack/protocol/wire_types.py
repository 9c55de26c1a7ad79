"""Scalar wire formats shared by every protocol: timestamps, blobs and header lists.

Timestamps leave as one of the three formats botocore knows (`iso8601`, `unixtimestamp`,
`rfc822`; a shape's `timestampFormat` trait overrides the protocol's default for its location)
and arrive in any of them; parsed timestamps are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

from botocore.model import Shape

ISO8601 = "iso8601"
UNIX = "unixtimestamp"
RFC822 = "rfc822"


def timestamp_format(shape: Shape, default: str) -> str:
    """The wire format of a timestamp shape: its `timestampFormat` trait, else `default`."""
    declared = shape.serialization.get("timestampFormat")
    return declared.lower() if isinstance(declared, str) else default


def epoch_seconds(value: Any) -> float | int:
    """A timestamp given as a datetime or as epoch seconds, in epoch seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        seconds = value.timestamp()
        return int(seconds) if seconds.is_integer() else round(seconds, 6)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return epoch_seconds(parse_timestamp(value))
    raise TypeError(f"not a timestamp: {value!r}")


def format_timestamp(value: Any, fmt: str) -> str | float | int:
    """`value` (datetime or epoch seconds) in wire format `fmt`; unixtimestamp stays a number."""
    seconds = epoch_seconds(value)
    if fmt == UNIX:
        return seconds
    if fmt == RFC822:
        return formatdate(int(seconds), usegmt=True)
    moment = datetime.fromtimestamp(seconds, UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def parse_timestamp(text: str) -> datetime:
    """A timestamp in any wire format (epoch seconds, ISO 8601, RFC 822); ValueError if none."""
    text = text.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError) as error:
            raise ValueError(f"not a timestamp: {text!r}") from error
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def timestamp_from_number(value: float | int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def encode_blob(value: Any) -> str:
    """Base64 text of a blob given as bytes (or text, taken as UTF-8)."""
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode("ascii")


def decode_blob(text: str) -> bytes:
    """The bytes of base64 `text`; ValueError when it is not base64."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("not valid base64") from error


def raw_bytes(value: Any) -> bytes:
    """A raw payload (blob or string member) as bytes."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def split_header_list(text: str) -> list[str]:
    """Items of a comma-separated header list; double-quoted items may hold commas and `\\"`."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


def join_header_list(items: list[str]) -> str:
    """A header list value, quoting items that hold a comma or a double quote."""
    return ",".join(
        '"' + item.replace('"', '\\"') + '"' if ("," in item or '"' in item) else item
        for item in items
    )
