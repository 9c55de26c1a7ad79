"""S3 multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts and
ListMultipartUploads. Parts are stored as they arrive; Complete joins them into one object."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import replace
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.api.streams import BodyStream
from sagestack.services.s3.base import S3Api, attributes_from, owner, quoted
from sagestack.services.s3.bodies import new_checksum, receive_body, start_checksum
from sagestack.services.s3.conditions import byte_range, check_read
from sagestack.services.s3.errors import invalid_argument, invalid_request, s3_error
from sagestack.storage.local import CHUNK, PendingBlob
from sagestack.storage.local_index import Part, StoredObject

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000


def _check_part_number(number: int) -> None:
    if not 1 <= number <= MAX_PARTS:
        raise invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            str(number),
        )


def _multipart_etag(parts: list[Part]) -> str:
    """S3's ETag of a multipart object: MD5 of the parts' binary MD5s, then "-<count>"."""
    joined = b"".join(bytes.fromhex(part.etag) for part in parts)
    return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(parts)}"


def _composite_checksum(algorithm: str, parts: list[Part]) -> str:
    """The checksum of the parts' checksums, "-<count>" (S3's COMPOSITE checksum type)."""
    checksum = new_checksum(algorithm)
    for part in parts:
        checksum.update(base64.b64decode(part.checksums.get(algorithm, "")))
    return f"{checksum.b64digest()}-{len(parts)}"


class MultipartApi(S3Api):
    @operation("CreateMultipartUpload")
    def create_multipart_upload(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket, key = request["Bucket"], request["Key"]
        self.bucket(bucket)
        algorithm = request.get("ChecksumAlgorithm")
        if algorithm is not None:
            new_checksum(algorithm)  # refuses what cannot be computed here, before any part
        attributes = attributes_from(request)
        if algorithm is not None:
            attributes = replace(attributes, checksums={algorithm: ""})
        upload = self.store.create_upload(bucket, key, attributes)
        output: dict[str, Any] = {"Bucket": bucket, "Key": key, "UploadId": upload.upload_id}
        if algorithm is not None:
            output.update(ChecksumAlgorithm=algorithm, ChecksumType="COMPOSITE")
        return output

    @operation("UploadPart", streams_body=True)
    async def upload_part(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        _check_part_number(request["PartNumber"])
        upload = self.upload(request["Bucket"], request["Key"], request["UploadId"])
        body: BodyStream = request.get("Body") or BodyStream.of(b"")
        checksum = start_checksum(body.headers)
        pending = self.store.begin([checksum] if checksum is not None else [])
        try:
            received = await receive_body(body, pending, checksum)
            self.store.commit_part(
                upload, request["PartNumber"], pending, received.md5_hex, received.checksums
            )
        except BaseException:
            pending.discard()
            raise
        output = {"ETag": quoted(received.md5_hex)}
        for algorithm, value in received.checksums.items():
            output[f"Checksum{algorithm}"] = value
        return output

    def _copy_span(self, source: StoredObject, first: int, last: int, pending: PendingBlob) -> str:
        """Bytes `first`..`last` of `source` into `pending` (on a worker thread); the MD5."""
        with self.store.open_blob(source) as handle:
            handle.seek(first)
            remaining = last - first + 1
            while remaining > 0:
                chunk = handle.read(min(remaining, CHUNK))
                if not chunk:
                    break
                pending.write(chunk)
                remaining -= len(chunk)
        return pending.finish()

    @operation("UploadPartCopy")
    async def upload_part_copy(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        _check_part_number(request["PartNumber"])
        upload = self.upload(request["Bucket"], request["Key"], request["UploadId"])
        source = self.copy_source(request)
        check_read(request, source.etag, source.modified, prefix="CopySource")
        first, last = 0, source.size - 1
        if request.get("CopySourceRange"):
            span = byte_range(request["CopySourceRange"], source.size)
            if span is None:
                raise invalid_argument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last "
                    "where first and last are the zero-based offsets of the first and last "
                    "bytes to copy",
                    "x-amz-copy-source-range",
                    request["CopySourceRange"],
                )
            first, last = span
        pending = self.store.begin()
        try:
            etag = await asyncio.to_thread(self._copy_span, source, first, last, pending)
            part = self.store.commit_part(upload, request["PartNumber"], pending, etag, {})
        except BaseException:
            pending.discard()
            raise
        return {"CopyPartResult": {"ETag": quoted(part.etag), "LastModified": int(part.modified)}}

    @operation("CompleteMultipartUpload")
    def complete_multipart_upload(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket, key = request["Bucket"], request["Key"]
        upload = self.upload(bucket, key, request["UploadId"])
        listed = (request.get("MultipartUpload") or {}).get("Parts") or []
        if not listed:
            raise s3_error(
                "MalformedXML",
                400,
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
            )
        numbers = [each["PartNumber"] for each in listed]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise s3_error(
                "InvalidPartOrder",
                400,
                "The list of parts was not in ascending order. The parts list must be "
                "specified in order by part number.",
                UploadId=upload.upload_id,
            )
        stored_parts = {part.number: part for part in self.store.index.parts(upload.upload_id)}
        chosen: list[Part] = []
        for each in listed:
            part = stored_parts.get(each["PartNumber"])
            if part is None or each.get("ETag", "").strip('"') != part.etag:
                raise s3_error(
                    "InvalidPart",
                    400,
                    "One or more of the specified parts could not be found.  The part may not "
                    "have been uploaded, or the specified entity tag may not match the part's "
                    "entity tag.",
                    UploadId=upload.upload_id,
                    PartNumber=each["PartNumber"],
                    ETag=each.get("ETag", ""),
                )
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_SIZE:
                raise s3_error(
                    "EntityTooSmall",
                    400,
                    "Your proposed upload is smaller than the minimum allowed object size.",
                    ProposedSize=part.size,
                    MinSizeAllowed=MIN_PART_SIZE,
                    PartNumber=part.number,
                    ETag=part.etag,
                )
        expected_size = request.get("MpuObjectSize")
        if expected_size is not None and expected_size != sum(p.size for p in chosen):
            raise invalid_request(
                "The provided 'x-amz-mp-object-size' header value does not match what was computed."
            )
        checksums = {
            algorithm: _composite_checksum(algorithm, chosen)
            for algorithm in upload.attributes.checksums
            if all(algorithm in part.checksums for part in chosen)
        }
        attributes = replace(upload.attributes, checksums=checksums, parts=len(chosen))
        stored = self.store.complete_upload(upload, chosen, _multipart_etag(chosen), attributes)
        output: dict[str, Any] = {
            "Location": f"/{bucket}/{key}",
            "Bucket": bucket,
            "Key": key,
            "ETag": quoted(stored.etag),
        }
        for algorithm, value in checksums.items():
            output[f"Checksum{algorithm}"] = value
            output["ChecksumType"] = "COMPOSITE"
        return output

    @operation("AbortMultipartUpload")
    def abort_multipart_upload(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        upload = self.upload(request["Bucket"], request["Key"], request["UploadId"])
        self.store.abort_upload(upload)
        return {}

    @operation("ListParts")
    def list_parts(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        upload = self.upload(request["Bucket"], request["Key"], request["UploadId"])
        marker = request.get("PartNumberMarker") or 0
        limit = min(request.get("MaxParts", 1000), 1000)
        after = [p for p in self.store.index.parts(upload.upload_id) if p.number > int(marker)]
        page = after[:limit]
        output: dict[str, Any] = {
            "Bucket": upload.bucket,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": len(after) > limit,
            "Parts": [
                {
                    "PartNumber": p.number,
                    "LastModified": int(p.modified),
                    "ETag": quoted(p.etag),
                    "Size": p.size,
                    **{f"Checksum{a}": v for a, v in p.checksums.items()},
                }
                for p in page
            ]
            or None,
            "Initiator": owner(ctx),
            "Owner": owner(ctx),
            "StorageClass": "STANDARD",
        }
        if page and len(after) > limit:
            output["NextPartNumberMarker"] = page[-1].number
        algorithms = list(upload.attributes.checksums)
        if algorithms:
            output.update(ChecksumAlgorithm=algorithms[0], ChecksumType="COMPOSITE")
        return output

    @operation("ListMultipartUploads")
    def list_multipart_uploads(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = self.bucket(request["Bucket"]).name
        key_marker = request.get("KeyMarker", "")
        id_marker = request.get("UploadIdMarker", "")
        limit = min(request.get("MaxUploads", 1000), 1000)
        uploads = self.store.index.uploads(bucket, request.get("Prefix", ""))
        if id_marker:  # resume right after the marker upload, in (key, initiation) order
            ids = [u.upload_id for u in uploads]
            uploads = uploads[ids.index(id_marker) + 1 :] if id_marker in ids else []
        elif key_marker:
            uploads = [u for u in uploads if u.key > key_marker]
        page = uploads[:limit]
        output: dict[str, Any] = {
            "Bucket": bucket,
            "KeyMarker": key_marker,
            "UploadIdMarker": id_marker,
            "Prefix": request.get("Prefix"),
            "MaxUploads": limit,
            "IsTruncated": len(uploads) > limit,
            "Uploads": [
                {
                    "UploadId": u.upload_id,
                    "Key": u.key,
                    "Initiated": int(u.initiated),
                    "StorageClass": "STANDARD",
                    "Owner": owner(ctx),
                    "Initiator": owner(ctx),
                }
                for u in page
            ]
            or None,
        }
        if len(uploads) > limit:
            output.update(NextKeyMarker=page[-1].key, NextUploadIdMarker=page[-1].upload_id)
        return output
