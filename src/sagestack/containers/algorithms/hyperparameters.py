"""Typed access to a training job's hyperparameters, with the errors a built-in algorithm gives.

Values arrive as strings from CreateTrainingJob. Some clients JSON-encode them (`"\\"auto\\""`) and
the SDK writes lists with Python quotes (`"['msd', 'ssd']"`), so both spellings are accepted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sagestack.containers.algorithms.errors import AlgorithmError

AUTO = "auto"


def _decode(value: str) -> str:
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        if isinstance(decoded, str):
            return decoded.strip()
    return text


class Hyperparameters:
    """The job's hyperparameters; each accessor validates and converts one of them."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.values = {name: _decode(str(value)) for name, value in raw.items()}

    def has(self, name: str) -> bool:
        return name in self.values

    def is_auto(self, name: str) -> bool:
        """Absent, or set to `auto`: the algorithm picks the value itself."""
        return self.values.get(name, AUTO).lower() == AUTO

    def require(self, name: str) -> str:
        if name not in self.values or self.values[name] == "":
            raise AlgorithmError(f"Missing required hyperparameter: {name}")
        return self.values[name]

    def text(self, name: str, default: str) -> str:
        return self.values.get(name, default)

    def choice(self, name: str, default: str, options: Sequence[str]) -> str:
        value = self.values.get(name, default)
        if value not in options:
            raise AlgorithmError(
                f"Hyperparameter {name}: value {value!r} is not one of {', '.join(options)}"
            )
        return value

    def _number(self, name: str, kind: type[int] | type[float]) -> int | float:
        value = self.values[name]
        try:
            if kind is int:
                as_float = float(value)
                if not as_float.is_integer():
                    raise ValueError(value)
                return int(as_float)
            return float(value)
        except ValueError:
            word = "an integer" if kind is int else "a number"
            raise AlgorithmError(f"Hyperparameter {name}: value {value!r} is not {word}") from None

    def _bounded(
        self, name: str, number: float, minimum: float | None, maximum: float | None
    ) -> None:
        if minimum is not None and number < minimum:
            raise AlgorithmError(f"Hyperparameter {name}: value {number} is below {minimum}")
        if maximum is not None and number > maximum:
            raise AlgorithmError(f"Hyperparameter {name}: value {number} is above {maximum}")

    def integer(
        self,
        name: str,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        """The integer value; a None default makes the hyperparameter required."""
        if name not in self.values or (default is not None and self.is_auto(name)):
            if default is None:
                self.require(name)
            assert default is not None
            return default
        number = int(self._number(name, int))
        self._bounded(name, number, minimum, maximum)
        return number

    def number(
        self,
        name: str,
        default: float,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        if name not in self.values or self.is_auto(name):
            return default
        number = float(self._number(name, float))
        self._bounded(name, number, minimum, maximum)
        return number

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self.values or self.is_auto(name):
            return default
        value = self.values[name].lower()
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise AlgorithmError(f"Hyperparameter {name}: value {value!r} is not true or false")

    def string_list(self, name: str, default: Sequence[str]) -> list[str]:
        """A JSON list (`["msd","ssd"]`, or the SDK's `['msd', 'ssd']`) or a comma list."""
        if name not in self.values:
            return list(default)
        value = self.values[name].strip()
        if value.startswith("["):
            try:
                parsed = json.loads(value.replace("'", '"'))
            except ValueError:
                raise AlgorithmError(f"Hyperparameter {name}: {value!r} is not a list") from None
            return [str(item).strip() for item in parsed]
        return [item.strip() for item in value.split(",") if item.strip()]
