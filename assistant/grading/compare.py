"""``--compare``: two systems' answers to the same questions, graded alike, side by side."""

from __future__ import annotations

from typing import Any

from ..reports import comparison_table
from .alignment import normalize


def compare(first: dict[str, Any], second: dict[str, Any], labels: tuple[str, str]) -> dict[str, Any]:
    """Both reports' figures side by side, and the questions one system passed and the other failed.

    Questions are matched by their text (case, quotes and spacing aside), as two systems
    rarely share ids; those only one system answered are counted, not compared.
    """
    theirs = {normalize(r["question"]): r for r in second["results"]}
    pairs = [
        (r, theirs[normalize(r["question"])]) for r in first["results"] if normalize(r["question"]) in theirs
    ]
    differ = [
        {
            "question": a["question"],
            "ids": [a["id"], b["id"]],
            "passed": [a["passed"], b["passed"]],
            "failures": [a["failures"], b["failures"]],
        }
        for a, b in pairs
        if a["passed"] != b["passed"]
    ]
    return {
        "questions": len(pairs),
        "only_in": [len(first["results"]) - len(pairs), len(second["results"]) - len(pairs)],
        "generators": [
            {
                "generator": label,
                "label": label,
                "metrics": report["aggregates"],
                "seconds": report["seconds"],
            }
            for label, report in zip(labels, (first, second), strict=True)
        ],
        "passed": [sum(a["passed"] for a, _ in pairs), sum(b["passed"] for _, b in pairs)],
        "differ": differ,
    }


def comparison_rows(comparison: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """A row per metric (as ``assistant eval --compare`` shows generators), then the question counts."""
    head, rows = comparison_table(comparison)
    rows.append(["questions passed (of those both answered)", *(str(n) for n in comparison["passed"])])
    rows.append(["questions only this system answered", *(str(n) for n in comparison["only_in"])])
    return head, rows
