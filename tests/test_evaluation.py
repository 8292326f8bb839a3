"""The evaluation command: validation, metrics, reports, and a gate that catches a broken retriever."""

import argparse
import json
import random
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.cli import build_parser
from assistant.errors import EvaluationError
from assistant.evaluation import DEFAULT_QUESTIONS, evaluate, gate, load_questions, run_from_args
from assistant.metrics import citation_scores, cohen_kappa, retrieval_scores, token_f1
from assistant.models import Passage
from assistant.retrieval import Retrieval
from assistant.testing import assert_grounded

from .conftest import ESSAY


def _subset(tmp_path: Path, ids: set[str]) -> Path:
    lines = [
        line
        for line in DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines()
        if json.loads(line)["id"] in ids
    ]
    path = tmp_path / "subset.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SUBSET = {"q01", "q04", "q10", "q16", "q28", "q36", "q49", "q50", "q56", "q63"}


def test_the_development_set_is_valid_and_covers_every_kind() -> None:
    records = load_questions(DEFAULT_QUESTIONS)
    assert len(records) >= 50
    kinds = {r.kind for r in records}
    assert {"factual", "paraphrased", "multi_passage", "follow_up", "unanswerable", "false_premise",
            "out_of_scope"} <= kinds  # fmt: skip


def test_a_bad_record_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(good + "\n" + '{"id": "x", "question": "Q?"}\n', encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"bad\.jsonl:2: answerable"):
        load_questions(path)


def test_retrieval_metrics_by_span_overlap() -> None:
    gold = [("d", 100, 150)]
    assert retrieval_scores([("d", 0, 90), ("d", 90, 200)], gold, k=5) == {
        "recall@5": 1.0, "hit@5": 1.0, "mrr@10": 0.5, "ndcg@10": pytest.approx(0.6309, abs=1e-4),
    }  # fmt: skip
    assert retrieval_scores([("other", 100, 150)], gold, k=5)["hit@5"] == 0.0


def test_alce_citation_recall_and_precision() -> None:
    def support(premise: str, claim: str) -> float:
        return 1.0 if "yes" in premise else 0.0

    assert citation_scores("claim", ["yes", "no"], support, 0.5) == (True, 1, 2)  # "no" is irrelevant
    assert citation_scores("claim", ["no"], support, 0.5) == (False, 1, 1)
    assert citation_scores("claim", [], support, 0.5) == (False, 0, 0)


def test_kappa_and_f1() -> None:
    assert cohen_kappa([True, False, True, False], [True, False, True, False]) == 1.0
    assert cohen_kappa([True, False, True, False], [False, True, False, True]) == -1.0
    assert token_f1("the blood and iron quote", ["blood and iron"]) == pytest.approx(0.857, abs=1e-3)


def test_reports_and_gate_on_the_real_assistant(bot: Assistant, tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["eval", "--questions", str(_subset(tmp_path, SUBSET)), "--out", str(tmp_path / "out"),
         "--min", "citation.recall=0.9", "--max", "citation.hallucinated_rate=0"]
    )  # fmt: skip
    assert run_from_args(args, bot) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["schema_version"] == 1 and report["questions"] == len(SUBSET)
    assert report["checker"] == "lexical" and report["checker_calibration"]["pairs"] >= 60
    assert report["aggregates"]["citation.hallucinated_rate"]["value"] == 0.0
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<table>" in html and "data:image/png;base64," in html and "http" not in html.split("<body>")[1]
    assert (tmp_path / "out" / "report.md").read_text(encoding="utf-8").startswith("# Grounding evaluation")
    assert len((tmp_path / "out" / "results.csv").read_text(encoding="utf-8").splitlines()) == len(SUBSET) + 1

    strict = build_parser().parse_args(
        ["eval", "--questions", str(_subset(tmp_path, SUBSET)), "--out", str(tmp_path / "out2"),
         "--min", "answer.gold_quote_hit=1.01"]
    )  # fmt: skip
    assert run_from_args(strict, bot) == 1


def test_gate_catches_a_retriever_that_returns_random_passages(
    bot: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = load_questions(_subset(tmp_path, SUBSET))
    honest = evaluate(bot, records, pairs=None, baseline=False)
    minimum = {"answer.gold_quote_hit": honest["aggregates"]["answer.gold_quote_hit"]["value"] - 0.1}
    assert gate(honest, minimum, {}) == []

    retriever = bot.retriever
    real = retriever.retrieve
    rng = random.Random(3)

    def random_passages(question: str, k: int | None = None) -> Retrieval:
        found = real(question, k)
        chunks = rng.sample(retriever.chunks, len(found.passages))
        passages = [Passage(c, 1.0 / (i + 1)) for i, c in enumerate(chunks)]
        return Retrieval(found.vector, passages, retriever._score_sentences(found.vector, [], passages), {})

    monkeypatch.setattr(retriever, "retrieve", random_passages)
    broken = evaluate(bot, records, pairs=None, baseline=False)
    problems = gate(broken, minimum, {}, baseline=honest, max_drop=0.02)
    assert any("answer.gold_quote_hit" in p for p in problems)


def test_unknown_metric_in_a_threshold_is_an_error(bot: Assistant, tmp_path: Path) -> None:
    records = load_questions(_subset(tmp_path, {"q01"}))
    report = evaluate(bot, records, pairs=None, baseline=False)
    with pytest.raises(EvaluationError, match="Unknown metric 'recall'"):
        gate(report, {"recall": 0.5}, {})


def test_assert_grounded_helper(bot: Assistant) -> None:
    corpus = {"values-in-foreign-policy": ESSAY.read_text(encoding="utf-8")}
    answer = bot.ask("What is defensive deterrence?")
    assert_grounded(answer, min_support=0.9, corpus=corpus)
    answer.sentences[0].markers.clear()
    with pytest.raises(AssertionError, match="uncited sentence"):
        assert_grounded(answer)


def test_eval_cli_parses_gate_options() -> None:
    args = build_parser().parse_args(["eval", "--min", "a=1", "--max-drop", "0.05"])
    assert isinstance(args, argparse.Namespace) and args.min == ["a=1"] and args.max_drop == 0.05
