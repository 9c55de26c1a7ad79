"""Receiving an object body: aws-chunked framing, Content-MD5 and x-amz-checksum-* checks.

A body is written to a `PendingBlob` in ~1 MiB batches on a worker thread (hashing and file
writes release the GIL, so the event loop keeps serving other requests). The checksum a client
names is computed on the way and compared at the end; a mismatch discards the blob, so nothing
that failed a check is ever stored.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore import httpchecksum
from botocore.httpchecksum import Crc32Checksum, Sha1Checksum, Sha256Checksum

from sagestack.api.streams import BodyStream
from sagestack.services.s3.errors import bad_digest, s3_error
from sagestack.spec.errors import ServiceError
from sagestack.storage.local import PendingBlob

BATCH = 1024 * 1024

#: The algorithms S3 names, as the request member suffix and header name use them.
ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


_BUILT_IN = {"CRC32": Crc32Checksum, "SHA1": Sha1Checksum, "SHA256": Sha256Checksum}
_NEEDS_CRT = {"CRC32C": "CrtCrc32cChecksum", "CRC64NVME": "CrtCrc64NvmeChecksum"}


def new_checksum(algorithm: str) -> Any:
    """botocore's own implementation of `algorithm` (CRC32C and CRC64NVME need awscrt)."""
    if algorithm in _BUILT_IN:
        return _BUILT_IN[algorithm]()
    if algorithm not in _NEEDS_CRT:
        raise s3_error(
            "InvalidRequest", 400, "Value for x-amz-checksum-algorithm header is invalid."
        )
    if not httpchecksum.HAS_CRT:
        raise s3_error(
            "NotImplemented",
            501,
            f"{algorithm} checksums need the awscrt package on the sagestack server "
            "(pip install awscrt); use CRC32, SHA1 or SHA256 meanwhile.",
        )
    return getattr(httpchecksum, _NEEDS_CRT[algorithm])()


@dataclass(slots=True)
class Received:
    md5_hex: str
    size: int
    #: Algorithm → base64 value, verified against what the client sent (or computed for it).
    checksums: dict[str, str] = field(default_factory=dict)


def _claimed_checksum(headers: Mapping[str, str]) -> tuple[str | None, str | None, bool]:
    """(algorithm, expected value, value arrives in the trailer) from the request headers."""
    for algorithm in ALGORITHMS:
        value = headers.get(f"x-amz-checksum-{algorithm.lower()}")
        if value is not None:
            return algorithm, value, False
    trailer = headers.get("x-amz-trailer", "").strip().lower()
    if trailer.startswith("x-amz-checksum-"):
        return trailer.removeprefix("x-amz-checksum-").upper(), None, True
    named = headers.get("x-amz-sdk-checksum-algorithm") or headers.get("x-amz-checksum-algorithm")
    return (named.upper() if named else None), None, False


def is_aws_chunked(headers: Mapping[str, str]) -> bool:
    return "aws-chunked" in headers.get("content-encoding", "") or headers.get(
        "x-amz-content-sha256", ""
    ).startswith("STREAMING-")


async def receive_body(stream: BodyStream, pending: PendingBlob, checksum: Any) -> Received:
    """Read `stream` into `pending` (whose hashers include `checksum`, if any) and check it.

    The caller created `pending` with `start_checksum(stream.headers)` as its hasher and
    discards it when this raises.
    """
    headers = stream.headers
    algorithm, expected, in_trailer = _claimed_checksum(headers)
    trailers: dict[str, str] = {}
    chunks: AsyncIterator[bytes] = (
        _aws_chunked(stream, trailers) if is_aws_chunked(headers) else stream.__aiter__()
    )
    tail = await _write_overlapped(chunks, pending)
    md5_hex = await asyncio.to_thread(_finish, pending, tail)
    declared = headers.get("x-amz-decoded-content-length")
    if declared is not None and is_aws_chunked(headers) and int(declared) != pending.size:
        raise s3_error(
            "IncompleteBody",
            400,
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
        )
    content_md5 = headers.get("content-md5")
    if content_md5 is not None:
        _check_md5(content_md5, md5_hex)
    received = Received(md5_hex, pending.size)
    if algorithm is not None and checksum is not None:
        if in_trailer:
            expected = trailers.get(f"x-amz-checksum-{algorithm.lower()}")
        actual = checksum.b64digest()
        if expected is not None and expected != actual:
            raise bad_digest(algorithm)
        received.checksums[algorithm] = actual
    return received


