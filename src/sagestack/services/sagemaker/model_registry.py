"""What the model-registry APIs (groups, packages, algorithms, CreateModel from a package)
share: resolving a name-or-ARN to its record, and reading every record of a kind for the
listings whose filters the generic list engine does not know."""

from __future__ import annotations

from collections.abc import Iterator

from sagestack.api.context import RequestContext
from sagestack.resources.arns import Arn
from sagestack.resources.model_packages import GROUP_KIND, PACKAGE_KIND
from sagestack.resources.records import ResourceRecord
from sagestack.store.base import ListQuery, ResourceStore


def name_of(name_or_arn: str, kind: str) -> str | None:
    """The resource name in `name_or_arn` (itself when it is no ARN); None when it is the ARN
    of another kind."""
    if not name_or_arn.startswith("arn:"):
        return name_or_arn
    try:
        parsed = Arn.parse(name_or_arn)
    except ValueError:
        return None
    return parsed.resource_name if parsed.resource_type == kind else None


def find(
    store: ResourceStore, ctx: RequestContext, kind: str, name_or_arn: str
) -> ResourceRecord | None:
    """The record of `kind` named or ARN'd by `name_or_arn` in the caller's account/region."""
    if name_or_arn.startswith("arn:"):
        record = store.get_by_arn(name_or_arn.lower())
        if record is None or record.kind != kind:
            return None
        return record if (record.account, record.region) == (ctx.account, ctx.region) else None
    return store.get(kind, ctx.account, ctx.region, name_or_arn)


def find_package(
    store: ResourceStore, ctx: RequestContext, name_or_arn: str
) -> ResourceRecord | None:
    """A model package by unversioned name, by ARN (versioned or not)."""
    return find(store, ctx, PACKAGE_KIND, name_or_arn)


def find_group(
    store: ResourceStore, ctx: RequestContext, name_or_arn: str
) -> ResourceRecord | None:
    return find(store, ctx, GROUP_KIND, name_or_arn)


def all_records(
    store: ResourceStore, kind: str, account: str, region: str
) -> Iterator[ResourceRecord]:
    """Every record of `kind`, oldest first, read in pages."""
    after = None
    while True:
        page = store.list(kind, account, region, ListQuery(ascending=True, limit=500, after=after))
        yield from page.records
        if page.next_cursor is None:
            return
        after = page.next_cursor


def group_versions(
    store: ResourceStore, account: str, region: str, group: str
) -> list[ResourceRecord]:
    """The versions a group holds now, in version order."""
    prefix = f"{group.lower()}/"
    found = [
        record
        for record in all_records(store, PACKAGE_KIND, account, region)
        if record.name.lower().startswith(prefix)
    ]
    return sorted(found, key=lambda record: int(record.spec.get("ModelPackageVersion", 0)))
