"""The local back end's composed answers, with LangChain's scripted chat models in the model's place.

What the model is shown (only the extractive answer's quotes, under a system message that does
not change from question to question), what it is not asked (a question the extractive answer
refuses), and how its sentences are verified (against the quoted sentences only, a forgotten
[n] included). The real model runs in test_llm_real.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from assistant import Assistant
from assistant.composed import ComposedGenerator
from assistant.generation import ExtractiveGenerator
from assistant.llm import build_generator

from .conftest import ESSAY, ROOT
from .test_llm import DEFINITION, DETERRENCE, INVENTED, LABEL, Recording, fake

TEXT = ESSAY.read_text(encoding="utf-8")
UNANSWERABLE = "What does the essay say about the 1969 moon landing?"


@pytest.fixture(scope="module")
def shared(essay_index: Path) -> Assistant:
    return Assistant(corpus_dir=ROOT / "corpus", index_dir=essay_index)


@pytest.fixture
def make_bot(shared: Assistant, essay_index: Path) -> Callable[..., Assistant]:
    def make(model: BaseChatModel, **overrides: Any) -> Assistant:
        bot = Assistant(corpus_dir=ROOT / "corpus", index_dir=essay_index, llm="local", **overrides)
        bot.__dict__["retriever"] = shared.retriever
        extractive = ExtractiveGenerator(bot.retriever, bot.settings)
        bot.__dict__["extractive"] = extractive
        generator = build_generator(
            bot.settings, extractive, bot.retriever, bot.checker, chat_model=model, label=LABEL
        )
        assert isinstance(generator, ComposedGenerator)
        bot.__dict__["generator"] = generator
        return bot

    return make


def test_the_model_is_shown_only_the_extractive_quotes(make_bot: Callable[..., Assistant]) -> None:
    model = Recording(responses=[f"{DEFINITION} [1].", f"{DEFINITION} [1]."])
    bot = make_bot(model)
    quotes = [c.quote for c in bot.ask(DETERRENCE, generator="extractive").citations]
    bot.ask(DETERRENCE)
    bot.ask("Where does the essay say the ideological struggle against authoritarianism is playing out?")
    (system, user), (system_again, _) = model.seen
    assert isinstance(system, SystemMessage) and isinstance(user, HumanMessage)
    assert system.content == system_again.content  # fixed, so llama.cpp evaluates it once
    shown = str(user.content)
    for n, quote in enumerate(quotes, start=1):
        assert f"[{n}] {quote}" in shown
    assert f"[{len(quotes) + 1}]" not in shown
    assert len(shown) < 200 + sum(len(q) for q in quotes)  # the quotes and the question, no passages


def test_a_sentence_without_its_marker_is_verified_against_the_quotes(
    make_bot: Callable[..., Assistant],
) -> None:
    bot = make_bot(fake(f"{DEFINITION}."))
    extractive = bot.ask(DETERRENCE, generator="extractive")
    answer = bot.ask(DETERRENCE)
    assert answer.generator == LABEL and not answer.notice
    (sentence,) = answer.sentences
    assert sentence.markers and sentence.support >= bot.settings.min_support
    assert {c.quote for c in answer.citations} <= {c.quote for c in extractive.citations}
    for citation in answer.citations:
        assert TEXT[citation.start : citation.end] == citation.quote
    assert answer.timings_ms["first_verified"] <= answer.timings_ms["model"]


def test_an_invented_sentence_falls_back_to_the_extractive_answer(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(fake(f"{INVENTED} [1]."))
    answer = bot.ask(DETERRENCE)
    assert answer.generator == f"extractive (fallback from {LABEL})"
    assert answer.fallback == "too_few_supported" and "first_verified" not in answer.timings_ms
    assert answer.citations == bot.ask(DETERRENCE, generator="extractive").citations


def test_a_question_the_extractive_answer_refuses_never_reaches_the_model(
    make_bot: Callable[..., Assistant],
) -> None:
    model = Recording(responses=["Anything [1]."])
    bot = make_bot(model)
    answer = bot.ask(UNANSWERABLE)
    assert answer.refused and answer.generator == "extractive" and model.seen == []


def test_the_evidence_is_each_quoted_sentence_once(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(fake("unused"))
    request = bot.request(DETERRENCE, [])
    draft = bot.extractive.generate(request)
    evidence = draft.quoted()
    keys = [(q.sentence.doc_id, q.sentence.start) for q in evidence]
    assert evidence and len(keys) == len(set(keys))
    assert {q.sentence.text for q in evidence} == {q.sentence.text for s in draft.sentences for q in s.quotes}


def test_an_answer_written_from_quotes_that_may_not_answer_keeps_their_caveat(
    make_bot: Callable[..., Assistant],
) -> None:
    question = "Which county does the author live in?"  # the essay names no county
    bot = make_bot(fake("unused"))
    extractive = bot.ask(question, generator="extractive")
    assert extractive.uncertain and extractive.citations
    bot = make_bot(fake(f"{extractive.citations[0].quote} [1]"))
    answer = bot.ask(question)
    assert answer.generator == LABEL and answer.uncertain and answer.caveat == extractive.caveat
    assert bot.ask(DETERRENCE).uncertain is False
