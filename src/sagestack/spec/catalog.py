"""Load botocore service models once per process (the pinned botocore is the API version)."""

from __future__ import annotations

from functools import cache

from botocore.loaders import Loader
from botocore.model import ServiceModel

#: The services sagestack serves on its port, by botocore client name.
SERVED_SERVICES: tuple[str, ...] = ("sagemaker", "sagemaker-runtime", "s3", "sts", "logs")


@cache
def _loader() -> Loader:
    return Loader()


@cache
def load_service(name: str) -> ServiceModel:
    """The botocore ServiceModel for a client name such as "sagemaker" or "s3"."""
    data = _loader().load_service_model(name, "service-2")
    return ServiceModel(data, service_name=name)
