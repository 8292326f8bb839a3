"""Running a question set through the assistant: the report that every other part reads."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import metrics
from ..errors import EvaluationError, QuestionError

if TYPE_CHECKING:
    from ..pipeline import Assistant

from .aggregates import aggregate, calibrate_checker, naive_baseline
from .dataset import DEFAULT_PAIRS, QuestionRecord
from .scoring import QuestionResult, Scorer

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


def evaluate(
    bot: Assistant,
    records: list[QuestionRecord],
    *,
    pairs: Path | None = DEFAULT_PAIRS,
    baseline: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """Ask every question and build the full report as a JSON-ready dict."""
    began = time.perf_counter()
    bot.retriever.embed("warm-up")  # load the index and the model before timing questions
    scorer = Scorer(bot)
    results = []
    for number, record in enumerate(records, start=1):
        if progress:
            progress_bar(number, len(records))
        try:
            answer = bot.ask(record.question, record.history)
        except QuestionError as exc:
            raise EvaluationError(f"{record.id}: the assistant rejected the question: {exc}") from None
        results.append(scorer.score(record, answer))
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": _git_commit(),
        "config": _config(bot),
        "corpus": {d: short_hash(t) for d, t in scorer.texts.items()},
        "checker": getattr(bot.checker, "name", type(bot.checker).__name__),
        "questions": len(records),
        "aggregates": aggregate(results),
        "by_kind": _by_kind(results),
        "results": [asdict(r) for r in results],
    }
    if baseline:
        report["baseline"] = {"name": "naive: top-2 sentences by cosine, refuse below 0.35"}
        report["baseline"]["aggregates"] = naive_baseline(bot, records, scorer)
    if pairs is not None and pairs.exists():
        report["checker_calibration"] = calibrate_checker(bot, pairs)
    report["seconds"] = round(time.perf_counter() - began, 2)
    return report


def _by_kind(results: list[QuestionResult]) -> dict[str, dict[str, float]]:
    kinds: dict[str, list[QuestionResult]] = {}
    for r in results:
        kinds.setdefault(r.kind, []).append(r)
    return {
        kind: {"questions": len(rs), "correct": metrics.mean([float(not r.failures) for r in rs])}
        for kind, rs in sorted(kinds.items())
    }


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _config(bot: Assistant) -> dict[str, Any]:
    settings = bot.settings.model_dump(mode="json", exclude={"llm_api_key"})
    return {"settings": settings, "hash": short_hash(json.dumps(settings, sort_keys=True))}


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def progress_bar(done: int, total: int) -> None:
    if not sys.stderr.isatty() and done % 10 and done != total:
        return  # in CI logs, a line every ten questions
    filled = int(30 * done / total)
    end = "\n" if done == total or not sys.stderr.isatty() else ""
    print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end=end, file=sys.stderr, flush=True)
