"""What a project record holds, shared by its API (services) and its controller (control).

`spec` (desired state, written by the API): ProjectDescription, ProjectId, CreatedBy,
LastModifiedBy, and `TemplateProviders`: [{CfnTemplateProvider: {TemplateName, TemplateURL,
RoleARN?, Parameters?}}] as last requested (UpdateProject's TemplateProvidersToUpdate replace
the URL and parameters of the provider of the same TemplateName).

`state` (observed, written by the controller): `Stacks`, by TemplateName: {Name, Id,
StatusMessage, Resources: {logical id: {Type, PhysicalId, Arn, Properties}}}, the resources
each template's stack holds now, in creation order, with the properties they were made with.

Statuses are botocore's `ProjectStatus`; every change goes through `advance`, which checks the
edge and yields the StatusChanged event. DeleteInProgress ends with the record removed (or
DeleteFailed).

The controller provisions through the API's own handlers, which `control/` may not import:
app.py injects an `Invoke` that runs one SageMaker operation (validated against the botocore
model) as the project's creator, raising `OperationFailed` with the API's error.
"""

from __future__ import annotations

import dataclasses
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from sagestack.resources.lifecycles import transition
from sagestack.resources.records import Event, ResourceRecord

KIND = "project"

#: Statuses in which UpdateProject and DeleteProject are accepted.
UPDATABLE = frozenset({"CreateCompleted", "UpdateCompleted", "UpdateFailed"})
DELETABLE = frozenset(
    {
        "Pending",
        "CreateCompleted",
        "CreateFailed",
        "UpdateCompleted",
        "UpdateFailed",
        "DeleteFailed",
    }
)


def advance(
    record: ResourceRecord, to_status: str, *, now: float, **state: Any
) -> tuple[ResourceRecord, Event]:
    """The project moved to `to_status` (resources.lifecycles: IllegalTransition for an edge
    it lacks) with `state` members set, and its StatusChanged event. Pure."""
    changed, event = transition(record, to_status, now=now)
    return dataclasses.replace(changed, state={**changed.state, **state}), event


def new_project_id() -> str:
    """A project id as SageMaker makes them: `p-` and 12 lower-case letters and digits."""
    alphabet = string.ascii_lowercase + string.digits
    return "p-" + "".join(secrets.choice(alphabet) for _ in range(12))


def stack_name(project_name: str, template_name: str) -> str:
    """The name of the CloudFormation stack of one template provider (starts with a letter,
    as stack names must)."""
    return f"sagemaker-{project_name}-{template_name}"[:128]


def stack_id(region: str, account: str, name: str) -> str:
    return f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{secrets.token_hex(16)}"


def template_location(url: str) -> tuple[str, str]:
    """(bucket, key) of a template URL: `s3://bucket/key`, virtual-hosted
    `https://bucket.s3[.region|-region].amazonaws.com/key` or path-style
    `https://<host>/bucket/key` (AWS's s3 hosts, or sagestack's own); ValueError otherwise."""
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    host = (parts.hostname or "").lower()
    if parts.scheme == "s3":
        bucket, key = host, path
    elif parts.scheme in ("https", "http"):
        prefix, marker, _ = host.partition(".s3")
        if marker and host.endswith(".amazonaws.com") and prefix:
            bucket, key = prefix, path
        else:
            bucket, _, key = path.partition("/")
    else:
        bucket, key = "", ""
    if not bucket or not key:
        raise ValueError(f"TemplateURL {url} is not the URL of an S3 object.")
    return bucket, key


@dataclass(frozen=True, slots=True)
class Principal:
    """Whom the controller acts as: the project's account, region and creator."""

    account: str
    region: str
    principal_arn: str = ""
    user_id: str = ""


class OperationFailed(Exception):
    """An operation the controller invoked answered an error (its code and message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


#: Runs one SageMaker operation with its request and returns its output.
Invoke = Callable[[str, Mapping[str, Any], Principal], dict[str, Any]]
