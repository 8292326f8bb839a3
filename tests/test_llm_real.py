"""The LLM back ends for real, with the local model (Qwen2.5-Coder-1.5B-Instruct, ``make llm``).

In-process through xllamacpp (the ``local`` back end, which writes from the extractive
answer's quotes), and through the ``openai`` back end against the same llama.cpp server's
OpenAI-compatible HTTP endpoint on 127.0.0.1. What a model writes varies, so these tests
assert what must hold whatever it writes: a sentence that survives is supported, every quote
is exact, a failure or an unverifiable answer falls back to the extractive one with a notice;
and, from the yes/no judgement, that quoted sentences that answer a question are judged
likelier to than the same sentences against a question they do not answer.

Needs ``make llm``; skipped otherwise, except under ``ASSISTANT_TEST_REQUIRE_LLM=1`` (set by
``.ci/run``), where a missing piece fails the run. Run just these with ``pytest -m llm``.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from assistant import Answer, Assistant
from assistant.composed import ComposedGenerator, answerability, best_candidates, judged_for
from assistant.llm import LLMGenerator
from assistant.local_llm import LocalChat
from assistant.models import Message
from assistant.verification import FLAG

from .conftest import ESSAY, ROOT
from .llm_fixtures import LABEL, MISSING, REQUIRED, unavailable

TEXT = ESSAY.read_text(encoding="utf-8")
if MISSING and REQUIRED:
    pytest.fail(f"ASSISTANT_TEST_REQUIRE_LLM=1, but {MISSING}", pytrace=False)
pytestmark = [pytest.mark.llm, pytest.mark.skipif(bool(MISSING), reason=MISSING or "ready")]

DETERRENCE = "What is defensive deterrence?"
QUESTIONS = [
    DETERRENCE,
    "What phrase does the essay quote from Otto von Bismarck?",
    "What does the essay say about the 1969 moon landing?",  # not in the essay
]
TIMEOUT = 240.0  # generous: CI machines are small and busy; the timeout path has its own test


def ask(bot: Assistant, question: str) -> tuple[Answer, list[str]]:
    tokens: list[str] = []
    answer = None
    for event in bot.ask_stream(question):
        if event.kind == "token":
            tokens.append(event.text)
        elif event.answer is not None:
            answer = event.answer
    assert answer is not None
    return answer, tokens


def assert_verified_or_fallen_back(bot: Assistant, answer: Answer) -> None:
    """What holds for any model: exact quotes; supported sentences, or the extractive answer."""
    generator = bot.generator
    assert isinstance(generator, LLMGenerator)
    for citation in answer.citations:
        assert TEXT[citation.start : citation.end] == citation.quote
        assert citation.quote in citation.passage
    assert {n for s in answer.sentences for n in s.markers} == {c.marker for c in answer.citations}
    if answer.generator == generator.name:
        assert answer.sentences and not answer.refused
        for sentence in answer.sentences:
            if sentence.text.endswith(FLAG):
                assert sentence.support < bot.settings.min_support
            else:
                assert sentence.support >= bot.settings.min_support, sentence
                assert sentence.markers
    elif answer.generator == generator.fallback_name:
        assert answer.notice.endswith("showing the extractive answer instead.")
        assert "failed" not in answer.notice and "did not answer" not in answer.notice, answer.notice
        if not answer.refused:
            assert all(s.support >= bot.settings.min_support for s in answer.sentences)
    else:  # the extractive answer refused: the model is not asked
        assert answer.generator == "extractive" and answer.refused


def local_bot(essay_index: Path, **overrides: object) -> Assistant:
    settings = {"llm": "local", "llm_timeout": TIMEOUT, **overrides}
    return Assistant(corpus_dir=ROOT / "corpus", index_dir=essay_index, **settings)


@pytest.fixture(scope="module")
def local(essay_index: Path) -> Assistant:
    return local_bot(essay_index)


def test_local_backend_is_named_after_the_gguf(local: Assistant) -> None:
    assert local.generator.name == LABEL
    assert isinstance(local.generator, ComposedGenerator)


@pytest.mark.parametrize("question", QUESTIONS)
def test_local_answers_are_verified_or_fall_back(local: Assistant, question: str) -> None:
    answer, tokens = ask(local, question)
    assert_verified_or_fallen_back(local, answer)
    if answer.generator != "extractive":
        assert tokens, "the model's text streams before the answer"
        assert answer.timings_ms["model"] > 0
    if answer.generator == LABEL:
        # Each sentence rests on the quotes the extractive answer chose, and says when it was verified.
        extractive = local.ask(question, generator="extractive")
        assert {c.quote for c in answer.citations} <= {c.quote for c in extractive.citations}
        assert 0 < answer.timings_ms["first_verified"] <= answer.timings_ms["model"]


def test_unanswerable_question_is_refused_without_the_model(local: Assistant) -> None:
    answer, tokens = ask(local, QUESTIONS[2])
    assert answer.refused and answer.generator == "extractive" and not tokens


def test_local_flagged_sentences_are_marked(essay_index: Path) -> None:
    bot = local_bot(essay_index, unsupported="flag", min_surviving=0.0)
    answer, _ = ask(bot, DETERRENCE)
    assert_verified_or_fallen_back(bot, answer)


def test_local_timeout_falls_back(essay_index: Path) -> None:
    bot = local_bot(essay_index, llm_timeout=0.05)
    began = time.monotonic()
    answer, _ = ask(bot, DETERRENCE)
    assert time.monotonic() - began < 60
    assert answer.generator == f"extractive (fallback from {LABEL})"
    assert "did not answer within 0.05 s" in answer.notice
    assert not answer.refused and answer.citations


def test_answerability_prefers_the_question_the_sentences_answer(local: Assistant) -> None:
    generator = local.generator
    assert isinstance(generator, ComposedGenerator) and isinstance(generator.chat_model, LocalChat)
    request = local.request(DETERRENCE, [])
    evidence = best_candidates(judged_for(local.extractive, request))
    assert evidence
    title = "Values in Foreign Policy"
    answered = answerability(generator.chat_model, generator.prompts, DETERRENCE, evidence, title)
    unrelated = "In what year did people first land on the moon?"
    not_answered = answerability(generator.chat_model, generator.prompts, unrelated, evidence, title)
    assert 0.0 <= not_answered < answered <= 1.0
    assert generator.answerability(request) == pytest.approx(answered, abs=0.05)


def test_local_follow_ups_are_rewritten_by_the_rules(local: Assistant) -> None:
    """The model is not asked to rewrite a follow-up (a second call per question): the rules
    resolve it, and the model answers the standalone question from the quotes."""
    history = [
        Message("user", "What does the author mean by human security?"),
        Message("assistant", "Human security is about the security of individuals and communities. [1]"),
    ]
    generator = local.generator
    assert isinstance(generator, ComposedGenerator)
    assert generator.rewrite_followup("And how would that change the armed forces?", history) is None
    answer = local.ask("And how would that change the armed forces?", history)
    assert "human security" in answer.standalone_question.lower()
    assert_verified_or_fallen_back(local, answer)


# -- the openai back end against llama.cpp's own HTTP server ----------------------------------


@pytest.fixture(scope="module")
def server(local: Assistant) -> str:
    """The /v1 URL of the HTTP endpoint the local model's in-process llama.cpp server listens on."""
    if importlib.util.find_spec("langchain_openai") is None:
        unavailable("langchain-openai is not installed (pip install -e '.[dev]')")
    generator = local.generator
    assert isinstance(generator, LLMGenerator) and isinstance(generator.chat_model, LocalChat)
    address = str(generator.chat_model.load().listening_address)
    assert address.startswith("http://127.0.0.1:")
    return f"{address}/v1"


def test_openai_backend_answers_are_verified_or_fall_back(essay_index: Path, server: str) -> None:
    bot = Assistant(
        corpus_dir=ROOT / "corpus",
        index_dir=essay_index,
        llm="openai",
        llm_base_url=server,
        llm_model="qwen",
        llm_timeout=TIMEOUT,
    )
    assert bot.generator.name == "openai:qwen"
    answer, tokens = ask(bot, QUESTIONS[1])
    assert_verified_or_fallen_back(bot, answer)
    assert tokens, "tokens stream from the server"
