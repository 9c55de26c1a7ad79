"""The exceptions the built-in algorithms raise, kept apart so every module can import them
without importing the package (which dispatches to the modules)."""

from __future__ import annotations

from collections.abc import Sequence


class AlgorithmError(Exception):
    """A problem with the user's input (hyperparameters, data): becomes FailureReason
    "AlgorithmError: <message>" in training, and a 400 answer in hosting."""


class UnsupportedContentType(Exception):
    """A request body in a format the algorithm's inference container does not read: HTTP 415,
    as the SageMaker images answer."""

    status = 415

    def __init__(self, content_type: str, supported: Sequence[str] = ()) -> None:
        self.content_type = content_type
        self.supported = tuple(supported)
        super().__init__(self.describe())

    def describe(self) -> str:
        listed = ", ".join(self.supported)
        return f"Content type {self.content_type} is not supported. Supported: {listed}."


class UnsupportedAccept(UnsupportedContentType):
    """An Accept the algorithm cannot produce: HTTP 406 (the XGBoost image's answer). A subclass,
    so a server that only knows UnsupportedContentType still refuses it; `status` tells them
    apart."""

    status = 406

    def describe(self) -> str:
        listed = ", ".join(self.supported)
        return f"Accept type {self.content_type} is not supported. Supported: {listed}."
