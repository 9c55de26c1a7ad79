"""Amazon Resource Names: building SageMaker ARNs and taking any ARN apart.

SageMaker lower-cases the resource name in its ARNs ("MyModel" → ".../model/mymodel"), which is
why names are unique per kind, account and region without regard to case.
"""

from __future__ import annotations

from dataclasses import dataclass


def arn(
    kind: str,
    account: str,
    region: str,
    name: str,
    *,
    partition: str = "aws",
    service: str = "sagemaker",
) -> str:
    """The ARN of a resource: `arn:aws:sagemaker:<region>:<account>:<kind>/<lower-cased name>`."""
    return f"arn:{partition}:{service}:{region}:{account}:{kind}/{name.lower()}"


@dataclass(frozen=True, slots=True)
class Arn:
    """An ARN taken apart. Region and account may be empty (IAM and S3 ARNs leave them out);
    the resource is `<resource_type>/<resource_name>`, where the name may itself hold slashes."""

    partition: str
    service: str
    region: str
    account: str
    resource_type: str
    resource_name: str

    @classmethod
    def parse(cls, text: str) -> Arn:
        """Parse `arn:partition:service:region:account:type/name`; ValueError if malformed."""
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            raise ValueError(f"Not an ARN: {text!r}")
        _, partition, service, region, account, resource = parts
        resource_type, slash, resource_name = resource.partition("/")
        if not (partition and service and resource_type and slash and resource_name):
            raise ValueError(f"Malformed ARN: {text!r}")
        return cls(partition, service, region, account, resource_type, resource_name)

    def __str__(self) -> str:
        return (
            f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:"
            f"{self.resource_type}/{self.resource_name}"
        )
