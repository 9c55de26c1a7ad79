"""The image catalog: which sagestack runtime stands in for a container image.

Images are named as the SageMaker SDK resolves them (`<account>.dkr.ecr.<region>.amazonaws.com/
<repository>:<tag>`); the repository decides the runtime, whatever the registry account, region
or tag. Framework images run the user's script (script mode, or the request's
ContainerEntrypoint); built-in algorithm images run sagestack's implementation of the
algorithm. The SageMaker XGBoost image is both: script mode when the job names a program,
the XGBoost algorithm otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Framework images: repository → framework (all run in script mode).
FRAMEWORKS = {
    "sagemaker-scikit-learn": "sklearn",
    "sagemaker-xgboost": "xgboost",
    "pytorch-training": "pytorch",
    "sagemaker-pytorch": "pytorch",
    "tensorflow-training": "tensorflow",
    "huggingface-pytorch-training": "huggingface",
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
class Runtime:
    #: "script" (the user's code, by sagemaker_program or ContainerEntrypoint) or "algorithm".
    mode: str
    #: The framework ("sklearn", "pytorch", ...) or the algorithm ("kmeans", ...).
    name: str


def repository(image: str) -> str:
    """The repository part of an image name: `acct.dkr.ecr.r.amazonaws.com/kmeans:1` → kmeans."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    path = name.split("/", 1)[1] if "/" in name else name
    if ":" in last:
        path = path.rsplit(":", 1)[0]
    return path


def runtime_for(image: str, *, has_program: bool, has_entrypoint: bool) -> Runtime | None:
    """The runtime for `image`, or None when sagestack has none (the job then fails as
    SageMaker fails a job whose image it cannot pull)."""
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