def _finish(pending: PendingBlob, tail: bytes) -> str:
    pending.write(tail)
    return pending.finish()


async def _write_overlapped(chunks: AsyncIterator[bytes], pending: PendingBlob) -> bytes:
    """Write `chunks` to `pending` in ~1 MiB batches: each batch is hashed and written on two
    worker threads at once while the next batch arrives, so hashing, disk and network overlap
    (hashlib and file writes release the GIL). Returns the last, partial batch unwritten (a
    small body is then written and synced in one hop)."""
    in_flight: asyncio.Future[None] | None = None
    batch: list[bytes] = []
    batched = 0
    try:
        async for chunk in chunks:
            batch.append(chunk)
            batched += len(chunk)
            if batched >= BATCH:
                if in_flight is not None:
                    await in_flight
                data = b"".join(batch)
                in_flight = asyncio.ensure_future(_digest_and_store(pending, data))
                batch, batched = [], 0
    finally:
        if in_flight is not None:  # never leave a write running when the blob is discarded
            await asyncio.wait([in_flight])
    if in_flight is not None:
        await in_flight
    return b"".join(batch)


async def _digest_and_store(pending: PendingBlob, data: bytes) -> None:
    """Both halves of `pending.write(data)` at once; returns only when both have ended."""
    outcomes = await asyncio.gather(
        asyncio.to_thread(pending.digest, data),
        asyncio.to_thread(pending.store, data),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def start_checksum(headers: Mapping[str, str]) -> Any:
    """The hasher for the checksum this request names, or None."""
    algorithm, _, _ = _claimed_checksum(headers)
    return new_checksum(algorithm) if algorithm is not None else None


def _check_md5(content_md5: str, md5_hex: str) -> None:
    try:
        claimed = base64.b64decode(content_md5, validate=True)
    except binascii.Error:
        claimed = b""
    if len(claimed) != 16:
        raise s3_error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.")
    if claimed.hex() != md5_hex:
        raise bad_digest("MD5")


def _framing_error() -> ServiceError:
    return s3_error("IncompleteBody", 400, "The request body is not valid aws-chunked encoding.")


async def _aws_chunked(stream: BodyStream, trailers: dict[str, str]) -> AsyncIterator[bytes]:
    """The payload of an aws-chunked body (`<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n`
    ... `0\\r\\n<trailer lines>\\r\\n`), yielded as it arrives; trailers land in `trailers`."""
    buffer = bytearray()
    source = stream.__aiter__()
    remaining = 0  # payload bytes still due in the current chunk (then its CRLF)
    while True:
        if remaining:
            if not buffer:
                buffer += await _next(source)
            take = min(remaining, len(buffer))
            yield bytes(buffer[:take])
            del buffer[:take]
            remaining -= take
            if remaining == 0:
                await _fill(source, buffer, 2)
                if buffer[:2] != b"\r\n":
                    raise _framing_error()
                del buffer[:2]
            continue
        line = await _line(source, buffer)
        size_text = line.split(b";", 1)[0].strip()
        try:
            remaining = int(size_text, 16)
        except ValueError:
            raise _framing_error() from None
        if remaining == 0:
            while (line := await _line(source, buffer)) != b"":
                name, _, value = line.decode("latin-1").partition(":")
                trailers[name.strip().lower()] = value.strip()
            return


async def _next(source: AsyncIterator[bytes]) -> bytes:
    try:
        return await source.__anext__()
    except StopAsyncIteration:
        raise _framing_error() from None


async def _fill(source: AsyncIterator[bytes], buffer: bytearray, size: int) -> None:
    while len(buffer) < size:
        buffer += await _next(source)


async def _line(source: AsyncIterator[bytes], buffer: bytearray) -> bytes:
    """The next CRLF-terminated line (without its CRLF); a missing final CRLF ends the body."""
    while (end := buffer.find(b"\r\n")) < 0:
        if len(buffer) > 4096:
            raise _framing_error()
        try:
            buffer += await source.__anext__()
        except StopAsyncIteration:
            line = bytes(buffer)
            buffer.clear()
            return line
    line = bytes(buffer[:end])
    del buffer[: end + 2]
    return line
