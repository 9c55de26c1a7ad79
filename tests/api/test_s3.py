"""S3 on sagestack's port, through real boto3 clients: buckets, objects, listings, multipart."""

from __future__ import annotations

import base64
import hashlib
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_models import error_of
from tests.conftest import make_client
from tests.support.server import ServerProcess

MiB = 1024 * 1024


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


# -- buckets --------------------------------------------------------------------------------


def test_bucket_lifecycle(s3: Any, server: ServerProcess) -> None:
    buckets = s3.list_buckets()
    assert [b["Name"] for b in buckets["Buckets"]] == ["bkt"]
    assert abs(buckets["Buckets"][0]["CreationDate"].timestamp() - time.time()) < 60
    assert buckets["Owner"]["ID"] == "000000000000"
    s3.head_bucket(Bucket="bkt", ExpectedBucketOwner="000000000000")
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket="bkt", ExpectedBucketOwner="111111111111")
    assert error_of(excinfo)[2] == 403
    assert s3.get_bucket_location(Bucket="bkt")["LocationConstraint"] is None
    s3.create_bucket(Bucket="bkt")  # us-east-1 answers its owner 200, as S3 does
    s3.delete_bucket(Bucket="bkt")
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket="bkt")
    assert error_of(excinfo)[2] == 404
    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket="bkt")
    assert error_of(excinfo)[::2] == ("NoSuchBucket", 404)


def test_regional_bucket_and_location_constraints(s3: Any, server: ServerProcess) -> None:
    west = make_client(server.url, "s3", region="us-west-2")
    config = {"LocationConstraint": "us-west-2"}
    west.create_bucket(Bucket="west", CreateBucketConfiguration=config)
    assert west.get_bucket_location(Bucket="west")["LocationConstraint"] == "us-west-2"
    assert west.head_bucket(Bucket="west")["BucketRegion"] == "us-west-2"
    with pytest.raises(ClientError) as excinfo:
        west.create_bucket(Bucket="west", CreateBucketConfiguration=config)
    assert error_of(excinfo)[::2] == ("BucketAlreadyOwnedByYou", 409)
    with pytest.raises(ClientError) as excinfo:
        west.create_bucket(Bucket="other")
    assert error_of(excinfo)[0] == "IllegalLocationConstraintException"
    assert "unspecified location constraint" in error_of(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(
            Bucket="x1x", CreateBucketConfiguration={"LocationConstraint": "us-east-1"}
        )
    assert error_of(excinfo)[0] == "InvalidArgument"  # not one of the model's constraints


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "Upper",
        "a" * 64,
        "-start",
        "end-",
        "two..dots",
        "192.168.1.1",
        "xn--punycode",
        "bucket-s3alias",
        "under_score",
    ],
)
def test_invalid_bucket_names(s3: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket=name)
    assert error_of(excinfo)[::2] == ("InvalidBucketName", 400)


def test_delete_bucket_only_when_empty(s3: Any) -> None:
    s3.put_object(Bucket="bkt", Key="k", Body=b"x")
    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket="bkt")
    assert error_of(excinfo) == (
        "BucketNotEmpty",
        "The bucket you tried to delete is not empty",
        409,
    )
    s3.delete_object(Bucket="bkt", Key="k")
    s3.delete_bucket(Bucket="bkt")


def test_bucket_tagging(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket="bkt")
    assert error_of(excinfo)[::2] == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket="bkt", Tagging={"TagSet": [{"Key": "team", "Value": "ml"}]})
    assert s3.get_bucket_tagging(Bucket="bkt")["TagSet"] == [{"Key": "team", "Value": "ml"}]
    s3.delete_bucket_tagging(Bucket="bkt")
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket="bkt")


# -- objects --------------------------------------------------------------------------------


