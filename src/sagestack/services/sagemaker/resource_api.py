"""What every SageMaker resource API shares: create, fetch, delete and list records by name,
with SageMaker's own wording for "already exists" and "could not find"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sagestack.api.context import RequestContext
from sagestack.resources.arns import arn
from sagestack.resources.lifecycles import created_event, deleted_event
from sagestack.resources.records import Event, ResourceRecord
from sagestack.services.sagemaker.listing import ListRules, list_records
from sagestack.services.sagemaker.tags import checked_tags
from sagestack.spec.errors import ResourceInUse, ServiceError, ValidationException
from sagestack.spec.pagination import TokenCodec
from sagestack.store.base import Change, RecordBusy, RecordExists, ResourceStore, change_record

#: A job kind's status change: (record, status, now=..., **state) → (changed, event).
Advance = Callable[..., tuple[ResourceRecord, Event | None]]


class ResourceApi:
    """Base of the per-family APIs. `noun` is how SageMaker names the kind in messages."""

    kind: str
    noun: str

    def __init__(self, store: ResourceStore, tokens: TokenCodec) -> None:
        self.store = store
        self.tokens = tokens

    def arn_of(self, ctx: RequestContext, name: str) -> str:
        return arn(self.kind, ctx.account, ctx.region, name)

    def create_record(
        self,
        ctx: RequestContext,
        name: str,
        spec: Mapping[str, Any],
        tags: Sequence[Mapping[str, str]] | None = None,
        *,
        status: str | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> ResourceRecord:
        record = ResourceRecord(
            kind=self.kind,
            account=ctx.account,
            region=ctx.region,
            name=name,
            arn=self.arn_of(ctx, name),
            spec=spec,
            creation_time=ctx.now,
            last_modified_time=ctx.now,
            status=status,
            state=state or {},
        )
        try:
            self.store.insert(record, tags=checked_tags(tags or []), event=created_event(record))
        except RecordExists:
            raise self.already_exists(record.arn) from None
        return record

    def already_exists(self, arn: str) -> ServiceError:
        """The error SageMaker gives for a name taken in the account and region."""
        return ValidationException(f'Cannot create already existing {self.noun} "{arn}".')

    def require(self, ctx: RequestContext, name: str) -> ResourceRecord:
        record = self.store.get(self.kind, ctx.account, ctx.region, name)
        if record is None:
            raise ValidationException(f'Could not find {self.noun} "{self.arn_of(ctx, name)}".')
        return record

    def change(
        self, ctx: RequestContext, name: str, change: Change, missing: ServiceError
    ) -> ResourceRecord:
        """The named record with `change` applied (store.change_record); `missing` when there
        is no such record."""
        try:
            record = change_record(self.store, self.arn_of(ctx, name), change)
        except RecordBusy:
            raise ResourceInUse(
                f"{self.noun[0].upper()}{self.noun[1:]} {name} is changing too often; try again."
            ) from None
        if record is None:
            raise missing
        return record

    def stop_job(
        self, ctx: RequestContext, name: str, advance: Advance, missing: ServiceError
    ) -> ResourceRecord:
        """Stop{Training,Processing,Transform}Job: an InProgress job goes Stopping (its
        controller then ends its processes and the job); in any other status SageMaker
        rejects the request."""

        def stop(record: ResourceRecord) -> tuple[ResourceRecord, Event | None]:
            if record.status != "InProgress":
                raise ValidationException(
                    f"The request was rejected because the {self.noun} is in status "
                    f"{record.status}."
                )
            return advance(record, "Stopping", now=ctx.now, StopRequested=True)

        return self.change(ctx, name, stop, missing)

    def delete_record(self, ctx: RequestContext, name: str) -> ResourceRecord:
        record = self.require(ctx, name)
        removed = self.store.delete(
            self.kind, ctx.account, ctx.region, name, event=deleted_event(record, now=ctx.now)
        )
        if removed is None:  # deleted by a concurrent request in between
            raise ValidationException(f'Could not find {self.noun} "{record.arn}".')
        return removed

    def list_page(
        self, ctx: RequestContext, request: Mapping[str, Any], rules: ListRules
    ) -> tuple[list[ResourceRecord], str | None]:
        return list_records(self.store, self.tokens, ctx, request, rules)
