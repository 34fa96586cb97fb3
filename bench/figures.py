"""One measured figure and its goal."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    key: str
    label: str
    value: float | None
    unit: str
    goal: str = ""  # human-readable, e.g. "<= 3"
    met: bool | None = None  # None: informational, no goal
    command: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit == "ratio":
            return f"{self.value:.2f}x"
        if isinstance(self.value, float) and self.value < 10:
            return f"{self.value:.2f} {self.unit}"
        return f"{self.value:,.0f} {self.unit}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit
