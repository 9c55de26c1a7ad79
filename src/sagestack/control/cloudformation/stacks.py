"""Creating, updating and deleting a stack's resources through the SageMaker API, with
CloudFormation's semantics:

- create: resources in dependency order, each waited for until it is ready (an endpoint until
  InService); a failure deletes what was created, in reverse order (rollback);
- update: new resources created, changed ones updated in place (what the type allows, such as
  an endpoint's EndpointConfigName) or replaced by a new one (a new generated name; a
  custom-named resource cannot be replaced), tags changed in place; only when all of that
  succeeded are replaced and removed resources deleted (cleanup). A failure undoes the update:
  in-place changes are reverted and what it created is deleted;
- delete: every resource in reverse creation order, waiting for those that go away slowly.

A stack's resources are kept as {logical id: {Type, PhysicalId, Arn, Properties, Tags}} in
creation order; the caller stores that map after each operation.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sagestack.control.cloudformation.intrinsics import evaluate
from sagestack.control.cloudformation.plan import Plan
from sagestack.control.cloudformation.template import TemplateError
from sagestack.control.cloudformation.types import IN_PLACE, TYPES, ResourceType
from sagestack.resources.projects import Invoke, OperationFailed, Principal

Resources = dict[str, dict[str, Any]]


class StackFailure(Exception):
    """The operation failed; `resources` is what the stack holds afterwards (after rollback)."""

    def __init__(self, message: str, resources: Resources) -> None:
        super().__init__(message)
        self.message = message
        self.resources = resources


@dataclass(slots=True)
class StackOperations:
    invoke: Invoke
    principal: Principal
    #: Tags every created resource gets (the project's, and sagemaker:project-name/-id).
    tags: list[dict[str, str]]
    stop: threading.Event = field(default_factory=threading.Event)
    wait_seconds: float = 600.0
    poll_seconds: float = 0.1

    # -- create -------------------------------------------------------------------------------

    def create(self, plan: Plan) -> Resources:
        """Every resource of `plan`; StackFailure (with nothing left) when one fails."""
        resources: Resources = {}
        for logical_id in plan.order:
            try:
                resources[logical_id] = self._create(plan, logical_id, resources)
            except (OperationFailed, TemplateError, TimeoutError) as error:
                reason = f"The following resource(s) failed to create: [{logical_id}]. "
                reason += f"{logical_id}: {_reason(error)}"
                left = self._rolled_back(resources, {})
                raise StackFailure(_rollback_message("ROLLBACK", reason, left), left) from None
        return resources

    def _create(self, plan: Plan, logical_id: str, done: Resources) -> dict[str, Any]:
        kind = TYPES[plan.resource(logical_id)["Type"]]
        properties = self._properties(plan, logical_id, done)
        return self._make(kind, logical_id, properties)

    def _properties(self, plan: Plan, logical_id: str, done: Resources) -> dict[str, Any]:
        ctx = plan.context(
            ref=lambda name: self._ref(name, done),
            get_att=lambda name, attribute: self._attribute(name, attribute, done),
        )
        evaluated = evaluate(dict(plan.resource(logical_id).get("Properties", {})), ctx)
        if not isinstance(evaluated, dict):
            raise TemplateError(f"Template error: {logical_id}'s Properties must be an object")
        return evaluated

    def _make(
        self, kind: ResourceType, logical_id: str, properties: dict[str, Any]
    ) -> dict[str, Any]:
        request = {kind.renamed.get(k, k): v for k, v in properties.items() if k != "Tags"}
        if kind.name_property is not None and kind.name_property not in request:
            request[kind.name_property] = _generated_name(logical_id, kind.name_length)
        tags = {t["Key"]: t.get("Value", "") for t in properties.get("Tags", [])}
        tags.update((t["Key"], t["Value"]) for t in self.tags)
        request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        output = self.invoke(kind.create, request, self.principal)
        arn = str(output[kind.arn_member])
        physical = request[kind.name_property] if kind.name_property else arn
        resource = {
            "Type": kind.type_name,
            "PhysicalId": physical,
            "Arn": arn,
            "Properties": properties,
        }
        try:
            self._wait_ready(kind, physical)
        except (OperationFailed, TimeoutError):
            self._delete_one(resource)
            raise
        return resource

    # -- update -------------------------------------------------------------------------------

    def update(self, plan: Plan, current: Resources) -> Resources:
        """The stack changed from `current` to `plan`; StackFailure with `current` restored
        when a change fails."""
        resources: Resources = {}
        created: Resources = {}
        reverted: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for logical_id in plan.order:
            try:
                resources[logical_id] = self._changed(
                    plan,
                    logical_id,
                    current.get(logical_id),
                    resources,
                    created=created,
                    reverted=reverted,
                )
            except (OperationFailed, TemplateError, TimeoutError) as error:
                reason = f"The following resource(s) failed to update: [{logical_id}]. "
                reason += f"{logical_id}: {_reason(error)}"
                for new, old in reversed(reverted):
                    self._apply_update(TYPES[old["Type"]], new, old["Properties"])
                left = self._rolled_back(created, current)
                message = _rollback_message("UPDATE_ROLLBACK", reason, left)
                raise StackFailure(message, dict(current)) from None
        kept = {resource["Arn"] for resource in resources.values()}
        leftovers = [r for r in reversed(list(current.values())) if r["Arn"] not in kept]
        failures = []
        for resource in leftovers:
            try:
                self._delete_one(resource)
            except (OperationFailed, TimeoutError) as error:
                failures.append(f"{resource['PhysicalId']}: {_reason(error)}")
        if failures:
            raise StackFailure(
                "UPDATE_COMPLETE, but cleanup could not delete: " + "; ".join(failures), resources
            )
        return resources

    def _changed(
        self,
        plan: Plan,
        logical_id: str,
        old: dict[str, Any] | None,
        done: Resources,
        *,
        created: Resources,
        reverted: list[tuple[dict[str, Any], dict[str, Any]]],
    ) -> dict[str, Any]:
        kind = TYPES[plan.resource(logical_id)["Type"]]
        properties = self._properties(plan, logical_id, done)
        if old is None or old["Type"] != kind.type_name:
            created[logical_id] = self._make(kind, logical_id, properties)
            return created[logical_id]
        changes = {
            key
            for key in set(properties) | set(old["Properties"])
            if properties.get(key) != old["Properties"].get(key)
        }
        if not changes:
            return old
        updated = {**old, "Properties": properties}
        if changes <= IN_PLACE | set(kind.updates):
            if changes - IN_PLACE:
                self._apply_update(kind, old, properties)
                reverted.append((updated, old))
            self._retag(old, old["Properties"].get("Tags", []), properties.get("Tags", []))
            return updated
        name = kind.name_property
        if (
            name is not None
            and name in properties
            and properties[name] == old["Properties"].get(name)
        ):
            raise TemplateError(
                "CloudFormation cannot update a stack when a custom-named resource requires "
                f"replacing. Rename {properties[name]} and update the stack again."
            )
        created[logical_id] = self._make(kind, logical_id, properties)
        return created[logical_id]

    def _apply_update(
        self, kind: ResourceType, resource: Mapping[str, Any], properties: Mapping[str, Any]
    ) -> None:
        operations = {kind.updates[key] for key in kind.updates if key in properties}
        for operation in sorted(operations):
            request = {
                k: properties[k]
                for k, op in kind.updates.items()
                if op == operation and k in properties
            }
            request[kind.identifier] = resource["PhysicalId"]
            self.invoke(operation, request, self.principal)
            self._wait_ready(kind, str(resource["PhysicalId"]))

    def _retag(self, resource: Mapping[str, Any], old: list[Any], new: list[Any]) -> None:
        before = {t["Key"]: t.get("Value", "") for t in old}
        after = {t["Key"]: t.get("Value", "") for t in new}
        removed = [key for key in before if key not in after]
        if removed:
            self.invoke(
                "DeleteTags", {"ResourceArn": resource["Arn"], "TagKeys": removed}, self.principal
            )
        added = [{"Key": k, "Value": v} for k, v in after.items() if before.get(k) != v]
        if added:
            self.invoke("AddTags", {"ResourceArn": resource["Arn"], "Tags": added}, self.principal)

    # -- delete -------------------------------------------------------------------------------

    def delete(self, current: Resources) -> None:
        """Every resource, newest first; StackFailure with those that could not be deleted."""
        left = dict(current)
        failures = []
        for logical_id, resource in reversed(list(current.items())):
            try:
                self._delete_one(resource)
                del left[logical_id]
            except (OperationFailed, TimeoutError) as error:
                failures.append(f"{logical_id}: {_reason(error)}")
        if failures:
            message = "DELETE_FAILED: The following resource(s) failed to delete: "
            raise StackFailure(message + "; ".join(failures), left)

    def _rolled_back(self, created: Resources, kept: Resources) -> Resources:
        """Delete `created` newest first; what is left of it joins `kept`."""
        left = dict(kept)
        for logical_id, resource in reversed(list(created.items())):
            try:
                self._delete_one(resource)
            except (OperationFailed, TimeoutError):
                left[f"{logical_id} (rollback)"] = resource
        return left

    def _delete_one(self, resource: Mapping[str, Any]) -> None:
        kind = TYPES[resource["Type"]]
        identity = {kind.identifier: resource["PhysicalId"]}
        try:
            self.invoke(kind.delete, identity, self.principal)
        except OperationFailed as error:
            if _gone(error):
                return
            raise
        if not kind.deletes_later:
            return
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                self.invoke(kind.describe, identity, self.principal)
            except OperationFailed as error:
                if _gone(error):
                    return
                raise
            self._pause(deadline, f"{resource['PhysicalId']} was not deleted in time")

    # -- references and waiting -----------------------------------------------------------

    def _ref(self, name: str, done: Resources) -> Any:
        if name not in done:
            raise TemplateError(
                f"Template format error: Unresolved resource dependencies [{name}] in the "
                "Resources block of the template"
            )
        return done[name]["Arn"]

    def _attribute(self, name: str, attribute: str, done: Resources) -> Any:
        resource = done.get(name)
        if resource is None:
            raise TemplateError(
                f"Template error: instance of Fn::GetAtt references undefined resource {name}"
            )
        kind = TYPES[resource["Type"]]
        if attribute in kind.name_attributes:
            return resource["PhysicalId"]
        if attribute == kind.arn_member:
            return resource["Arn"]
        described = self.invoke(
            kind.describe, {kind.identifier: resource["PhysicalId"]}, self.principal
        )
        if attribute not in described:
            raise TemplateError(
                f"Template error: resource {name} does not support attribute type {attribute} "
                "in Fn::GetAtt"
            )
        return described[attribute]

    def _wait_ready(self, kind: ResourceType, physical: str) -> None:
        if kind.status_member is None:
            return
        deadline = time.monotonic() + self.wait_seconds
        while True:
            described = self.invoke(kind.describe, {kind.identifier: physical}, self.principal)
            status = described.get(kind.status_member)
            if status in kind.ready:
                return
            if status in kind.failed:
                reason = described.get(kind.reason_member) or f"{kind.status_member} is {status}"
                raise OperationFailed("NotStabilized", f"{physical} is {status}: {reason}")
            self._pause(deadline, f"{physical} did not stabilize in time (it is {status})")

    def _pause(self, deadline: float, message: str) -> None:
        if time.monotonic() > deadline or self.stop.is_set():
            raise TimeoutError(message if not self.stop.is_set() else "sagestack is stopping")
        self.stop.wait(self.poll_seconds)


def _generated_name(logical_id: str, length: int) -> str:
    """A unique physical name as CloudFormation makes them: the logical id and a suffix."""
    alphabet = string.ascii_letters + string.digits
    suffix = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{logical_id[: length - len(suffix) - 1]}-{suffix}"


def _gone(error: OperationFailed) -> bool:
    """Whether an error says the resource does not exist (deleting it is then done)."""
    text = error.message.lower()
    return error.code in ("ValidationException", "ResourceNotFound") and (
        "could not find" in text or "not found" in text or "does not exist" in text
    )


def _reason(error: Exception) -> str:
    if isinstance(error, OperationFailed):
        return f"{error.code}: {error.message}"
    return str(error)


def _rollback_message(prefix: str, reason: str, left: Resources) -> str:
    if not left or prefix == "UPDATE_ROLLBACK":
        return f"{prefix}_COMPLETE: {reason}"
    return f"{prefix}_FAILED: {reason} Rollback could not delete: {', '.join(left)}"
