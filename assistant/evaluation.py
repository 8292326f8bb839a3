"""``assistant eval``: score the assistant's grounding on a question set and gate on the result.

Each question is asked through the public ``Assistant`` API, then scored for
retrieval (against gold sentences, by span overlap), citations (ALCE recall and
precision with the configured support checker), correctness, abstention and
latency. A naive baseline (embed every sentence, quote the top two, refuse below
a fixed cosine) is scored beside it so the gain of each idea stays visible.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import subprocess
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from . import backends, metrics
from .config import bundled
from .errors import AssistantError, EvaluationError, QuestionError
from .models import Answer, Message

if TYPE_CHECKING:
    from .pipeline import Assistant

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# The essay's development set ships with the package, so `assistant eval` works from a wheel too.
DEFAULT_QUESTIONS = bundled("devset") / "dev_questions.jsonl"
DEFAULT_PAIRS = DEFAULT_QUESTIONS.with_name("support_pairs.jsonl")
RETRIEVAL_K = 5
NAIVE_MIN_COSINE = 0.35
# Metrics where a smaller value is better: a baseline comparison flags a rise.
LOWER_IS_BETTER = ("false_refusal", "invalid_marker", "uncited", "hallucinated", "latency", "length")
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
    "latency.total_p50_ms",
    "latency.total_p95_ms",
)


class QuestionRecord(BaseModel):
    """One line of a question-set JSONL file."""

    model_config = ConfigDict(extra="forbid")
    id: str
    question: str
    history: list[Message] = []
    answerable: bool
    gold_quotes: list[str] = []
    gold_answers: list[str] = []
    kind: str = "unspecified"
    notes: str = ""


class SupportPair(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    sentence: str
    passage: str
    supported: bool
    notes: str = ""


def _load_jsonl(path: Path, model: type[BaseModel]) -> list[Any]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"Cannot read {path}: {exc}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate_json(line))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "line"
            raise EvaluationError(f"{path}:{number}: {where}: {problem['msg']}") from None
    if not records:
        raise EvaluationError(f"{path} holds no records.")
    return records


def load_questions(path: Path) -> list[QuestionRecord]:
    """Validate a question set; an error names the line and the field."""
    records: list[QuestionRecord] = _load_jsonl(path, QuestionRecord)
    seen: set[str] = set()
    for number, record in enumerate(records, start=1):
        if record.id in seen:
            raise EvaluationError(f"{path}: record {number} repeats id {record.id!r}.")
        seen.add(record.id)
        if record.answerable and not record.gold_quotes:
            raise EvaluationError(f"{path}: {record.id} is answerable but has no gold_quotes.")
    return records


# -- scoring one question ---------------------------------------------------------------


@dataclass
class QuestionResult:
    id: str
    kind: str
    question: str
    standalone_question: str
    answerable: bool
    refused: bool
    answer: str
    generator: str
    notice: str
    verification: dict[str, int] | None  # Answer.verification
    fallback: str | None
    citations: list[dict[str, Any]]
    sentences: list[dict[str, Any]]
    retrieval: dict[str, float]
    gold_quote_hit: float | None
    gold_recall: float | None
    token_f1: float | None
    invalid_markers: int
    markers: int
    timings_ms: dict[str, float]
    words: int
    failures: list[str] = field(default_factory=list)


class Scorer:
    """Scores answers against a question record, with the corpus text at hand for exactness checks."""

    def __init__(self, bot: Assistant) -> None:
        self.bot = bot
        self.texts = {doc.doc_id: doc.text for doc in bot.documents()}
        self.threshold = bot.settings.min_support

    def gold_spans(self, record: QuestionRecord) -> list[metrics.Span]:
        spans = []
        for quote in record.gold_quotes:
            found = [
                (d, t.find(quote), t.find(quote) + len(quote)) for d, t in self.texts.items() if quote in t
            ]
            if not found:
                raise EvaluationError(f"{record.id}: gold quote is not in the corpus: {quote[:60]!r}")
            spans.append(found[0])
        return spans

    def score(self, record: QuestionRecord, answer: Answer) -> QuestionResult:
        gold = self.gold_spans(record)
        ranked = [
            (p.chunk.doc_id, p.chunk.start, p.chunk.end)
            for p in self.bot.retriever.retrieve(answer.standalone_question, 10).passages
        ]
        cited_spans = [(c.doc_id, c.start, c.end) for c in answer.citations]
        by_marker = {c.marker: c.quote for c in answer.citations}
        sentences = []
        for sentence in answer.sentences if not answer.refused else []:
            cited = [by_marker[m] for m in sentence.markers if m in by_marker]
            supported, relevant, total = metrics.citation_scores(
                sentence.text, cited, self.bot.checker, self.threshold
            )
            sentences.append(
                {
                    **asdict(sentence),
                    "supported": supported,
                    "relevant_citations": relevant,
                    "citations": total,
                }
            )
        markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer.answer)]
        result = QuestionResult(
            id=record.id,
            kind=record.kind,
            question=record.question,
            standalone_question=answer.standalone_question,
            answerable=record.answerable,
            refused=answer.refused,
            answer=answer.answer,
            generator=answer.generator,
            notice=answer.notice,
            verification=asdict(answer.verification) if answer.verification else None,
            fallback=answer.fallback,
            citations=[
                {**asdict(c), "exact": self.texts.get(c.doc_id, "")[c.start : c.end] == c.quote}
                for c in answer.citations
            ],
            sentences=sentences,
            retrieval=metrics.retrieval_scores(ranked, gold, RETRIEVAL_K) if gold else {},
            gold_quote_hit=(
                float(any(metrics.overlaps(c, g) for c in cited_spans for g in gold)) if gold else None
            ),
            gold_recall=metrics.gold_answer_recall(answer.answer, record.gold_answers)
            if record.gold_answers
            else None,
            token_f1=metrics.token_f1(answer.answer, record.gold_answers) if record.gold_answers else None,
            invalid_markers=sum(1 for m in markers if m not in by_marker),
            markers=len(markers),
            timings_ms=answer.timings_ms,
            words=len(answer.answer.split()),
        )
        result.failures = _failures(result)
        return result


def _failures(r: QuestionResult) -> list[str]:
    reasons = []
    if r.answerable and r.refused:
        reasons.append("refused an answerable question")
    if not r.answerable and not r.refused:
        reasons.append("answered a question the text does not answer")
    if r.answerable and not r.refused and r.gold_quote_hit == 0.0:
        reasons.append("cited none of the gold sentences")
    if any(not s["supported"] for s in r.sentences):
        reasons.append("a sentence is not supported by its citations")
    if any(not c["exact"] for c in r.citations):
        reasons.append("a quote is not exact")
    if r.invalid_markers:
        reasons.append("invalid citation markers")
    return reasons


# -- aggregates ---------------------------------------------------------------------------


def _stat(values: list[float], statistic: Any = metrics.mean) -> dict[str, float]:
    low, high = metrics.bootstrap_ci(values, statistic)
    return {
        "value": statistic(values) if values else float("nan"),
        "ci_low": low,
        "ci_high": high,
        "n": len(values),
    }


def aggregate(results: list[QuestionResult]) -> dict[str, dict[str, float]]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in results if not r.refused]
    sentences = [s for r in answered for s in r.sentences]
    citations = [c for r in results for c in r.citations]
    out: dict[str, dict[str, float]] = {}
    for key in (f"recall@{RETRIEVAL_K}", f"hit@{RETRIEVAL_K}", "mrr@10", "ndcg@10"):
        out[f"retrieval.{key}"] = _stat([r.retrieval[key] for r in answerable if r.retrieval])
    out["answer.gold_quote_hit"] = _stat([r.gold_quote_hit or 0.0 for r in answerable])
    out["answer.gold_recall"] = _stat([r.gold_recall for r in answerable if r.gold_recall is not None])
    out["answer.token_f1"] = _stat([r.token_f1 for r in answerable if r.token_f1 is not None])
    out["answer.length_words"] = _stat([float(r.words) for r in answered])
    out["citation.recall"] = _stat([float(s["supported"]) for s in sentences])
    precision = [s["relevant_citations"] / s["citations"] for s in sentences if s["citations"]]
    out["citation.precision"] = _stat(precision)
    out["citation.uncited_rate"] = _stat([float(not s["markers"]) for s in sentences])
    out["citation.invalid_marker_rate"] = _stat(
        [r.invalid_markers / r.markers for r in answered if r.markers]
    )
    out["citation.hallucinated_rate"] = _stat([float(not c["exact"]) for c in citations])
    out["abstention.correct_refusal_rate"] = _stat([float(r.refused) for r in unanswerable])
    out["abstention.false_refusal_rate"] = _stat([float(r.refused) for r in answerable])
    for stage in sorted({k for r in results for k in r.timings_ms}):
        values = [r.timings_ms[stage] for r in results if stage in r.timings_ms]
        out[f"latency.{stage}_p50_ms"] = _stat(values, lambda v: metrics.percentile(v, 50))
        out[f"latency.{stage}_p95_ms"] = _stat(values, lambda v: metrics.percentile(v, 95))
    return out


def naive_baseline(bot: Assistant, records: list[QuestionRecord], scorer: Scorer) -> dict[str, float]:
    """Embed every sentence, quote the top two, refuse below a fixed cosine: the figure to beat."""
    retriever = bot.retriever
    sentences = retriever.all_sentences()
    vectors = retriever.sentence_vectors_for(sentences)
    hits, refusals_right, refusals_wrong, recalls = [], [], [], []
    for record in records:
        similarities = vectors @ retriever.embed(record.question)
        top = similarities.argsort()[::-1][:2]
        refused = bool(similarities[top[0]] < NAIVE_MIN_COSINE)
        picked = [(sentences[i].doc_id, sentences[i].start, sentences[i].end) for i in top]
        text = " ".join(sentences[i].text for i in top)
        if record.answerable:
            gold = scorer.gold_spans(record)
            hit = not refused and any(metrics.overlaps(p, g) for p in picked for g in gold)
            hits.append(float(hit))
            refusals_wrong.append(float(refused))
            if record.gold_answers:
                recalls.append(0.0 if refused else metrics.gold_answer_recall(text, record.gold_answers))
        else:
            refusals_right.append(float(refused))
    return {
        "answer.gold_quote_hit": metrics.mean(hits),
        "answer.gold_recall": metrics.mean(recalls),
        "abstention.correct_refusal_rate": metrics.mean(refusals_right),
        "abstention.false_refusal_rate": metrics.mean(refusals_wrong),
    }


def calibrate_checker(bot: Assistant, path: Path) -> dict[str, Any]:
    """Accuracy and Cohen's kappa of the support checker on hand-labelled pairs, across thresholds."""
    pairs: list[SupportPair] = _load_jsonl(path, SupportPair)
    scores = [bot.checker(p.passage, p.sentence) for p in pairs]
    labels = [p.supported for p in pairs]
    sweep = []
    for step in range(2, 10):
        threshold = step / 10
        predicted = [s >= threshold for s in scores]
        accuracy = metrics.mean([float(a == b) for a, b in zip(labels, predicted, strict=True)])
        sweep.append(
            {"threshold": threshold, "accuracy": accuracy, "kappa": metrics.cohen_kappa(labels, predicted)}
        )
    current = [s >= bot.settings.min_support for s in scores]
    return {
        "pairs": len(pairs),
        "file": str(path),
        "threshold": bot.settings.min_support,
        "accuracy": metrics.mean([float(a == b) for a, b in zip(labels, current, strict=True)]),
        "kappa": metrics.cohen_kappa(labels, current),
        "sweep": sweep,
    }


