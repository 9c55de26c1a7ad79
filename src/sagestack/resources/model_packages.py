"""What model-package, model-package-group and algorithm records hold, shared by their APIs
(services) and the validation controller (control).

A versioned model package's record is named `<group>/<version>`, so its ARN is SageMaker's
`model-package/<group>/<version>` (lower-cased); an unversioned one is named by its
ModelPackageName. A group's `state` keeps `LatestVersion` (versions are never reused, even
after a delete) and `ResourcePolicy`.

Packages and algorithms share one lifecycle (botocore's `ModelPackageStatus` and
`AlgorithmStatus`: Pending | InProgress | Completed | Failed | Deleting): records needing work
(validation profiles, an image scan) are created Pending and the validation controller moves
them; the others are Completed at once. `state` holds, in DescribeX's own member names:

- `ValidationStatuses`, `ImageScanStatuses`: [{Name, Status, FailureReason?}] per profile /
  image (DetailedModelPackageStatus: NotStarted | InProgress | Completed | Failed);
- `ValidationJobs`: {profile: {TrainingJobName?, ModelName?, TransformJobName?}} (internal).

Every status change goes through `advance`, on `resources.lifecycles.transition`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sagestack.resources.lifecycles import transition
from sagestack.resources.records import Event, ResourceRecord

PACKAGE_KIND = "model-package"
GROUP_KIND = "model-package-group"
ALGORITHM_KIND = "algorithm"

#: `state` members the controller keeps for itself; never rendered.
INTERNAL_STATE = frozenset({"ValidationJobs"})


#: `state` members rendered as the StatusDetails structure, not on their own.
_STATUS_DETAILS = ("ValidationStatuses", "ImageScanStatuses")


def rendered_state(record: ResourceRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a package's or algorithm's Describe shows of its `state`: the public members, and
    its StatusDetails ({ValidationStatuses, ImageScanStatuses})."""
    hidden = INTERNAL_STATE.union(_STATUS_DETAILS)
    public = {k: v for k, v in record.state.items() if k not in hidden}
    return public, {name: record.state.get(name, []) for name in _STATUS_DETAILS}


def status_items(names: list[str], status: str = "NotStarted") -> list[dict[str, Any]]:
    """One DetailedModelPackageStatus item per profile or image."""
    return [{"Name": name, "Status": status} for name in names]


def advance(
    record: ResourceRecord, status: str | None, *, now: float, **state: Any
) -> tuple[ResourceRecord, Event | None]:
    """The record with `state` members set and, when `status` differs from its own, moved to
    `status` (resources.lifecycles: IllegalTransition for an edge it lacks), with the
    StatusChanged event. Pure."""
    merged = {**record.state, **state}
    if status is None or status == record.status:
        return dataclasses.replace(record, state=merged, last_modified_time=now), None
    changed, event = transition(record, status, now=now)
    return dataclasses.replace(changed, state=merged), event


def user_context(principal_arn: str, user_id: str) -> dict[str, Any]:
    """A UserContext (CreatedBy / LastModifiedBy) for a caller outside Studio: its IAM
    identity. SageMaker adds UserProfileName/DomainId only for Studio user profiles, which
    sagestack has none of."""
    identity = {"Arn": principal_arn, "PrincipalId": user_id}
    return {"IamIdentity": {k: v for k, v in identity.items() if v}}


def version_name(group: str, version: int) -> str:
    """A versioned package's record name: what follows `model-package/` in its ARN."""
    return f"{group}/{version}"
