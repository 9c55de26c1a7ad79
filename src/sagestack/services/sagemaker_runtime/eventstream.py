"""The AWS event-stream encoding (application/vnd.amazon.eventstream) of
InvokeEndpointWithResponseStream's body, as botocore's EventStreamBuffer parses it.

A message is: total length (4 bytes), headers length (4), CRC32 of those 8 bytes, the headers
(name length (1), name, value type (1; 7 = string), value length (2), value), the payload, and
the CRC32 of everything before it; all integers big-endian.
"""

from __future__ import annotations

import json
import struct
import zlib

_STRING = 7


def _headers(headers: dict[str, str]) -> bytes:
    encoded = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        encoded += struct.pack(">B", len(raw_name)) + raw_name
        encoded += struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    return bytes(encoded)


def message(headers: dict[str, str], payload: bytes) -> bytes:
    encoded_headers = _headers(headers)
    total = 12 + len(encoded_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + encoded_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def payload_part(data: bytes) -> bytes:
    """A PayloadPart event carrying `data` (its Bytes member is the event payload)."""
    return message(
        {
            ":event-type": "PayloadPart",
            ":content-type": "application/octet-stream",
            ":message-type": "event",
        },
        data,
    )


def stream_error(kind: str, message_text: str, error_code: str | None = None) -> bytes:
    """An exception event of the stream (`ModelStreamError` with its ErrorCode, or
    `InternalStreamFailure`): botocore raises it as an EventStreamError while reading."""
    fields = {"Message": message_text}
    if error_code is not None:
        fields["ErrorCode"] = error_code
    return message(
        {
            ":exception-type": kind,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps(fields).encode(),
    )