def test_put_get_head_with_attributes(s3: Any) -> None:
    body = b"hello world"
    put = s3.put_object(
        Bucket="bkt",
        Key="greeting.txt",
        Body=body,
        ContentType="text/plain",
        ContentEncoding="identity",
        CacheControl="max-age=60",
        ContentDisposition="attachment",
        Metadata={"Owner": "me", "step": "1"},
    )
    assert put["ETag"] == f'"{md5_hex(body)}"'
    got = s3.get_object(Bucket="bkt", Key="greeting.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["ContentEncoding"] == "identity"
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "attachment"
    assert got["Metadata"] == {"owner": "me", "step": "1"}
    assert got["ETag"] == put["ETag"]
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]  # botocore also verified it on read
    head = s3.head_object(Bucket="bkt", Key="greeting.txt")
    assert head["ContentLength"] == len(body)
    assert head["AcceptRanges"] == "bytes"
    assert abs(head["LastModified"].timestamp() - time.time()) < 60


def test_missing_keys_and_buckets(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="bkt", Key="nope")
    assert error_of(excinfo) == ("NoSuchKey", "The specified key does not exist.", 404)
    assert excinfo.value.response["Error"]["Key"] == "nope"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="missing", Key="nope")
    assert error_of(excinfo)[::2] == ("NoSuchBucket", 404)
    assert excinfo.value.response["Error"]["BucketName"] == "missing"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="missing", Key="k", Body=b"x")
    assert error_of(excinfo)[0] == "NoSuchBucket"
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket="bkt", Key="nope")
    assert error_of(excinfo)[2] == 404
    s3.delete_object(Bucket="bkt", Key="nope")  # deleting nothing succeeds, as in S3


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=2-4", b"234", "bytes 2-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
        ("bytes=-50", b"0123456789", "bytes 0-9/10"),
    ],
)
def test_ranges(s3: Any, header: str, expected: bytes, content_range: str) -> None:
    s3.put_object(Bucket="bkt", Key="digits", Body=b"0123456789")
    got = s3.get_object(Bucket="bkt", Key="digits", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == expected
    assert got["ContentRange"] == content_range
    assert got["ContentLength"] == len(expected)


def test_unsatisfiable_range(s3: Any) -> None:
    s3.put_object(Bucket="bkt", Key="digits", Body=b"0123456789")
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="bkt", Key="digits", Range="bytes=10-20")
    assert error_of(excinfo) == ("InvalidRange", "The requested range is not satisfiable", 416)
    assert excinfo.value.response["Error"]["ActualObjectSize"] == "10"


def test_conditional_reads(s3: Any) -> None:
    etag = s3.put_object(Bucket="bkt", Key="k", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket="bkt", Key="k", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="bkt", Key="k", IfMatch='"0000"')
    assert error_of(excinfo)[::2] == ("PreconditionFailed", 412)
    assert excinfo.value.response["Error"]["Condition"] == "If-Match"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="bkt", Key="k", IfNoneMatch=etag)
    assert error_of(excinfo)[2] == 304
    future = datetime.now(UTC) + timedelta(hours=1)
    past = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="bkt", Key="k", IfModifiedSince=future)
    assert error_of(excinfo)[2] == 304
    assert s3.get_object(Bucket="bkt", Key="k", IfModifiedSince=past)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket="bkt", Key="k", IfUnmodifiedSince=past)
    assert error_of(excinfo)[2] == 412
    # If-Match holding wins over If-Unmodified-Since failing (RFC 7232, as S3 documents).
    s3.head_object(Bucket="bkt", Key="k", IfMatch=etag, IfUnmodifiedSince=past)


def test_conditional_writes(s3: Any) -> None:
    first = s3.put_object(Bucket="bkt", Key="k", Body=b"v1", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="bkt", Key="k", Body=b"v2", IfNoneMatch="*")
    assert error_of(excinfo)[::2] == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="bkt", Key="k", Body=b"v2", IfMatch='"0000"')
    assert error_of(excinfo)[2] == 412
    s3.put_object(Bucket="bkt", Key="k", Body=b"v2", IfMatch=first)
    assert s3.get_object(Bucket="bkt", Key="k")["Body"].read() == b"v2"


