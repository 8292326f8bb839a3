"""``assistant grade``: other systems' answers read, aligned with the corpus, judged and reported.

The fixtures in tests/data/grading/ follow each tool's own documentation or examples
(SOURCES.md says where from), written over the essay so that their quotes can be aligned.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from assistant.cli import main
from assistant.errors import EvaluationError
from assistant.grading import (
    Aligner,
    Corpus,
    Item,
    LexicalChecker,
    Source,
    agreement,
    load_pairs,
    read_answers,
)
from assistant.grading.checkers import LLMJudge
from assistant.grading.formats import read_records
from assistant.grading.grader import grade
from assistant.grading.judgement import Judge
from assistant.grading.reports import as_deepeval, as_ragas

from .conftest import ESSAY, ROOT

DATA = Path(__file__).resolve().parent / "data" / "grading"
pytest_plugins = ["pytester", "tests.browser_fixtures"]

TEXT = ESSAY.read_text(encoding="utf-8")
FIXTURES = {
    "ragas.jsonl": ("ragas", 2),
    "ragas_v01.json": ("ragas", 2),
    "deepeval.json": ("deepeval", 2),
    "alce.json": ("alce", 1),
    "ragchecker.json": ("ragchecker", 1),
    "openai_chat.jsonl": ("openai-chat", 2),
    "citations.json": ("citations", 1),
    "contract.jsonl": ("jsonl", 2),
}
DETERRENCE = "Defensive deterrence, or deterrence by denial, aims to avoid the kind of competitive armament that characterizes geopolitical competition."  # noqa: E501
STRENGTH = "Military strength is the central component of geopolitics."


@pytest.fixture(scope="module")
def essay() -> Corpus:
    return Corpus.load(ROOT / "corpus")


@pytest.fixture(scope="module")
def judge(essay: Corpus) -> Judge:
    return Judge(Aligner(essay), LexicalChecker(0.8))


def cited(answer: str, *quotes: str | tuple[str, int, int], expected: str | None = None) -> Item:
    """An answer citing quotes (optionally with claimed offsets), as provider citations carry them."""
    sources = [
        Source(q, "citation") if isinstance(q, str) else Source(q[0], "citation", start=q[1], end=q[2])
        for q in quotes
    ]
    return Item("case", "a question", answer, sources, expected=expected)  # type: ignore[arg-type]


# -- formats --------------------------------------------------------------------------------


def test_every_fixture_is_described_in_sources() -> None:
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    for name in FIXTURES:
        assert f"`{name}`" in sources, f"{name} has no source in SOURCES.md"


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_format_is_detected_read_and_round_trips(name: str, essay: Corpus) -> None:
    fmt, items = read_answers(DATA / name)
    assert (fmt, len(items)) == FIXTURES[name]
    assert all(i.question and i.answer for i in items)
    report = grade(items, Aligner(essay), LexicalChecker(0.8), fmt=fmt)
    statuses = {s["alignment"]["status"] for r in report["results"] for s in r["sources"]}
    assert statuses <= {"exact"}, "every fixture quotes the essay exactly"
    for export, fmt_back in ((as_ragas(report), "ragas"), (as_deepeval(report), "deepeval")):
        again_fmt, again = read_records(json.loads(json.dumps(export)))
        assert again_fmt == fmt_back
        assert [(i.question, i.answer, [s.text for s in i.sources]) for i in again] == [
            (i.question, i.answer, [s.text for s in i.sources]) for i in items
        ]


def test_alce_markers_point_at_docs_and_precision_is_alces(judge: Judge) -> None:
    _, [item] = read_answers(DATA / "alce.json")
    grade_ = judge.grade(item)
    assert [s.markers for s in grade_.sentences] == [[1], [2, 1]]
    assert grade_.citation_recall == 1.0
    # The second sentence cites [2][1]; [1] does not support it and [2] does alone: 2 of 3 relevant.
    assert grade_.citation_precision == pytest.approx(2 / 3)


def test_provider_citations_become_markers_with_offsets() -> None:
    _, [item] = read_answers(DATA / "citations.json")
    assert item.answer.count("[1]") == 1 and item.answer.count("[2]") == 1
    assert item.sources[1].start == TEXT.index(STRENGTH)
    assert item.question == "What does defensive deterrence aim to avoid?"


def test_unreadable_answers_are_named(tmp_path: Path) -> None:
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"prompt": "x", "completion": "y"}\n', encoding="utf-8")
    with pytest.raises(Exception, match="cannot tell the format"):
        read_answers(odd)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "q", "answer": "a"}\n{"question": \n', encoding="utf-8")
    with pytest.raises(Exception, match=r"broken.jsonl:2: not JSON"):
        read_answers(broken)
    missing = tmp_path / "missing.json"
    missing.write_text('[{"user_input": "q", "retrieved_contexts": []}]', encoding="utf-8")
    with pytest.raises(Exception, match=r"record 1 \(ragas\): no 'response' / 'answer' field"):
        read_answers(missing)


# -- alignment ------------------------------------------------------------------------------


def test_alignment_reports_how_a_quote_was_found(essay: Corpus) -> None:
    aligner = Aligner(essay)
    exact = aligner.align(Source(STRENGTH, "citation"))
    assert (exact.status, exact.start, exact.anchor) == ("exact", TEXT.index(STRENGTH), "s-6-3")
    curly = aligner.align(Source('to quote German  Chancellor "blood and iron"', "citation"))
    assert curly.status in ("fuzzy", "not_found")  # reordered words are not the text
    spaced = aligner.align(Source('through  "blood and iron"  to quote', "citation"))
    assert spaced.status == "normalized"
    assert spaced.text == "through “blood and iron” to quote"


# -- the five cases the issue names, each graded right ------------------------------------------


def test_a_fabricated_quote_is_a_hallucinated_citation(judge: Judge) -> None:
    quote = "Deterrence by denial has always been the cheapest policy available to small states."
    grade_ = judge.grade(cited("Deterrence by denial is cheap [1].", quote))
    assert grade_.sources[0]["alignment"]["status"] == "not_found"
    assert grade_.hallucinated == 1
    assert grade_.sentences[0].verdict == "hallucinated_citation"
    assert any("hallucinated" in f for f in grade_.failures)


def test_a_quote_with_a_changed_word_is_a_misquote_with_its_score(judge: Judge) -> None:
    quote = DETERRENCE.replace("competitive armament", "competitive disarmament")
    grade_ = judge.grade(cited("Defensive deterrence avoids competitive disarmament [1].", quote))
    alignment = grade_.sources[0]["alignment"]
    assert alignment["status"] == "fuzzy" and 85 <= alignment["score"] < 100
    assert alignment["text"] == DETERRENCE[: len(alignment["text"])]
    assert grade_.misquoted == 1 and any("misquoted" in f for f in grade_.failures)


def test_a_correct_quote_at_wrong_offsets_is_found_and_its_offsets_flagged(judge: Judge) -> None:
    start = TEXT.index(STRENGTH)
    right = judge.grade(cited(f"{STRENGTH} [1]", (STRENGTH, start, start + len(STRENGTH))))
    assert right.passed and right.sources[0]["alignment"]["offsets"] == "match"
    wrong = judge.grade(cited(f"{STRENGTH} [1]", (STRENGTH, start - 40, start - 40 + len(STRENGTH))))
    alignment = wrong.sources[0]["alignment"]
    assert (alignment["status"], alignment["offsets"], alignment["start"]) == ("exact", "wrong", start)
    assert wrong.offset_errors == 1 and wrong.sentences[0].verdict == "supported"
    assert any("wrong offsets" in f for f in wrong.failures)


def test_a_paraphrase_is_supported_but_a_paraphrase_passed_off_as_a_quote_is_not(judge: Judge) -> None:
    paraphrase = (
        "Deterrence by denial tries to avoid the competitive armament of geopolitical competition [1]."
    )
    honest = judge.grade(cited(paraphrase, DETERRENCE))
    assert honest.passed, honest.failures
    assert honest.sentences[0].verdict == "supported"
    assert honest.sentences[0].source is not None and honest.sentences[0].source.anchor == "s-7-3"
    passed_off = "Deterrence by denial tries to avoid the arms racing that marks great-power rivalry."
    dishonest = judge.grade(cited("It avoids arms races [1].", passed_off))
    assert dishonest.sources[0]["alignment"]["status"] != "exact"
    assert not dishonest.passed


def test_a_refusal_where_an_answer_was_due_is_graded_a_refusal(judge: Judge) -> None:
    refusal = judge.grade(cited("The essay does not say what defensive deterrence is.", expected="answer"))
    assert refusal.refused
    assert refusal.failures == ["refused when it should have answered"]
    answered = judge.grade(cited(f"{DETERRENCE} [1]", DETERRENCE, expected="answer"))
    assert not answered.refused and answered.passed


def test_answering_what_should_be_refused_and_accepting_a_false_premise_fail(judge: Judge) -> None:
    answered = judge.grade(cited(f"{STRENGTH} [1]", STRENGTH, expected="refuse"))
    assert answered.failures == ["answered when it should have refused"]
    accepted = judge.grade(cited(f"{STRENGTH} [1]", STRENGTH, expected="correct_premise"))
    assert accepted.failures == ["accepted the question's false premise"]
    correction = "In fact, military strength is the central component of geopolitics [1]."
    corrected = judge.grade(cited(correction, STRENGTH, expected="correct_premise"))
    assert corrected.passed, corrected.failures


def test_an_uncited_claim_is_reported_beside_its_nearest_source(judge: Judge) -> None:
    grade_ = judge.grade(cited(f"{STRENGTH} [1] Economic strength matters most.", STRENGTH))
    uncited = grade_.sentences[1]
    assert uncited.verdict == "uncited" and grade_.uncited == 1
    assert uncited.source is not None
    assert {"economic", "strength"} & set(uncited.source.text.lower().split())


# -- checkers -------------------------------------------------------------------------------


def test_labelled_pairs_cover_several_texts_and_paraphrases() -> None:
    pairs = load_pairs(DATA / "claims.jsonl")
    assert len(pairs) >= 150
    assert len({p.text for p in pairs}) >= 5
    assert {p.label for p in pairs} == {"supported", "contradicted", "not_stated"}
    assert sum(p.kind == "paraphrase" for p in pairs) >= 100


@pytest.mark.parametrize("line", ["[1]", "3", '{"id": "x", "claim": "c", "passage": "p", "label": "maybe"}'])
def test_a_bad_labelled_pair_names_its_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"id": "a", "claim": "c", "passage": "p", "label": "supported"}\n' + line + "\n")
    with pytest.raises(EvaluationError, match=r"pairs.jsonl:2: "):
        load_pairs(path)


def test_lexical_threshold_is_fitted_with_each_text_held_out() -> None:
    pairs = load_pairs(DATA / "claims.jsonl")
    result = agreement(LexicalChecker(0.8), pairs)
    held = result["held_out"]
    assert held["by"] == "text" and set(held["thresholds"]) == {p.text for p in pairs}
    assert held["pairs"] == len(pairs) and 0.5 < held["accuracy"] <= 1.0
    assert -1.0 <= held["kappa"] <= 1.0 and result["accuracy_by_kind"].keys() == {"copied", "paraphrase"}


def test_the_llm_judge_reads_one_word_verdicts() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    # A scripted chat model: the real judge needs a model this machine may not have (see the README).
    replies = ["SUPPORTED", "Contradicted.", "not stated", "I think it is supported by the passage."]
    judge = LLMJudge(FakeListChatModel(responses=replies), "scripted")
    labels = [judge.label(STRENGTH, f"claim {n}") for n in range(4)]
    assert labels == ["supported", "contradicted", "not_stated", "supported"]
    assert judge(STRENGTH, "claim 0") == 1.0 and judge(STRENGTH, "claim 1") == 0.0  # cached, not asked again
    assert judge("", "claim 0") == 0.0


# -- the command ----------------------------------------------------------------------------


def test_grade_command_writes_every_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(
        ["grade", str(DATA / "deepeval.json"), "--corpus", str(ROOT / "corpus"), "--out", str(out),
         "--compare", str(DATA / "ragas.jsonl")]
    )  # fmt: skip
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert names == {
        "report.json", "results.csv", "report.md", "report.html", "junit.xml",
        "graded.ragas.jsonl", "graded.deepeval.json",
    }  # fmt: skip
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["format"] == "deepeval" and report["questions"] == 2
    assert report["comparison"]["generators"][1]["label"] == "ragas.jsonl"
    suite = ET.parse(out / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None and "nearest source: Military strength" in (failure.text or "")
    assert "<mark>" not in (out / "report.md").read_text(encoding="utf-8")
    assert "graded with lexical" in capsys.readouterr().out
    strict = main(
        [
            "grade",
            str(DATA / "deepeval.json"),
            "--corpus",
            str(ROOT / "corpus"),
            "--out",
            str(out),
            "--strict",
        ]
    )
    assert strict == 1


@pytest.mark.browser
def test_html_report_opens_offline_with_answers_beside_sources(tmp_path: Path, browser: Browser) -> None:
    start = TEXT.index(STRENGTH)
    record = {
        "id": "offsets",
        "question": "What is central?",
        "answer": f"{STRENGTH} [1] Economics matters more.",
        "citations": [{"marker": 1, "quote": STRENGTH, "start": start - 3, "end": start - 3 + len(STRENGTH)}],
    }
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert (
        main(["grade", str(answers), "--corpus", str(ROOT / "corpus"), "--out", str(tmp_path / "out")]) == 0
    )
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((tmp_path / "out" / "report.html").as_uri())
    rows = page.locator("table.side tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("mark").inner_text() == STRENGTH
    assert rows.nth(1).locator("td.v").inner_text().startswith("uncited")
    assert "claimed offsets wrong" in (page.locator("details li").text_content() or "")
    page.close()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []


def test_grade_command_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]", encoding="utf-8")
    assert main(["grade", str(bad), "--corpus", str(ROOT / "corpus"), "--out", str(tmp_path)]) == 2
    assert "holds no records" in capsys.readouterr().err
    judged = ["grade", str(DATA / "alce.json"), "--corpus", str(ROOT / "corpus"), "--checker", "llm"]
    assert main(judged) == 2
    assert "--checker llm needs a language-model back end: add --llm local|" in capsys.readouterr().err


# -- the pytest plugin ----------------------------------------------------------------------


def test_pytest_plugin_is_registered() -> None:
    """Installed, the package offers the plugin to every pytest run (no ``-p`` needed)."""
    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins.get("assistant-grading") == "assistant.pytest_plugin"


def test_assert_grounded_fails_readably_in_a_users_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bot=f"""
        CORPUS = {str(ROOT / "corpus")!r}

        def test_grounded(assert_grounded):
            assert_grounded("Military strength is the central component of geopolitics.", corpus=CORPUS)

        def test_ungrounded(assert_grounded):
            record = {{"user_input": "What matters?",
                      "response": "Economic strength is the central component of geopolitics.",
                      "retrieved_contexts": [{STRENGTH!r}]}}
            assert_grounded(record, corpus=CORPUS)
        """
    )
    result = pytester.runpytest_subprocess("-q")  # the plugin comes from its entry point
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Answer is not grounded (lexical checker, threshold 0.8):*",
            "*unsupported (support 0.30): 'Economic strength is the central component of geopolitics.'*",
            "*nearest source [[]values-in-foreign-policy#s-6-3]: 'Military strength is the central*",
        ]
    )
