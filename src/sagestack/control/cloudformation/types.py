"""The CloudFormation resource types sagestack provides, and how each maps onto the SageMaker
API: which operations create, describe, update and delete it, which property names it, what
Ref and Fn::GetAtt answer, and when it is ready.

A type joins by one entry in `TYPES`. CloudFormation's property names for these types are the
API's request members (Tags too: a list of {Key, Value}), so properties pass through as they
are; `renamed` covers a type whose names differ. Every type's Ref is its ARN (AWS's resource
docs: "Ref returns the ARN of the ..."); its name and ARN attributes come from the create and
describe outputs, and any other attribute is the describe output's member of that name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ResourceType:
    type_name: str
    create: str
    describe: str
    delete: str
    #: The request member that names the resource (CloudFormation generates a name when the
    #: template leaves it out); None when the API names it itself (model package versions).
    name_property: str | None
    #: The describe/delete request member that identifies the resource.
    identifier: str
    #: Create output member holding the ARN (the Ref value).
    arn_member: str
    #: Fn::GetAtt attributes answered by the physical name ("EndpointName").
    name_attributes: frozenset[str] = frozenset()
    #: Properties changed in place by an update operation: property → operation; a change
    #: to any other property (but Tags) replaces the resource.
    updates: Mapping[str, str] = field(default_factory=dict)
    #: Describe output member with the status, and the statuses meaning done / failed (a
    #: create waits for done, as CloudFormation waits for an endpoint to be InService).
    status_member: str | None = None
    ready: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()
    #: Describe output member holding the failure reason.
    reason_member: str = "FailureReason"
    #: CloudFormation property → API request member, where they differ.
    renamed: Mapping[str, str] = field(default_factory=dict)
    #: Whether a delete finishes later (the describe keeps answering until it does).
    deletes_later: bool = False
    #: Longest generated name.
    name_length: int = 63

    @classmethod
    def sagemaker(cls, noun: str, **options: Any) -> ResourceType:
        """`AWS::SageMaker::<noun>`, on the API's Create/Describe/Delete<noun> operations and its
        <noun>Name / <noun>Arn members, as SageMaker names them; `options` for what differs."""
        named: dict[str, Any] = {
            "name_property": f"{noun}Name",
            "identifier": f"{noun}Name",
            "arn_member": f"{noun}Arn",
            "name_attributes": frozenset({f"{noun}Name"}),
        }
        return cls(
            f"AWS::SageMaker::{noun}",
            create=f"Create{noun}",
            describe=f"Describe{noun}",
            delete=f"Delete{noun}",
            **{**named, **options},
        )


TYPES: Mapping[str, ResourceType] = {
    t.type_name: t
    for t in (
        ResourceType.sagemaker("Model"),
        ResourceType.sagemaker("EndpointConfig"),
        ResourceType.sagemaker(
            "Endpoint",
            updates={
                "EndpointConfigName": "UpdateEndpoint",
                "DeploymentConfig": "UpdateEndpoint",
                "RetainAllVariantProperties": "UpdateEndpoint",
                "ExcludeRetainedVariantProperties": "UpdateEndpoint",
                "RetainDeploymentConfig": "UpdateEndpoint",
            },
            status_member="EndpointStatus",
            ready=frozenset({"InService"}),
            failed=frozenset({"Failed", "UpdateRollbackFailed", "OutOfService"}),
            deletes_later=True,
        ),
        ResourceType.sagemaker(
            "ModelPackageGroup",
            status_member="ModelPackageGroupStatus",
            ready=frozenset({"Completed"}),
            failed=frozenset({"Failed", "DeleteFailed"}),
            deletes_later=True,
        ),
        ResourceType.sagemaker(
            "ModelPackage",
            name_property=None,  # versions are numbered by the API
            name_attributes=frozenset(),
            status_member="ModelPackageStatus",
            ready=frozenset({"Completed"}),
            failed=frozenset({"Failed"}),
            reason_member="ModelPackageStatusDetails",
            deletes_later=True,
        ),
    )
}

#: Properties that never make a resource be replaced: tags change in place (AddTags/DeleteTags).
IN_PLACE = frozenset({"Tags"})
