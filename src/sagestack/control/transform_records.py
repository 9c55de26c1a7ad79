"""Splitting an input object into records and records into request payloads, as batch transform
does it (SplitType None / Line / RecordIO / TFRecord; BatchStrategy SingleRecord / MultiRecord;
MaxPayloadInMB), streaming: at most one payload (plus one partial record) is in memory at a time.

Line records travel without their line break in SingleRecord mode and joined by line breaks in
MultiRecord mode; RecordIO and TFRecord records keep their framing (a payload of several is the
records back to back, which is what their readers expect). MultiRecord over lines with no
per-record processing takes the fast path: a payload is cut from the stream at the last line
break that fits, so the cost per payload does not grow with its number of records.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

#: RecordIO (MXNet's format, which SageMaker's algorithms use): magic, then flags | length.
RECORDIO_MAGIC = 0xCED7230A
_READ = 1 << 20


class RecordError(Exception):
    """The input cannot be split or batched as asked; the message is SageMaker's wording."""


TOO_LARGE = "Too much data for max payload size"


@dataclass(frozen=True, slots=True)
class Payload:
    body: bytes
    #: How many records it holds.
    records: int
    #: The records one by one (only when asked for, for DataProcessing).
    parts: tuple[bytes, ...] = ()


def records(stream: BinaryIO, split: str) -> Iterator[bytes]:
    """The object's records one by one."""
    if split == "Line":
        yield from _lines(stream)
    elif split == "RecordIO":
        yield from _recordio(stream)
    elif split == "TFRecord":
        yield from _tfrecords(stream)
    else:
        body = stream.read()
        if body:
            yield body


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    pending = b""
    while True:
        chunk = stream.read(_READ)
        if not chunk:
            break
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            record = line.rstrip(b"\r")
            if record:
                yield record
    pending = pending.rstrip(b"\r")
    if pending:
        yield pending


def _exactly(stream: BinaryIO, size: int, what: str) -> bytes:
    data = stream.read(size)
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise RecordError(f"The input ends inside a {what} record (truncated data)")
        data += more
    return data


def _recordio(stream: BinaryIO) -> Iterator[bytes]:
    while True:
        head = stream.read(8)
        if not head:
            return
        if len(head) < 8:
            head += _exactly(stream, 8 - len(head), "RecordIO")
        magic, flags_length = struct.unpack("<II", head)
        if magic != RECORDIO_MAGIC:
            raise RecordError("The input is not RecordIO: a record does not start with its magic")
        length = flags_length & ((1 << 29) - 1)
        padded = (length + 3) & ~3
        yield head + _exactly(stream, padded, "RecordIO")


def _tfrecords(stream: BinaryIO) -> Iterator[bytes]:
    while True:
        head = stream.read(12)
        if not head:
            return
        if len(head) < 12:
            head += _exactly(stream, 12 - len(head), "TFRecord")
        (length,) = struct.unpack("<Q", head[:8])
        yield head + _exactly(stream, length + 4, "TFRecord")


def payloads(
    stream: BinaryIO, split: str, multi: bool, limit: int | None, *, keep_parts: bool = False
) -> Iterator[Payload]:
    """The request payloads for one object: one record each (SingleRecord, or SplitType None),
    or as many whole records as fit in `limit` bytes (MultiRecord). `limit` None: no limit.
    RecordError when one record alone is larger than the limit."""
    if split == "Line" and multi and not keep_parts and limit is not None:
        yield from _line_chunks(stream, limit)
        return
    joiner = b"\n" if split == "Line" else b""
    batch: list[bytes] = []
    size = 0
    for record in records(stream, split):
        if limit is not None and len(record) > limit:
            raise RecordError(TOO_LARGE)
        if not multi:
            yield Payload(record, 1, (record,) if keep_parts else ())
            continue
        grown = size + len(record) + len(joiner)
        if batch and limit is not None and grown > limit:
            yield _joined(batch, joiner, keep_parts)
            batch, grown = [], len(record) + len(joiner)
        batch.append(record)
        size = grown
    if batch:
        yield _joined(batch, joiner, keep_parts)


def _joined(batch: list[bytes], joiner: bytes, keep_parts: bool) -> Payload:
    body = joiner.join(batch) + joiner
    return Payload(body, len(batch), tuple(batch) if keep_parts else ())


def _line_chunks(stream: BinaryIO, limit: int) -> Iterator[Payload]:
    """MultiRecord over lines: cut at the last line break within `limit` bytes."""
    pending = b""
    ended = False
    while not ended or pending:
        if not ended and len(pending) < limit:
            chunk = stream.read(limit - len(pending))
            while chunk and len(pending) + len(chunk) < limit:
                more = stream.read(limit - len(pending) - len(chunk))
                if not more:
                    break
                chunk += more
            ended = len(pending) + len(chunk) < limit
            pending += chunk
        if ended:
            body, pending = pending, b""
        else:
            cut = pending.rfind(b"\n", 0, limit)
            if cut < 0:
                raise RecordError(TOO_LARGE)
            body, pending = pending[: cut + 1], pending[cut + 1 :]
        count = _line_count(body)
        if count:
            yield Payload(body, count)


def _line_count(body: bytes) -> int:
    """Non-empty lines in `body` (blank lines are not records)."""
    count = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    blank = body.count(b"\n\n") + body.startswith(b"\n")
    if b"\r\n\r\n" in body:
        blank += body.count(b"\r\n\r\n")
    return max(0, count - blank) if body.strip() else 0
