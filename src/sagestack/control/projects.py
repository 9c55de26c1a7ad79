"""The project controller: provisions each project's template providers as CloudFormation
stacks of SageMaker resources, one worker thread per project.

Pending → CreateInProgress → CreateCompleted | CreateFailed (what was created rolled back);
UpdateInProgress (set by UpdateProject) → UpdateCompleted | UpdateFailed (the stack as it was
before); DeleteInProgress (set by DeleteProject) → the record removed | DeleteFailed. Templates
are read from the object store; resources are created through the injected `Invoke` (the API's
own handlers), so they are validated and behave exactly as if a client had asked. Waiting for a
resource (an endpoint going InService) happens on the project's worker, never on the
reconciler's thread, whose other controllers do the work being waited for.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sagestack.control.cloudformation.plan import make_plan, pseudo_parameters
from sagestack.control.cloudformation.stacks import Resources, StackFailure, StackOperations
from sagestack.control.cloudformation.template import TemplateError, parse_template
from sagestack.control.cloudformation.types import TYPES
from sagestack.control.workers import Workers
from sagestack.resources.lifecycles import allows, deleted_event
from sagestack.resources.projects import (
    KIND,
    Invoke,
    Principal,
    advance,
    template_location,
)
from sagestack.resources.records import Event, ResourceRecord
from sagestack.storage.base import ObjectStore, ObjectStoreError
from sagestack.store.base import ResourceStore, change_record

LOG = logging.getLogger(__name__)

#: Largest template CloudFormation reads from S3 (1 MB).
MAX_TEMPLATE_BYTES = 1_000_000
_INTERRUPTED = {
    "CreateInProgress": "CreateFailed",
    "UpdateInProgress": "UpdateFailed",
    "DeleteInProgress": "DeleteFailed",
}


class ProjectController:
    kind = KIND

    def __init__(
        self,
        store: ResourceStore,
        *,
        objects: ObjectStore,
        invoke: Invoke,
        clock: Callable[[], float] = time.time,
        wait_seconds: float = 600.0,
    ) -> None:
        self._store = store
        self._objects = objects
        self._invoke = invoke
        self._clock = clock
        self._wait_seconds = wait_seconds
        self._workers = Workers(self._converge, "project")
        self._stop = threading.Event()

    # -- reconciler hooks -------------------------------------------------------------------

    def notify(self, event: Event) -> None:
        if event.type != "Deleted":
            self._workers.schedule(event.arn)

    def recover(self, arn: str, status: str | None) -> None:
        """After a restart: an operation the previous server was running is lost midway, so
        it ends failed (its stack message says so); a Pending project starts now."""
        if status in _INTERRUPTED:
            self._write(
                arn,
                _INTERRUPTED[status],
                lambda stack: {
                    **stack,
                    "StatusMessage": "sagestack restarted while this operation ran; "
                    "the stack may hold resources it no longer tracks.",
                },
            )
        elif status == "Pending":
            self._workers.schedule(arn)

    def reset(self) -> None:
        self._stop.set()
        self._workers.join(timeout=10)
        self._stop = threading.Event()

    def close(self) -> None:
        self._stop.set()

    # -- converging -------------------------------------------------------------------------

    def _converge(self, arn: str) -> None:
        record = self._store.get_by_arn(arn)
        if record is None or self._stop.is_set():
            return
        if record.status == "Pending":
            started = self._write(arn, "CreateInProgress", _message("CREATE_IN_PROGRESS"))
            if started is not None and started.status == "CreateInProgress":
                self._provision(started, creating=True)
        elif record.status == "UpdateInProgress":
            self._provision(record, creating=False)
        elif record.status == "DeleteInProgress":
            self._delete(record)

    def _provision(self, record: ResourceRecord, *, creating: bool) -> None:
        stacks = {name: dict(stack) for name, stack in record.state.get("Stacks", {}).items()}
        failed = False
        for provider in record.spec.get("TemplateProviders", []):
            cfn = provider["CfnTemplateProvider"]
            stack = stacks[cfn["TemplateName"]]
            current: Resources = dict(stack.get("Resources", {}))
            operations = self._operations(record)
            try:
                plan = make_plan(
                    self._template(cfn["TemplateURL"]),
                    {p["Key"]: p.get("Value") for p in cfn.get("Parameters", [])},
                    pseudo_parameters(
                        region=record.region,
                        account=record.account,
                        stack_name=stack["Name"],
                        stack_id=stack["Id"],
                    ),
                    TYPES,
                )
                if creating:
                    resources = operations.create(plan)
                else:
                    resources = operations.update(plan, current)
                done = "CREATE_COMPLETE" if creating else "UPDATE_COMPLETE"
                stack.update(Resources=resources, StatusMessage=done)
            except TemplateError as error:
                failed = True
                prefix = "ROLLBACK_COMPLETE" if creating else "UPDATE_ROLLBACK_COMPLETE"
                stack.update(StatusMessage=f"{prefix}: {error}")
            except StackFailure as failure:
                failed = True
                stack.update(Resources=failure.resources, StatusMessage=failure.message)
            stacks[cfn["TemplateName"]] = stack
        if creating:
            status = "CreateFailed" if failed else "CreateCompleted"
        else:
            status = "UpdateFailed" if failed else "UpdateCompleted"
        self._write(record.arn, status, stacks=stacks)

    def _delete(self, record: ResourceRecord) -> None:
        stacks = {name: dict(stack) for name, stack in record.state.get("Stacks", {}).items()}
        operations = self._operations(record)
        failed = False
        for stack in stacks.values():
            try:
                operations.delete(dict(stack.get("Resources", {})))
                stack.update(Resources={}, StatusMessage="DELETE_COMPLETE")
            except StackFailure as failure:
                failed = True
                stack.update(Resources=failure.resources, StatusMessage=failure.message)
        if failed:
            self._write(record.arn, "DeleteFailed", stacks=stacks)
            return
        current = self._store.get_by_arn(record.arn)
        if current is not None:
            self._store.delete(
                current.kind,
                current.account,
                current.region,
                current.name,
                event=deleted_event(current, now=self._clock()),
            )

    def _operations(self, record: ResourceRecord) -> StackOperations:
        identity = record.spec.get("CreatedBy", {}).get("IamIdentity", {})
        principal = Principal(
            record.account,
            record.region,
            principal_arn=identity.get("Arn", ""),
            user_id=identity.get("PrincipalId", ""),
        )
        tags = [{"Key": k, "Value": v} for k, v in self._store.tags(record.arn)]
        tags = [t for t in tags if not t["Key"].startswith("sagemaker:project-")]
        tags += [
            {"Key": "sagemaker:project-name", "Value": record.name},
            {"Key": "sagemaker:project-id", "Value": record.spec["ProjectId"]},
        ]
        return StackOperations(
            self._invoke, principal, tags, stop=self._stop, wait_seconds=self._wait_seconds
        )

    def _template(self, url: str) -> dict[str, Any]:
        try:
            bucket, key = template_location(url)
        except ValueError as error:
            raise TemplateError(str(error)) from None
        try:
            with self._objects.open_object(bucket, key) as body:
                data = body.read(MAX_TEMPLATE_BYTES + 1)
        except ObjectStoreError:
            raise TemplateError(
                f"TemplateURL must reference a valid S3 object to which you have access: {url}"
            ) from None
        if len(data) > MAX_TEMPLATE_BYTES:
            raise TemplateError(
                f"Template may not exceed {MAX_TEMPLATE_BYTES} bytes in size: {url}"
            )
        try:
            return parse_template(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise TemplateError("Template format error: the template is not UTF-8 text") from None

    def _write(
        self,
        arn: str,
        status: str,
        each_stack: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        *,
        stacks: Mapping[str, Any] | None = None,
    ) -> ResourceRecord | None:
        """Move the project to `status`, its stacks replaced by `stacks` or changed by
        `each_stack`; nothing when it is gone or may not go there."""

        def change(record: ResourceRecord) -> tuple[ResourceRecord, Event] | None:
            if not allows(record, status):
                return None
            new = dict(stacks) if stacks is not None else dict(record.state.get("Stacks", {}))
            if each_stack is not None:
                new = {name: each_stack(dict(stack)) for name, stack in new.items()}
            return advance(record, status, now=self._clock(), Stacks=new)

        return change_record(self._store, arn, change)


def _message(text: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda stack: {**stack, "StatusMessage": text}
