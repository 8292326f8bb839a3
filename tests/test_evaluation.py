"""The evaluation command: validation, metrics, reports, and a gate that catches a broken retriever."""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

import assistant
from assistant import Assistant, EvaluationError
from assistant.backends import make_chat_model
from assistant.cli import build_parser
from assistant.config import Settings
from assistant.errors import AssistantError, BackendError
from assistant.evaluation import (
    COMPARED,
    DEFAULT_QUESTIONS,
    assistant_factory,
    compare,
    evaluate,
    gate,
    load_questions,
    pyproject_thresholds,
    run_from_args,
)
from assistant.generation import Generator
from assistant.llm import build_generator
from assistant.metrics import citation_scores, cohen_kappa, retrieval_scores, token_f1
from assistant.models import Passage
from assistant.reports import markdown, write_reports
from assistant.retrieval import Retrieval, Retriever
from assistant.sentences import sentence_spans
from assistant.testing import assert_grounded

from .conftest import ESSAY, ROOT


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


def test_the_default_question_set_ships_in_the_wheel(tmp_path: Path) -> None:
    """Lay the package out as pyproject's wheel target does, away from the source tree: the
    default questions and support pairs are found inside the installed package."""
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]
    target = wheel["targets"]["wheel"]
    site = tmp_path / "site-packages"
    for package in target["packages"]:
        shutil.copytree(ROOT / package, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    for source, inside in target["force-include"].items():
        shutil.copytree(ROOT / source, site / inside)
    probe = (
        "import json, assistant.evaluation as e; "
        "print(json.dumps([str(e.DEFAULT_QUESTIONS), str(e.DEFAULT_PAIRS), e.__file__]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    questions, pairs, module = map(Path, json.loads(done.stdout.splitlines()[-1]))
    package = site / "assistant"
    assert module.is_relative_to(package), "the copy was imported, not the source tree"
    assert questions == package / "_data" / "devset" / "dev_questions.jsonl"
    assert questions.read_bytes() == DEFAULT_QUESTIONS.read_bytes()
    assert pairs == package / "_data" / "devset" / "support_pairs.jsonl" and pairs.is_file()


def test_evaluation_error_is_exported_with_the_other_errors() -> None:
    assert "EvaluationError" in assistant.__all__ and issubclass(EvaluationError, AssistantError)


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

    def random_passages(question: str, k: int | None = None, doc_ids: list[str] | None = None) -> Retrieval:
        found = real(question, k, doc_ids)
        chunks = [
            retriever.table.chunk(i) for i in rng.sample(range(len(retriever.table)), len(found.passages))
        ]
        passages = [Passage(c, 1.0 / (i + 1)) for i, c in enumerate(chunks)]
        return Retrieval(found.vector, passages, retriever._score_sentences(found.vector, [], passages), {})

    monkeypatch.setattr(retriever, "retrieve", random_passages)
    broken = evaluate(bot, records, pairs=None, baseline=False)
    problems = gate(broken, minimum, {}, baseline=honest, max_drop=0.02)
    assert any("answer.gold_quote_hit" in p for p in problems)


def test_each_question_set_has_its_own_thresholds(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.assistant.eval.min]\n"answer.gold_recall" = 0.9\n'
        '[tool.assistant.eval.library_questions.min]\n"answer.gold_recall" = 0.8\n',
        encoding="utf-8",
    )
    essay = pyproject_thresholds(Path("devset/dev_questions.jsonl"), pyproject)
    library = pyproject_thresholds(Path("tests/data/library_questions.jsonl"), pyproject)
    assert essay == ({"answer.gold_recall": 0.9}, {}) and library == ({"answer.gold_recall": 0.8}, {})
    assert pyproject_thresholds(Path("tests/data/library_questions.jsonl"))[0]["answer.gold_quote_hit"] > 0.5


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


# -- comparing generators ----------------------------------------------------------------------

COMPARE_SUBSET = {"q01", "q10", "q11", "q49", "q63"}  # factual x3, unanswerable, out of scope
INVENTED = "Napoleon invented defensive deterrence in 1805 after the battle of Austerlitz [1]."


class QuoteCopier(BaseChatModel):
    """Answers with the first ``sentences`` of passage [1], copied verbatim and cited, then ``extra``."""

    sentences: int = 4
    extra: str = ""

    @property
    def _llm_type(self) -> str:
        return "quote-copier"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        found = re.search(r"^\[1\] (.+)$", str(messages[-1].content), re.MULTILINE)
        if found is None:
            text = "The passages do not answer this question."
        else:
            spans = list(sentence_spans(found[1]))[: self.sentences]
            copied = " ".join(f"{found[1][start:end]} [1]" for start, end in spans)
            text = f"{copied} {self.extra}"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


class FakeBackend(Assistant):
    """An assistant whose LLM back end is ``model``, over an already built retriever."""

    def __init__(self, settings: Settings, model: BaseChatModel, retriever: Retriever) -> None:
        super().__init__(settings)
        self.model = model
        self.shared_retriever = retriever

    @cached_property
    def retriever(self) -> Retriever:
        return self.shared_retriever

    @cached_property
    def generator(self) -> Generator:
        label = f"{self.settings.llm}:{self.model._llm_type}"
        return build_generator(
            self.settings, self.extractive, self.retriever, self.checker, chat_model=self.model, label=label
        )


@pytest.fixture(scope="module")
def plain_bot(essay_index: Path) -> Assistant:
    """The extractive assistant, with no LLM model or endpoint set, whatever the environment says."""
    settings = Settings.load(corpus_dir=ROOT / "corpus", index_dir=essay_index)
    return Assistant(settings.model_copy(update={"llm_model": None, "llm_base_url": None}))


def with_fakes(
    bot: Assistant, models: dict[str, BaseChatModel], **settings: Any
) -> Callable[[str], Assistant]:
    """The CLI's factory, except that the named back ends are fake models."""
    real = assistant_factory(bot)

    def build(name: str) -> Assistant:
        if name not in models:
            return real(name)
        changed = bot.settings.model_copy(update={"llm": name, **settings})
        return FakeBackend(changed, models[name], bot.retriever)

    return build


def test_compare_runs_each_back_end_on_the_same_questions(plain_bot: Assistant, tmp_path: Path) -> None:
    records = load_questions(_subset(tmp_path, COMPARE_SUBSET))
    main = evaluate(plain_bot, records, pairs=None, baseline=False)
    fakes = {"llamacpp": QuoteCopier(), "openai": FakeListChatModel(responses=[INVENTED])}
    comparison = compare(
        records, ["extractive", "llamacpp", "openai", "ollama"], with_fakes(plain_bot, fakes), main=main
    )
    extractive, copier, inventor, broken = comparison["generators"]
    assert comparison["questions"] == len(COMPARE_SUBSET)

    assert extractive["label"] == "extractive" and set(extractive["metrics"]) == set(COMPARED)
    assert extractive["metrics"]["answer.gold_quote_hit"] == main["aggregates"]["answer.gold_quote_hit"]

    def value(row: dict[str, Any], name: str) -> float:
        return float(row["metrics"][name]["value"])

    # Verbatim quotes of the top passage: every sentence verified, none removed, exact quotes.
    assert copier["label"] == "llamacpp:quote-copier"
    assert value(copier, "llm.fallback_rate") <= 0.2  # at most the out-of-scope request, never asked
    assert value(copier, "llm.unverified_sentence_rate") == 0.0
    assert value(copier, "citation.recall") == 1.0 and value(copier, "citation.hallucinated_rate") == 0.0
    assert value(copier, "answer.gold_quote_hit") == 1.0
    assert value(copier, "abstention.correct_refusal_rate") < value(
        extractive, "abstention.correct_refusal_rate"
    )

    # Invented claims: nothing survives verification, every answer is the extractive one.
    assert value(inventor, "llm.fallback_rate") == 1.0
    assert value(inventor, "llm.unverified_sentence_rate") == 1.0
    assert value(inventor, "citation.hallucinated_rate") == 0.0
    for name in ("answer.gold_quote_hit", "citation.recall", "abstention.false_refusal_rate"):
        assert value(inventor, name) == value(extractive, name), name
    assert inventor["notices"] == {
        "Only N of N sentences of the language model's answer could be verified against the passages "
        "they cite; showing the extractive answer instead.": 4
    }  # the out-of-scope request is answered without asking the model

    # No model configured for ollama: its error, and no metrics.
    with pytest.raises(BackendError) as expected:
        make_chat_model(plain_bot.settings.model_copy(update={"llm": "ollama"}))
    assert broken == {"generator": "ollama", "error": str(expected.value)}

    report = {**main, "comparison": comparison}
    text = markdown(report)
    assert "## Generators compared" in text
    assert "| metric | extractive | llamacpp:quote-copier | openai:fake-list-chat-model |" in text
    assert f"- ollama: not run: {expected.value}" in text
    assert "- openai:fake-list-chat-model: 4× Only N of N sentences" in text
    written = write_reports(report, tmp_path / "out")
    assert "<h2>Generators compared</h2>" in written[3].read_text(encoding="utf-8")
    saved = json.loads(written[0].read_text(encoding="utf-8"))
    assert saved["comparison"]["generators"][3]["error"] == str(expected.value)


@pytest.mark.parametrize("unsupported", ["remove", "flag"])
def test_compare_counts_sentences_that_verification_removes_or_flags(
    plain_bot: Assistant, tmp_path: Path, unsupported: str
) -> None:
    records = load_questions(_subset(tmp_path, {"q01", "q10", "q11"}))
    padder = QuoteCopier(sentences=1, extra=INVENTED)  # one true sentence, one invented
    build = with_fakes(plain_bot, {"llamacpp": padder}, unsupported=unsupported)
    (row,) = compare(records, ["llamacpp"], build)["generators"]
    metrics = row["metrics"]
    assert metrics["llm.fallback_rate"]["value"] == 0.0
    assert metrics["llm.unverified_sentence_rate"]["value"] == 0.5
    assert metrics["llm.unverified_sentence_rate"]["n"] == 2 * len(records)
    assert metrics["citation.hallucinated_rate"]["value"] == 0.0
    kept = 0.5 if unsupported == "flag" else 1.0  # a flagged sentence stays, unsupported
    assert metrics["citation.recall"]["value"] == kept


def test_eval_cli_compares_generators(plain_bot: Assistant, tmp_path: Path, capsys: Any) -> None:
    args = build_parser().parse_args(
        ["eval", "--questions", str(_subset(tmp_path, {"q01", "q63"})), "--out", str(tmp_path / "out"),
         "--no-baseline", "--compare", "extractive, ollama,extractive"]
    )  # fmt: skip
    assert args.compare == ["extractive", "ollama"]
    assert run_from_args(args, plain_bot) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [g["generator"] for g in report["comparison"]["generators"]] == ["extractive", "ollama"]
    assert "ollama: not run:" in capsys.readouterr().out

    with pytest.raises(SystemExit):
        build_parser().parse_args(["eval", "--compare", "extractive,gpt5"])
