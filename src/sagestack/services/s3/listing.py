"""S3 object listings: ListObjectsV2 and ListObjects (v1), with delimiters and url encoding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sagestack.api.context import RequestContext
from sagestack.api.registry import operation
from sagestack.services.s3.base import S3Api, decode_marker, encode_marker, owner, quoted
from sagestack.services.s3.errors import invalid_argument
from sagestack.storage.local_index import StoredObject

MAX_KEYS = 1000
#: Appended to a common prefix, a string that sorts after every key under that prefix.
_PAST = "\U0010ffff" * 4


@dataclass(slots=True)
class Listing:
    contents: list[StoredObject] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    #: The last key or common prefix returned: where the next page starts after.
    last: str = ""


def list_keys(
    fetch: Callable[[str, int], list[StoredObject]],
    *,
    prefix: str,
    delimiter: str,
    after: str,
    limit: int,
) -> Listing:
    """One page of keys under `prefix` after `after`, rolling keys that contain `delimiter`
    past the prefix into common prefixes (each counts once against `limit`).

    `fetch(after, n)` returns up to n objects with the prefix after a key, in key order.
    """
    listing = Listing()
    while limit > 0:
        batch = fetch(after, min(limit, MAX_KEYS) + 1)
        if not batch:
            return listing
        for stored in batch:
            if len(listing.contents) + len(listing.prefixes) == limit:
                listing.truncated = True
                return listing
            cut = stored.key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                common = stored.key[: cut + len(delimiter)]
                listing.prefixes.append(common)
                listing.last = common
                after = common + _PAST  # skip the rest of this prefix in one step
                break
            listing.contents.append(stored)
            listing.last = after = stored.key
        else:
            if len(batch) <= min(limit, MAX_KEYS):
                return listing
    return listing


def _url(value: str, encode: bool) -> str:
    return quote(value, safe="/") if encode else value


class ListingApi(S3Api):
    def _page(self, request: dict[str, Any], after: str) -> Listing:
        bucket = self.bucket(request["Bucket"]).name
        prefix = request.get("Prefix", "")
        limit = request.get("MaxKeys", MAX_KEYS)
        if limit < 0:
            raise invalid_argument(
                "Provided max-keys not an integer or within integer range",
                "max-keys",
                str(limit),
            )
        return list_keys(
            lambda start, n: self.store.index.objects_after(bucket, prefix, start, n),
            prefix=prefix,
            delimiter=request.get("Delimiter", ""),
            after=after,
            limit=min(limit, MAX_KEYS),
        )

    def _rendered(
        self, ctx: RequestContext, request: dict[str, Any], listing: Listing, owners: bool
    ) -> dict[str, Any]:
        encode = request.get("EncodingType") == "url"
        contents = []
        for stored in listing.contents:
            entry: dict[str, Any] = {
                "Key": _url(stored.key, encode),
                "LastModified": int(stored.modified),
                "ETag": quoted(stored.etag),
                "Size": stored.size,
                "StorageClass": "STANDARD",
            }
            algorithms = [a for a, v in stored.attributes.checksums.items() if v]
            if algorithms:
                entry["ChecksumAlgorithm"] = algorithms
                entry["ChecksumType"] = "FULL_OBJECT"
            if owners:
                entry["Owner"] = owner(ctx)
            contents.append(entry)
        output: dict[str, Any] = {
            "Name": request["Bucket"],
            "Prefix": _url(request.get("Prefix", ""), encode),
            "MaxKeys": request.get("MaxKeys", MAX_KEYS),
            "IsTruncated": listing.truncated,
            "Contents": contents or None,
            "CommonPrefixes": [{"Prefix": _url(p, encode)} for p in listing.prefixes] or None,
            "EncodingType": request.get("EncodingType"),
        }
        if request.get("Delimiter"):
            output["Delimiter"] = _url(request["Delimiter"], encode)
        return output

    @operation("ListObjectsV2")
    def list_objects_v2(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        token = request.get("ContinuationToken")
        after = decode_marker(token) if token else request.get("StartAfter", "")
        listing = self._page(request, after)
        output = self._rendered(ctx, request, listing, bool(request.get("FetchOwner")))
        output["KeyCount"] = len(listing.contents) + len(listing.prefixes)
        output["ContinuationToken"] = token
        if request.get("StartAfter"):
            output["StartAfter"] = _url(request["StartAfter"], request.get("EncodingType") == "url")
        if listing.truncated:
            resume = listing.last + (_PAST if listing.last in listing.prefixes else "")
            output["NextContinuationToken"] = encode_marker(resume)
        return output

    @operation("ListObjects")
    def list_objects(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        marker = request.get("Marker", "")
        after = marker + _PAST if marker.endswith(request.get("Delimiter") or "\0") else marker
        listing = self._page(request, after)
        output = self._rendered(ctx, request, listing, owners=True)
        encode = request.get("EncodingType") == "url"
        output["Marker"] = _url(marker, encode)
        if listing.truncated and request.get("Delimiter"):
            output["NextMarker"] = _url(listing.last, encode)
        return output