# -- running --------------------------------------------------------------------------------


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
            _progress_bar(number, len(records))
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
        "corpus": {d: _short_hash(t) for d, t in scorer.texts.items()},
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


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _config(bot: Assistant) -> dict[str, Any]:
    settings = bot.settings.model_dump(mode="json", exclude={"llm_api_key"})
    return {"settings": settings, "hash": _short_hash(json.dumps(settings, sort_keys=True))}


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _progress_bar(done: int, total: int) -> None:
    if not sys.stderr.isatty() and done % 10 and done != total:
        return  # in CI logs, a line every ten questions
    filled = int(30 * done / total)
    end = "\n" if done == total or not sys.stderr.isatty() else ""
    print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end=end, file=sys.stderr, flush=True)


# -- comparing generators ----------------------------------------------------------------------

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
        from .pipeline import Assistant

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
    """
    unverified = []
    for result in results:
        counts = result["verification"]
        if counts is not None:
            supported = counts["supported"]
            unverified += [1.0] * (counts["sentences"] - supported) + [0.0] * supported
    return {
        "llm.fallback_rate": _stat([float(r["generator"] != label) for r in results]),
        "llm.unverified_sentence_rate": _stat(unverified),
    }


def notice_counts(results: list[dict[str, Any]]) -> dict[str, int]:
    """How often each notice was given, commonest first; counts masked so that alike ones add up."""
    notices = Counter(_COUNT.sub("N", r["notice"]) for r in results if r["notice"])
    return dict(notices.most_common())


# -- the gate --------------------------------------------------------------------------------


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


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="question set (JSONL)")
    parser.add_argument("--out", type=Path, default=Path("eval-out"), help="folder for the reports")
    parser.add_argument("--min", action="append", metavar="METRIC=VALUE", help="fail below this (repeatable)")
    parser.add_argument("--max", action="append", metavar="METRIC=VALUE", help="fail above this (repeatable)")
    parser.add_argument("--baseline", type=Path, help="an earlier report.json to compare with")
    parser.add_argument("--max-drop", type=float, default=0.02, help="allowed worsening against --baseline")
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS, help="labelled support pairs (JSONL)")
    parser.add_argument("--calibrate", action="store_true", help="print the checker calibration table")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline")
    parser.add_argument(
        "--compare",
        type=generator_names,
        metavar="GEN,GEN",
        help=f"also run these generators ({', '.join(backends.names())}) on the same questions, side by side",
    )


def run_from_args(args: argparse.Namespace, bot: Assistant) -> int:
    """The CLI's eval: 0 pass, 1 below a threshold (each printed), 2 error (raised)."""
    from .reports import write_reports

    records = load_questions(args.questions)
    minimum, maximum = pyproject_thresholds(args.questions)

    minimum.update(parse_thresholds(args.min))
    maximum.update(parse_thresholds(args.max))
    baseline = _read_baseline(args.baseline) if args.baseline else None
    report = evaluate(bot, records, pairs=args.pairs, baseline=not args.no_baseline, progress=True)
    if args.compare:
        report["comparison"] = compare(
            records, args.compare, assistant_factory(bot), main=report, progress=True
        )
    problems = gate(report, minimum, maximum, baseline, args.max_drop)
    report["gate"] = {"min": minimum, "max": maximum, "problems": problems, "passed": not problems}
    written = write_reports(report, args.out)
    _print_summary(report, written, calibrate=args.calibrate)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _read_baseline(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"Cannot read baseline report {path}: {exc}") from None
    if data.get("schema_version") != SCHEMA_VERSION or "aggregates" not in data:
        raise EvaluationError(f"{path} is not a report.json of schema version {SCHEMA_VERSION}.")
    return data


