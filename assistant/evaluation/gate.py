"""The gate: thresholds from flags or pyproject, and a baseline report to compare with."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EvaluationError

if TYPE_CHECKING:
    pass

from .dataset import DEFAULT_QUESTIONS

log = logging.getLogger(__name__)

# Metrics where a smaller value is better: a baseline comparison flags a rise.
LOWER_IS_BETTER = ("false_refusal", "invalid_marker", "uncited", "hallucinated", "latency", "length")


def parse_thresholds(items: list[str] | None) -> dict[str, float]:
    thresholds = {}
    for item in items or []:
        name, _, value = item.partition("=")
        try:
            thresholds[name.strip()] = float(value)
        except ValueError:
            raise EvaluationError(
                f"Threshold {item!r} must be METRIC=NUMBER, e.g. citation.recall=0.9"
            ) from None
    return thresholds


def pyproject_thresholds(
    questions: Path = DEFAULT_QUESTIONS, path: Path = Path("pyproject.toml")
) -> tuple[dict[str, float], dict[str, float]]:
    """The ``min`` and ``max`` tables of ``[tool.assistant.eval.<question set's file stem>]``,
    else of ``[tool.assistant.eval]`` itself, if the file has them."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))["tool"]["assistant"]["eval"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return {}, {}
    table = table.get(questions.stem, table)
    return dict(table.get("min", {})), dict(table.get("max", {}))


def gate(
    report: dict[str, Any],
    minimum: dict[str, float],
    maximum: dict[str, float],
    baseline: dict[str, Any] | None = None,
    max_drop: float = 0.02,
) -> list[str]:
    """Every way the report falls short; an empty list passes."""
    values = {name: stat["value"] for name, stat in report["aggregates"].items()}
    problems = []
    for name, bound in minimum.items():
        _known(name, values)
        if not values[name] >= bound:
            problems.append(f"{name} = {values[name]:.3f} is below the minimum {bound}")
    for name, bound in maximum.items():
        _known(name, values)
        if not values[name] <= bound:
            problems.append(f"{name} = {values[name]:.3f} is above the maximum {bound}")
    for name, stat in (baseline or {}).get("aggregates", {}).items():
        if name not in values or name.startswith("latency."):
            continue
        change = values[name] - stat["value"]
        worse = change > max_drop if any(w in name for w in LOWER_IS_BETTER) else -change > max_drop
        if worse:
            problems.append(
                f"{name} moved from {stat['value']:.3f} to {values[name]:.3f} (allowed {max_drop})"
            )
    return problems


def _known(name: str, values: dict[str, float]) -> None:
    if name not in values:
        raise EvaluationError(f"Unknown metric {name!r}; known: {', '.join(sorted(values))}")