def test_content_md5_mismatch_stores_nothing(s3: Any) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other", usedforsecurity=False).digest()).decode()
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="bkt", Key="k", Body=b"data", ContentMD5=wrong)
    assert error_of(excinfo) == (
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
        400,
    )
    assert "Contents" not in s3.list_objects_v2(Bucket="bkt")
    right = base64.b64encode(hashlib.md5(b"data", usedforsecurity=False).digest()).decode()
    s3.put_object(Bucket="bkt", Key="k", Body=b"data", ContentMD5=right)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="bkt", Key="k", Body=b"data", ContentMD5="bm90LW1kNQ==")
    assert error_of(excinfo)[0] == "InvalidDigest"


def test_checksum_mismatch_stores_nothing(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="bkt", Key="k", Body=b"data", ChecksumCRC32="AAAAAA==")
    assert error_of(excinfo) == (
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
        400,
    )
    assert "Contents" not in s3.list_objects_v2(Bucket="bkt")
    sha = base64.b64encode(hashlib.sha256(b"data").digest()).decode()
    put = s3.put_object(Bucket="bkt", Key="k", Body=b"data", ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"] == sha
    head = s3.head_object(Bucket="bkt", Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha
    assert head["ChecksumType"] == "FULL_OBJECT"


ODD_KEYS = [
    "a/../b",
    "../../etc/passwd",
    "100%",
    "%2F encoded",
    "ü/日本/ファイル",
    "trailing/",
    "spaces in name",
    "plus+sign",
    "question?mark#hash",
    "/leading",
    "a//b",
    "~tilde&amp=",
]


def test_any_legal_key_round_trips_and_lists(s3: Any) -> None:
    for index, key in enumerate(ODD_KEYS):
        s3.put_object(Bucket="bkt", Key=key, Body=str(index).encode())
    for index, key in enumerate(ODD_KEYS):
        assert s3.get_object(Bucket="bkt", Key=key)["Body"].read() == str(index).encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]]
    assert listed == sorted(ODD_KEYS, key=lambda k: k.encode())
    v1 = [o["Key"] for o in s3.list_objects(Bucket="bkt")["Contents"]]
    assert v1 == listed


def test_copy_object_metadata_directives(s3: Any) -> None:
    s3.put_object(
        Bucket="bkt", Key="src", Body=b"payload", ContentType="text/csv", Metadata={"a": "1"}
    )
    s3.copy_object(Bucket="bkt", Key="copied", CopySource={"Bucket": "bkt", "Key": "src"})
    copied = s3.get_object(Bucket="bkt", Key="copied")
    assert copied["Body"].read() == b"payload"
    assert (copied["ContentType"], copied["Metadata"]) == ("text/csv", {"a": "1"})
    result = s3.copy_object(
        Bucket="bkt",
        Key="replaced",
        CopySource="bkt/src",
        MetadataDirective="REPLACE",
        ContentType="application/json",
        Metadata={"b": "2"},
    )
    assert result["CopyObjectResult"]["ETag"] == f'"{md5_hex(b"payload")}"'
    replaced = s3.head_object(Bucket="bkt", Key="replaced")
    assert (replaced["ContentType"], replaced["Metadata"]) == ("application/json", {"b": "2"})
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket="bkt", Key="src", CopySource="bkt/src")
    assert error_of(excinfo)[0] == "InvalidRequest"
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket="bkt", Key="x", CopySource="bkt/absent")
    assert error_of(excinfo)[::2] == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket="bkt", Key="x", CopySource="bkt/src", CopySourceIfMatch='"0"')
    assert error_of(excinfo)[::2] == ("PreconditionFailed", 412)
    s3.put_object(Bucket="bkt", Key="src", Body=b"changed")  # the copy keeps its own bytes
    assert s3.get_object(Bucket="bkt", Key="copied")["Body"].read() == b"payload"


def test_delete_objects(s3: Any) -> None:
    for key in ("a", "b", "c"):
        s3.put_object(Bucket="bkt", Key=key, Body=b"x")
    deleted = s3.delete_objects(
        Bucket="bkt", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "absent"}]}
    )
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["a", "absent", "b"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]] == ["c"]
    quiet = s3.delete_objects(Bucket="bkt", Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet


def test_object_tagging(s3: Any) -> None:
    s3.put_object(Bucket="bkt", Key="k", Body=b"x", Tagging="project=a&stage=train")
    assert s3.get_object_tagging(Bucket="bkt", Key="k")["TagSet"] == [
        {"Key": "project", "Value": "a"},
        {"Key": "stage", "Value": "train"},
    ]
    assert s3.get_object(Bucket="bkt", Key="k")["TagCount"] == 2
    s3.put_object_tagging(Bucket="bkt", Key="k", Tagging={"TagSet": [{"Key": "x", "Value": "y"}]})
    assert s3.get_object_tagging(Bucket="bkt", Key="k")["TagSet"] == [{"Key": "x", "Value": "y"}]
    s3.delete_object_tagging(Bucket="bkt", Key="k")
    assert s3.get_object_tagging(Bucket="bkt", Key="k")["TagSet"] == []
    eleven = "&".join(f"k{i}=v" for i in range(11))
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="bkt", Key="k2", Body=b"x", Tagging=eleven)
    assert error_of(excinfo)[0] == "InvalidTag"


# -- listings -------------------------------------------------------------------------------


def test_list_objects_v2_prefix_delimiter_and_pages(s3: Any) -> None:
    keys = ["a/1", "a/2", "a/b/3", "b/1", "c", "d/x/y"]
    for key in keys:
        s3.put_object(Bucket="bkt", Key=key, Body=b"x")
    top = s3.list_objects_v2(Bucket="bkt", Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["c"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/", "d/"]
    assert top["KeyCount"] == 4
    inner = s3.list_objects_v2(Bucket="bkt", Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in inner["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in inner["CommonPrefixes"]] == ["a/b/"]
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket="bkt", PaginationConfig={"PageSize": 2}
    )
    seen = [[o["Key"] for o in page.get("Contents", [])] for page in pages]
    assert seen == [["a/1", "a/2"], ["a/b/3", "b/1"], ["c", "d/x/y"]]
    grouped = s3.get_paginator("list_objects_v2").paginate(
        Bucket="bkt", Delimiter="/", PaginationConfig={"PageSize": 1}
    )
    entries = []
    for page in grouped:
        entries += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        entries += [o["Key"] for o in page.get("Contents", [])]
    assert entries == ["a/", "b/", "c", "d/"]
    after = s3.list_objects_v2(Bucket="bkt", StartAfter="b/1")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d/x/y"]
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket="bkt", ContinuationToken="not a token!")
    assert error_of(excinfo)[0] == "InvalidArgument"


def test_list_objects_v1_markers(s3: Any) -> None:
    for key in ("a/1", "a/2", "b", "c/1"):
        s3.put_object(Bucket="bkt", Key=key, Body=b"x")
    first = s3.list_objects(Bucket="bkt", MaxKeys=2, Delimiter="/")
    assert first["IsTruncated"] is True
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["a/"]
    assert first["NextMarker"] == "b"
    rest = s3.list_objects(Bucket="bkt", Marker="b", Delimiter="/")
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["c/"]
    every = s3.get_paginator("list_objects").paginate(
        Bucket="bkt", PaginationConfig={"PageSize": 1}
    )
    assert [o["Key"] for page in every for o in page["Contents"]] == ["a/1", "a/2", "b", "c/1"]


# -- multipart ------------------------------------------------------------------------------


def upload_parts(s3: Any, key: str, parts: list[bytes]) -> tuple[str, list[dict[str, Any]]]:
    upload_id = s3.create_multipart_upload(Bucket="bkt", Key=key)["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        etag = s3.upload_part(
            Bucket="bkt", Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
    return upload_id, done


def test_multipart_upload_round_trip(s3: Any) -> None:
    parts = [b"a" * (5 * MiB), b"b" * 100]
    upload_id, done = upload_parts(s3, "joined", parts)
    listed = s3.list_parts(Bucket="bkt", Key="joined", UploadId=upload_id)
    assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [(1, 5 * MiB), (2, 100)]
    uploads = s3.list_multipart_uploads(Bucket="bkt")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("joined", upload_id)]
    assert "Contents" not in s3.list_objects_v2(Bucket="bkt")  # not an object until complete
    completed = s3.complete_multipart_upload(
        Bucket="bkt", Key="joined", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    digests = b"".join(hashlib.md5(p, usedforsecurity=False).digest() for p in parts)
    assert completed["ETag"] == f'"{md5_hex(digests)}-2"'
    body = s3.get_object(Bucket="bkt", Key="joined")["Body"].read()
    assert body == b"".join(parts)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="bkt")
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket="bkt", Key="joined", UploadId=upload_id, MultipartUpload={"Parts": done}
        )
    assert error_of(excinfo)[::2] == ("NoSuchUpload", 404)


def test_multipart_errors(s3: Any) -> None:
    upload_id, done = upload_parts(s3, "k", [b"small", b"tail"])
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket="bkt", Key="k", UploadId=upload_id, MultipartUpload={"Parts": done}
        )
    assert error_of(excinfo)[::2] == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket="bkt", Key="k", UploadId=upload_id, MultipartUpload={"Parts": done[::-1]}
        )
    assert error_of(excinfo)[0] == "InvalidPartOrder"
    wrong = [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket="bkt", Key="k", UploadId=upload_id, MultipartUpload={"Parts": wrong}
        )
    assert error_of(excinfo)[0] == "InvalidPart"
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket="bkt", Key="k", UploadId=upload_id, PartNumber=10001, Body=b"x")
    assert error_of(excinfo)[0] == "InvalidArgument"
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket="bkt", Key="k", UploadId="nope", PartNumber=1, Body=b"x")
    assert error_of(excinfo)[0] == "NoSuchUpload"
    # A single part may be of any size.
    s3.complete_multipart_upload(
        Bucket="bkt", Key="k", UploadId=upload_id, MultipartUpload={"Parts": done[:1]}
    )
    assert s3.get_object(Bucket="bkt", Key="k")["Body"].read() == b"small"