def _print_summary(report: dict[str, Any], written: list[Path], *, calibrate: bool) -> None:
    from .reports import comparison_notes, comparison_table

    for name, stat in report["aggregates"].items():
        if not name.startswith("latency.") or name.startswith("latency.total"):
            interval = f"[{stat['ci_low']:.3f}, {stat['ci_high']:.3f}]"
            print(f"{name:40s} {stat['value']:8.3f}  {interval}  n={stat['n']}")
    calibration = report.get("checker_calibration")
    if calibration:
        print(
            f"support checker ({report['checker']}) on {calibration['pairs']} labelled pairs: "
            f"accuracy {calibration['accuracy']:.3f}, kappa {calibration['kappa']:.3f} "
            f"at threshold {calibration['threshold']}"
        )
        if calibrate:
            for row in calibration["sweep"]:
                accuracy, kappa = row["accuracy"], row["kappa"]
                print(f"  threshold {row['threshold']:.1f}: accuracy {accuracy:.3f}, kappa {kappa:.3f}")
    if "comparison" in report:
        head, rows = comparison_table(report["comparison"])
        print(f"Generators compared on {report['comparison']['questions']} questions:")
        for cells in [head, *rows]:
            print(f"  {cells[0]:34s}" + "".join(f" {c:>24s}" for c in cells[1:]))
        for note in comparison_notes(report["comparison"]):
            print(f"  {note}")
    print("Reports: " + ", ".join(str(p) for p in written))
