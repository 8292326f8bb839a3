"""Several generators on the same questions: the headline figures side by side."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import backends, metrics
from ..errors import AssistantError

if TYPE_CHECKING:
    from ..pipeline import Assistant

from .aggregates import stat
from .dataset import QuestionRecord
from .running import evaluate

log = logging.getLogger(__name__)

# The headline metrics of each generator in ``--compare``, in table order.
COMPARED = (
    "answer.gold_quote_hit",
    "answer.gold_recall",
    "answer.token_f1",
    "citation.recall",
    "citation.precision",
    "citation.hallucinated_rate",
    "citation.invalid_marker_rate",
    "citation.uncited_rate",
    "abstention.correct_refusal_rate",
    "abstention.false_refusal_rate",
    "abstention.flagged_rate",
    "abstention.uncertain_answerable_rate",
    "latency.total_p50_ms",
    "latency.total_p95_ms",
)


AssistantFactory = Callable[[str], "Assistant"]  # a generator name -> an assistant that uses it

# The numbers of a notice, masked so that alike notices add up in the list shown to people:
# "Only 2 of 5", not the digits of "python3.11" or "Q4_1".
_COUNT = re.compile(r"(?<![\w.])\d+(?![\w.])")


def generator_names(text: str) -> list[str]:
    """``--compare extractive,llamacpp``: known generator names, in order, each once."""
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    known = backends.names()
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown generator {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}"
        )
    return names


def assistant_factory(bot: Assistant) -> AssistantFactory:
    """Assistants with ``bot``'s settings and another generator (``bot`` itself for its own)."""

    def build(name: str) -> Assistant:
        if name == bot.settings.llm:
            return bot
        from ..pipeline import Assistant

        return Assistant(bot.settings.model_copy(update={"llm": name}), checker=bot.checker)

    return build


def compare(
    records: list[QuestionRecord],
    names: list[str],
    build: AssistantFactory,
    *,
    main: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """The same questions through one assistant per generator: headline metrics side by side.

    ``main`` is a report already made with one of the generators; it is reused, not rerun.
    A generator that cannot be built gets its error message instead of metrics.
    """
    rows = [_compared_generator(name, records, build, main, progress) for name in names]
    return {"questions": len(records), "generators": rows}


def _compared_generator(
    name: str,
    records: list[QuestionRecord],
    build: AssistantFactory,
    main: dict[str, Any] | None,
    progress: bool,
) -> dict[str, Any]:
    try:
        bot = build(name)
        label = bot.generator.name  # builds the back end: a missing package or model shows here
    except AssistantError as exc:
        return {"generator": name, "error": str(exc)}
    if main is not None and main["config"]["settings"]["llm"] == name:
        report = main
    else:
        if progress:
            print(f"The same questions with {label}:", file=sys.stderr)
        report = evaluate(bot, records, pairs=None, baseline=False, progress=progress)
    chosen = {m: report["aggregates"][m] for m in COMPARED if m in report["aggregates"]}
    row: dict[str, Any] = {"generator": name, "label": label, "metrics": chosen, "seconds": report["seconds"]}
    if name != backends.EXTRACTIVE:
        row["metrics"].update(backend_metrics(report["results"], label))
        row["notices"] = notice_counts(report["results"])
    return row


def backend_metrics(results: list[dict[str, Any]], label: str) -> dict[str, dict[str, float]]:
    """How often an LLM back end's answers were replaced or cut down by verification.

    ``llm.fallback_rate``: answers not written by the back end ``label`` (fallbacks to the
    extractive answer, and questions the model is never asked, such as greetings).
    ``llm.unverified_sentence_rate``: of the sentences the model wrote, the share its cited
    passages do not support (removed, flagged, or the reason for a fallback), over the answers
    that were verified (``Answer.verification``; not a model refusal, failure or timeout).
    ``latency.first_verified_p50_ms``: over the model's own answers, the median time from the
    question to the first of its sentences that survived verification (retrieval, then the
    generator's ``first_verified``), what a reader of the streamed answer waits for.
    """
    unverified = []
    for result in results:
        counts = result["verification"]
        if counts is not None:
            supported = counts["supported"]
            unverified += [1.0] * (counts["sentences"] - supported) + [0.0] * supported
    first = [
        r["timings_ms"].get("retrieve", 0.0) + r["timings_ms"]["first_verified"]
        for r in results
        if "first_verified" in r["timings_ms"]
    ]
    return {
        "llm.fallback_rate": stat([float(r["generator"] != label) for r in results]),
        "llm.unverified_sentence_rate": stat(unverified),
        "latency.first_verified_p50_ms": stat(first, lambda v: metrics.percentile(v, 50)),
    }


def notice_counts(results: list[dict[str, Any]]) -> dict[str, int]:
    """How often each notice was given, commonest first; counts masked so that alike ones add up."""
    notices = Counter(_COUNT.sub("N", r["notice"]) for r in results if r["notice"])
    return dict(notices.most_common())