def test_abort_and_upload_part_copy(s3: Any) -> None:
    upload_id, _ = upload_parts(s3, "gone", [b"x"])
    s3.abort_multipart_upload(Bucket="bkt", Key="gone", UploadId=upload_id)
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(Bucket="bkt", Key="gone", UploadId=upload_id)
    assert error_of(excinfo)[0] == "NoSuchUpload"
    source = bytes(range(256)) * (6 * 4096)  # 6 MiB
    s3.put_object(Bucket="bkt", Key="source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket="bkt", Key="copy")["UploadId"]
    first = s3.upload_part_copy(
        Bucket="bkt",
        Key="copy",
        UploadId=upload_id,
        PartNumber=1,
        CopySource="bkt/source",
        CopySourceRange=f"bytes=0-{5 * MiB - 1}",
    )
    second = s3.upload_part_copy(
        Bucket="bkt",
        Key="copy",
        UploadId=upload_id,
        PartNumber=2,
        CopySource="bkt/source",
        CopySourceRange=f"bytes={5 * MiB}-{len(source) - 1}",
    )
    parts = [
        {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]},
    ]
    s3.complete_multipart_upload(
        Bucket="bkt", Key="copy", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    assert s3.get_object(Bucket="bkt", Key="copy")["Body"].read() == source


def test_managed_transfer_round_trip(s3: Any, tmp_path: Any) -> None:
    from boto3.s3.transfer import TransferConfig

    data = hashlib.sha256(b"seed").digest() * (13 * MiB // 32)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_file(str(source), "bkt", "big.bin", Config=config)
    head = s3.head_object(Bucket="bkt", Key="big.bin", ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-3"')
    assert head["ChecksumType"] == "COMPOSITE"
    target = tmp_path / "target.bin"
    s3.download_file("bkt", "big.bin", str(target), Config=config)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
    buffer = io.BytesIO()
    s3.download_fileobj("bkt", "big.bin", buffer)
    assert buffer.getvalue() == data
