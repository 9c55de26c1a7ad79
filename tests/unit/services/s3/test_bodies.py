"""Receiving object bodies: aws-chunked framing (as botocore encodes it) and checksum checks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
from pathlib import Path

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha256Checksum

from sagestack.api.streams import BodyStream
from sagestack.services.s3.bodies import receive_body, start_checksum
from sagestack.spec.errors import ServiceError
from sagestack.storage.local import LocalObjectStore

DATA = bytes(range(256)) * 9000  # ~2.3 MB: several 1 MiB aws-chunked chunks


def stream_of(encoded: bytes, headers: dict[str, str], piece: int) -> BodyStream:
    """A body arriving in `piece`-byte slices, so framing splits across reads."""
    pieces = [encoded[i : i + piece] for i in range(0, len(encoded), piece)]
    pieces.reverse()

    async def receive() -> bytes | None:
        return pieces.pop() if pieces else None

    return BodyStream(receive, headers)


def receive(store: LocalObjectStore, body: BodyStream) -> tuple[bytes, dict[str, str], str]:
    checksum = start_checksum(body.headers)
    pending = store.begin([checksum] if checksum is not None else [])
    try:
        received = asyncio.run(receive_body(body, pending, checksum))
    except BaseException:
        pending.discard()
        raise
    return pending.path.read_bytes(), received.checksums, received.md5_hex


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


@pytest.mark.parametrize("piece", [7, 4096, 1 << 20, 3 << 20])
def test_aws_chunked_with_trailing_checksum(store: LocalObjectStore, piece: int) -> None:
    encoded = AwsChunkedWrapper(io.BytesIO(DATA), Crc32Checksum, "x-amz-checksum-crc32").read()
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(DATA)),
    }
    written, checksums, md5_hex = receive(store, stream_of(encoded, headers, piece))
    assert written == DATA
    assert md5_hex == hashlib.md5(DATA, usedforsecurity=False).hexdigest()
    expected = Crc32Checksum()
    expected.update(DATA)
    assert checksums == {"CRC32": expected.b64digest()}


def test_aws_chunked_with_chunk_signatures(store: LocalObjectStore) -> None:
    chunks = [DATA[:65536], DATA[65536:70000], b""]
    encoded = b"".join(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(c), b"0" * 64, c) for c in chunks)
    headers = {
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-decoded-content-length": "70000",
    }
    written, _, _ = receive(store, stream_of(encoded, headers, 1000))
    assert written == DATA[:70000]


def test_trailing_checksum_mismatch_is_bad_digest(store: LocalObjectStore) -> None:
    encoded = AwsChunkedWrapper(io.BytesIO(DATA), Sha256Checksum, "x-amz-checksum-sha256").read()
    encoded = encoded.replace(
        base64.b64encode(hashlib.sha256(DATA).digest()), base64.b64encode(b"x" * 32)
    )
    headers = {"content-encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-sha256"}
    with pytest.raises(ServiceError) as excinfo:
        receive(store, stream_of(encoded, headers, 65536))
    assert excinfo.value.code == "BadDigest"


def test_truncated_framing_is_refused(store: LocalObjectStore) -> None:
    encoded = AwsChunkedWrapper(io.BytesIO(DATA)).read()[:5000]
    headers = {"content-encoding": "aws-chunked"}
    with pytest.raises(ServiceError) as excinfo:
        receive(store, stream_of(encoded, headers, 1024))
    assert excinfo.value.code == "IncompleteBody"


def test_decoded_length_must_match(store: LocalObjectStore) -> None:
    encoded = AwsChunkedWrapper(io.BytesIO(b"abc")).read()
    headers = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": "4"}
    with pytest.raises(ServiceError) as excinfo:
        receive(store, stream_of(encoded, headers, 1024))
    assert excinfo.value.code == "IncompleteBody"


def test_plain_body_with_header_checksum(store: LocalObjectStore) -> None:
    digest = base64.b64encode(hashlib.sha1(DATA, usedforsecurity=False).digest()).decode()
    written, checksums, _ = receive(store, stream_of(DATA, {"x-amz-checksum-sha1": digest}, 65536))
    assert written == DATA
    assert checksums == {"SHA1": digest}


def test_unknown_algorithm_is_refused(store: LocalObjectStore) -> None:
    with pytest.raises(ServiceError) as excinfo:
        start_checksum({"x-amz-sdk-checksum-algorithm": "MD4"})
    assert excinfo.value.code == "InvalidRequest"
