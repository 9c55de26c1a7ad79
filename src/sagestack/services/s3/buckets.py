"""S3 buckets: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, tags."""

from __future__ import annotations

from typing import Any

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.services.s3.base import S3Api, decode_marker, encode_marker, owner
from sagestack.services.s3.conditions import check_bucket_name, checked_tags
from sagestack.services.s3.errors import invalid_argument, no_such_bucket, s3_error
from sagestack.storage.base import NoSuchBucket
from sagestack.storage.local import BucketAlreadyExists, BucketNotEmpty


class BucketsApi(S3Api):
    @operation("ListBuckets")
    def list_buckets(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        prefix = request.get("Prefix", "")
        region = request.get("BucketRegion")
        token = request.get("ContinuationToken")
        after = decode_marker(token) if token else ""
        limit = request.get("MaxBuckets", 10000)
        if not 1 <= limit <= 10000:
            raise invalid_argument(
                "Argument max-buckets must be an integer between 1 and 10000",
                "max-buckets",
                str(limit),
            )
        chosen = [
            b
            for b in self.store.index.buckets()
            if b.name.startswith(prefix)
            and b.name > after
            and (region is None or b.region == region)
        ]
        page = chosen[:limit]
        output: dict[str, Any] = {
            "Buckets": [
                {"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region} for b in page
            ],
            "Owner": owner(ctx),
            "Prefix": request.get("Prefix"),
        }
        if len(chosen) > limit:
            output["ContinuationToken"] = encode_marker(page[-1].name)
        return output

    @operation("CreateBucket")
    def create_bucket(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["Bucket"]
        check_bucket_name(name)
        constraint = (request.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
        region = constraint or "us-east-1"
        if region != ctx.region:
            shown = constraint or "unspecified"
            raise s3_error(
                "IllegalLocationConstraintException",
                400,
                f"The {shown} location constraint is incompatible for the region specific "
                "endpoint this request was sent to.",
            )
        try:
            self.store.create_bucket(name, region)
        except BucketAlreadyExists:
            if region != "us-east-1":  # us-east-1 answers 200 to its owner, for old clients
                raise s3_error(
                    "BucketAlreadyOwnedByYou",
                    409,
                    "Your previous request to create the named bucket succeeded and you "
                    "already own it.",
                    BucketName=name,
                ) from None
        return {"Location": f"/{name}", "BucketArn": f"arn:aws:s3:::{name}"}

    @operation("HeadBucket")
    def head_bucket(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = self.bucket(request["Bucket"])
        if request.get("ExpectedBucketOwner") not in (None, ctx.account):
            raise s3_error("AccessDenied", 403, "Access Denied")
        return {"BucketRegion": bucket.region, "AccessPointAlias": False}

    @operation("DeleteBucket")
    def delete_bucket(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["Bucket"]
        try:
            self.store.delete_bucket(name)
        except NoSuchBucket:
            raise no_such_bucket(name) from None
        except BucketNotEmpty:
            raise s3_error(
                "BucketNotEmpty",
                409,
                "The bucket you tried to delete is not empty",
                BucketName=name,
            ) from None
        return {}

    @operation("GetBucketLocation")
    def get_bucket_location(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = self.bucket(request["Bucket"])
        # S3 answers an empty LocationConstraint for us-east-1, its original region.
        return {"LocationConstraint": None if bucket.region == "us-east-1" else bucket.region}

    @operation("GetBucketTagging")
    def get_bucket_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = self.bucket(request["Bucket"])
        if bucket.tags is None:
            raise s3_error(
                "NoSuchTagSet",
                404,
                "The TagSet does not exist",
                BucketName=bucket.name,
            )
        return {"TagSet": [{"Key": k, "Value": v} for k, v in bucket.tags.items()]}

    @operation("PutBucketTagging")
    def put_bucket_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = self.bucket(request["Bucket"])
        pairs = [(tag["Key"], tag["Value"]) for tag in request["Tagging"]["TagSet"]]
        tags = checked_tags(pairs) if len(pairs) <= 10 else dict(pairs)
        self.store.set_bucket_tags(bucket.name, tags)
        return {}

    @operation("DeleteBucketTagging")
    def delete_bucket_tagging(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = self.bucket(request["Bucket"])
        self.store.set_bucket_tags(bucket.name, None)
        return {}
