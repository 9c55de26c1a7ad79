"""S3 requests as other clients send them: presigned URLs, virtual-hosted style, aws-chunked
bodies with trailing checksums (what SDKs send over TLS), and the AWS CLI's s3 commands."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from tests.api.test_aws_cli import aws
from tests.conftest import make_client
from tests.support.server import ServerProcess


def raw(
    server: ServerProcess, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    parsed = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        connection.close()


def test_presigned_get_and_put(s3: Any) -> None:
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bkt", "Key": "up/x y"})
    request = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "up/x y"})
    with urllib.request.urlopen(get_url, timeout=10) as reply:
        assert reply.read() == b"presigned body"


@pytest.mark.parametrize(
    ("signature_version", "field", "stale"),
    [("s3", "Expires", "1577836800"), ("s3v4", "X-Amz-Date", "20200101T000000Z")],
)
def test_expired_presigned_url_is_refused(
    s3: Any, server: ServerProcess, signature_version: str, field: str, stale: str
) -> None:
    s3.put_object(Bucket="bkt", Key="k", Body=b"x")
    signer = make_client(server.url, "s3", config=Config(signature_version=signature_version))
    url = signer.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"})
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.read() == b"x"
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert field in query
    query[field] = stale
    expired = parts._replace(query=urllib.parse.urlencode(query)).geturl()
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(expired, timeout=10)
    assert excinfo.value.code == 403
    body = excinfo.value.read().decode()
    assert "<Code>AccessDenied</Code>" in body and "Request has expired" in body


def test_virtual_hosted_style(s3: Any, server: ServerProcess) -> None:
    s3.put_object(Bucket="bkt", Key="dir/file.txt", Body=b"hosted")
    port = urllib.parse.urlsplit(server.url).port
    status, _, body = raw(server, "GET", "/dir/file.txt", Host=f"bkt.localhost:{port}")
    assert (status, body) == (200, b"hosted")
    status, _, body = raw(server, "GET", "/?list-type=2", Host=f"bkt.s3.localhost:{port}")
    assert status == 200 and b"<Key>dir/file.txt</Key>" in body
    assert b"<ListBucketResult" in body


def test_aws_chunked_upload_with_trailing_checksum(s3: Any, server: ServerProcess) -> None:
    data = b"chunked payload " * 100_000
    encoded = AwsChunkedWrapper(
        io.BytesIO(data), Crc32Checksum, "x-amz-checksum-crc32", 65536
    ).read()
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "X-Amz-Trailer": "x-amz-checksum-crc32",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "Content-Type": "text/plain",
    }
    status, reply_headers, _ = raw(server, "PUT", "/bkt/chunked", encoded, **headers)
    assert status == 200
    assert reply_headers["etag"] == f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
    got = s3.get_object(Bucket="bkt", Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert "ContentEncoding" not in got  # the framing is not the object's encoding
    assert got["ChecksumCRC32"] == reply_headers["x-amz-checksum-crc32"]
    corrupt = encoded.replace(reply_headers["x-amz-checksum-crc32"].encode(), b"AAAAAA==")
    status, _, body = raw(server, "PUT", "/bkt/corrupt", corrupt, **headers)
    assert status == 400 and b"<Code>BadDigest</Code>" in body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]] == ["chunked"]


def test_aws_cli_cp_sync_and_ls(s3: Any, server: ServerProcess, tmp_path: Path) -> None:
    source = tmp_path / "tree"
    (source / "sub" / "deeper").mkdir(parents=True)
    (source / "top.txt").write_text("top")
    (source / "sub" / "a.csv").write_text("1,2\n")
    (source / "sub" / "deeper" / "big.bin").write_bytes(bytes(range(256)) * 40_000)  # 10 MB
    an_hour_ago = time.time() - 3600  # S3 times are whole seconds: sync compares mtimes
    for path in source.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    copied = aws(server, "s3", "cp", str(source / "top.txt"), "s3://bkt/single/top.txt")
    assert copied.returncode == 0, copied.stderr
    synced = aws(server, "s3", "sync", str(source), "s3://bkt/tree")
    assert synced.returncode == 0, synced.stderr
    listed = aws(server, "s3", "ls", "--recursive", "s3://bkt/")
    assert listed.returncode == 0, listed.stderr
    keys = sorted(line.split()[-1] for line in listed.stdout.splitlines())
    assert keys == ["single/top.txt", "tree/sub/a.csv", "tree/sub/deeper/big.bin", "tree/top.txt"]
    again = aws(server, "s3", "sync", str(source), "s3://bkt/tree")
    assert again.returncode == 0 and again.stdout == ""  # nothing changed, nothing sent
    target = tmp_path / "back"
    down = aws(server, "s3", "sync", "s3://bkt/tree", str(target))
    assert down.returncode == 0, down.stderr
    for path in source.rglob("*"):
        if path.is_file():
            assert (target / path.relative_to(source)).read_bytes() == path.read_bytes()
    api = json.loads(
        aws(server, "s3api", "head-object", "--bucket", "bkt", "--key", "tree/top.txt").stdout
    )
    assert api["ContentLength"] == 3
