"""The image catalog: which sagestack runtime stands in for a container image.

Images are named as the SageMaker SDK resolves them (`<account>.dkr.ecr.<region>.amazonaws.com/
<repository>:<tag>`); the repository decides the runtime, whatever the registry account, region
or tag. Framework images run the user's script (script mode, or the request's
ContainerEntrypoint); built-in algorithm images run sagestack's implementation of the
algorithm. The SageMaker XGBoost image is both: script mode when the job names a program,
the XGBoost algorithm otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

#: Framework images: repository → framework (all run in script mode). The scikit-learn and
#: XGBoost images both train and serve; the deep-learning frameworks have one of each.
FRAMEWORKS = {
    "sagemaker-scikit-learn": "sklearn",
    "sagemaker-xgboost": "xgboost",
    "pytorch-training": "pytorch",
    "pytorch-inference": "pytorch",
    "sagemaker-pytorch": "pytorch",
    "tensorflow-training": "tensorflow",
    "tensorflow-inference": "tensorflow",
    "huggingface-pytorch-training": "huggingface",
    "huggingface-pytorch-inference": "huggingface",
    "sagemaker-base-python": "python",
}

#: Built-in algorithm images: repository → algorithm.
ALGORITHMS = {
    "sagemaker-xgboost": "xgboost",
    "xgboost": "xgboost",
    "kmeans": "kmeans",
    "linear-learner": "linear-learner",
}


@dataclass(frozen=True, slots=True)
class LocalImage:
    """A user's own image (bring your own container), registered with `sagestack images
    register`: the command the container would run, run in `directory`. SageMaker passes it
    `train` (or `serve`), and it finds the job under /opt/ml as in a container."""

    command: tuple[str, ...]
    directory: str


@dataclass(frozen=True, slots=True)
class Runtime:
    #: "script" (the user's code, by sagemaker_program or ContainerEntrypoint), "algorithm",
    #: or "local" (a registered image).
    mode: str
    #: The framework ("sklearn", "pytorch", ...), the algorithm ("kmeans", ...) or the image.
    name: str
    local: LocalImage | None = None


def parse_registry(text: str) -> dict[str, LocalImage]:
    """The registered images file: {"image": {"command": [...], "directory": "..."}}."""
    entries = json.loads(text) if text.strip() else {}
    return {
        image: LocalImage(tuple(entry["command"]), entry["directory"])
        for image, entry in entries.items()
    }


def render_registry(images: Mapping[str, LocalImage]) -> str:
    entries = {
        image: {"command": list(local.command), "directory": local.directory}
        for image, local in sorted(images.items())
    }
    return json.dumps(entries, indent=2) + "\n"


def repository(image: str) -> str:
    """The repository part of an image name: `acct.dkr.ecr.r.amazonaws.com/kmeans:1` → kmeans."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    path = name.split("/", 1)[1] if "/" in name else name
    if ":" in last:
        path = path.rsplit(":", 1)[0]
    return path


def runtime_for(
    image: str,
    *,
    has_program: bool,
    has_entrypoint: bool,
    registered: Mapping[str, LocalImage] | None = None,
) -> Runtime | None:
    """The runtime for `image` (a registered image first), or None when sagestack has none
    (the job then fails as SageMaker fails a job whose image it cannot pull)."""
    local = (registered or {}).get(image)
    if local is not None:
        return Runtime("local", image, local)
    repo = repository(image)
    if has_program or has_entrypoint:
        framework = FRAMEWORKS.get(repo)
        if framework is not None:
            return Runtime("script", framework)
    algorithm = ALGORITHMS.get(repo)
    if algorithm is not None:
        return Runtime("algorithm", algorithm)
    framework = FRAMEWORKS.get(repo)
    return Runtime("script", framework) if framework is not None else None


def instance_vcpus(instance_type: str) -> int | None:
    """vCPUs of an ML instance type by its size (`ml.m5.large` → 2, `ml.c5.4xlarge` → 16);
    None for a size this rule does not know (metal, local)."""
    size = instance_type.rsplit(".", 1)[-1]
    if size in ("medium", "large"):
        return 2
    if size == "xlarge":
        return 4
    if size.endswith("xlarge") and size[: -len("xlarge")].isdigit():
        return 4 * int(size[: -len("xlarge")])
    return None
