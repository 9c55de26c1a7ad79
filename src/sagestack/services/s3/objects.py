"""S3 objects: PutObject, GetObject, HeadObject, CopyObject, DeleteObject(s) and tagging."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.api.streams import BodyStream, StreamingPayload
from sagestack.services.s3.base import (
    S3Api,
    attributes_from,
    described,
    quoted,
    read_blob,
)
from sagestack.services.s3.bodies import receive_body, start_checksum
from sagestack.services.s3.conditions import byte_range, check_read, checked_tags
from sagestack.services.s3.errors import (
    invalid_request,
    precondition_failed,
    s3_error,
)
from sagestack.storage.local_index import StoredObject

#: Bodies up to this size are read in the handler and sent whole; larger ones stream.
INLINE_BODY = 256 * 1024

_COPY_TO_ITSELF = (
    "This copy request is illegal because it is trying to copy an object to itself without "
    "changing the object's metadata, storage class, website redirect location or encryption "
    "attributes."
)


class ObjectsApi(S3Api):
    @operation("PutObject", streams_body=True)
    async def put_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket, key = request["Bucket"], request["Key"]
        self.bucket(bucket)
        self._check_write_conditions(bucket, key, request)
        body: BodyStream = request.get("Body") or BodyStream.of(b"")
        checksum = start_checksum(body.headers)
        pending = self.store.begin([checksum] if checksum is not None else [])
        try:
            received = await receive_body(body, pending, checksum)
            attributes = replace(attributes_from(request), checksums=received.checksums)
            self._check_write_conditions(bucket, key, request)
            stored = self.store.commit_object(bucket, key, pending, received.md5_hex, attributes)
        except BaseException:
            pending.discard()
            raise
        output = {"ETag": quoted(stored.etag), "Size": stored.size}
        for algorithm, value in received.checksums.items():
            output[f"Checksum{algorithm}"] = value
            output["ChecksumType"] = "FULL_OBJECT"
        return output

    def _check_write_conditions(self, bucket: str, key: str, request: dict[str, Any]) -> None:
        """If-None-Match: * (create only) and If-Match: etag (replace only that version)."""
        if_none_match, if_match = request.get("IfNoneMatch"), request.get("IfMatch")
        if if_none_match is None and if_match is None:
            return
        current = self.store.index.object(bucket, key)
        if if_none_match is not None:
            if if_none_match.strip() != "*":
                raise s3_error("NotImplemented", 501, "If-None-Match on a write only supports '*'.")
            if current is not None:
                raise precondition_failed("If-None-Match")
        if if_match is not None:
            if current is None:
                raise s3_error("NoSuchKey", 404, "The specified key does not exist.", Key=key)
            if if_match.strip().strip('"') != current.etag:
                raise precondition_failed("If-Match")

    def _read(self, request: dict[str, Any]) -> tuple[StoredObject, dict[str, Any], int, int]:
        """The object a GET or HEAD names, after its conditions, with the headers to answer
        and the inclusive byte span to send (a Range narrows both)."""
        stored = self.object(request["Bucket"], request["Key"])
        check_read(request, stored.etag, stored.modified)
        part = request.get("PartNumber")
        if part is not None and part != 1:
            raise s3_error(
                "NotImplemented",
                501,
                "GetObject/HeadObject by PartNumber above 1 is not supported.",
            )
        output = described(stored, request)
        span = byte_range(request.get("Range"), stored.size)
        if span is None:
            return stored, output, 0, stored.size - 1
        first, last = span
        output = {k: v for k, v in output.items() if not k.startswith("Checksum")}
        output["ContentLength"] = last - first + 1
        output["ContentRange"] = f"bytes {first}-{last}/{stored.size}"
        return stored, output, first, last

    @operation("HeadObject")
    def head_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return self._read(request)[1]

    @operation("GetObject")
    def get_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        stored, output, first, last = self._read(request)
        status = 206 if "ContentRange" in output else None
        handle = self.store.open_blob(stored)
        if last - first < INLINE_BODY and status is None:
            with handle:  # small enough to send in one piece, without a worker thread
                output["Body"] = handle.read()
        else:
            output["Body"] = StreamingPayload(read_blob(handle, first, last), status)
        return output

    @operation("DeleteObject")
    def delete_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        self.bucket(request["Bucket"])
        self.store.remove(request["Bucket"], [request["Key"]])
        return {}

    @operation("DeleteObjects")
    def delete_objects(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = request["Bucket"]
        self.bucket(bucket)
        objects = request["Delete"]["Objects"]
        if len(objects) > 1000:
            raise s3_error(
                "MalformedXML",
                400,
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
            )
        keys = [each["Key"] for each in objects]
        self.store.remove(bucket, keys)
        if request["Delete"].get("Quiet"):
            return {}
        return {"Deleted": [{"Key": key} for key in keys]}

    @operation("CopyObject")
    def copy_object(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        source = self.copy_source(request)
        bucket, key = request["Bucket"], request["Key"]
        self.bucket(bucket)
        check_read(request, source.etag, source.modified, prefix="CopySource")
        self._check_write_conditions(bucket, key, request)
        replace_metadata = request.get("MetadataDirective", "COPY") == "REPLACE"
        replace_tags = request.get("TaggingDirective", "COPY") == "REPLACE"
        if (source.bucket, source.key) == (bucket, key) and not replace_metadata:
            raise invalid_request(_COPY_TO_ITSELF)
        attributes = attributes_from(request) if replace_metadata else source.attributes
        attributes = replace(
            attributes,
            tags=attributes_from(request).tags if replace_tags else source.attributes.tags,
            checksums=source.attributes.checksums,
            parts=source.attributes.parts,
        )
        stored = self.store.copy_object(source, bucket, key, attributes)
        result: dict[str, Any] = {"ETag": quoted(stored.etag), "LastModified": int(stored.modified)}
        for algorithm, value in stored.attributes.checksums.items():
            if value and "-" not in value:
                result[f"Checksum{algorithm}"] = value
        return {"CopyObjectResult": result}

    @operation("GetObjectTagging")
    def get_object_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        stored = self.object(request["Bucket"], request["Key"])
        tags = stored.attributes.tags
        return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}

    @operation("PutObjectTagging")
    def put_object_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        stored = self.object(request["Bucket"], request["Key"])
        pairs = [(tag["Key"], tag["Value"]) for tag in request["Tagging"]["TagSet"]]
        attributes = replace(stored.attributes, tags=checked_tags(pairs))
        self.store.update_attributes(stored.bucket, stored.key, attributes)
        return {}

    @operation("DeleteObjectTagging")
    def delete_object_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        stored = self.object(request["Bucket"], request["Key"])
        self.store.update_attributes(stored.bucket, stored.key, replace(stored.attributes, tags={}))
        return {}
