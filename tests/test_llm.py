"""Verified LLM generation, with LangChain's fake chat models standing in for a real one.

Whatever the model writes, the answer keeps only sentences that the passages they
cite support, every quote is character-exact, markers that point at no passage go,
and a refusal, a failure, a hang or garbage gives the extractive answer with a notice.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from assistant import Answer, Assistant, QuestionError
from assistant.backends import make_chat_model
from assistant.config import Settings
from assistant.errors import BackendError
from assistant.evaluation import backend_metrics
from assistant.generation import ExtractiveGenerator
from assistant.llm import LLMGenerator, build_generator
from assistant.models import Fallback, Message, VerificationCounts
from assistant.verification import FLAG, LiveVerifier, parse, parse_answer, segments, verify

from .conftest import ESSAY, ROOT
from .server_fixtures import free_port

TEXT = ESSAY.read_text(encoding="utf-8")
LABEL = "fake:model"

DETERRENCE = "What is defensive deterrence?"
DEFINITION = (
    "Defensive deterrence, or deterrence by denial, aims to avoid the kind of competitive armament "
    "that characterizes geopolitical competition"
)
PROPOSALS = (
    "In the 1980s, proposals were put forward for defensive deterrence, deterring foreign attacks "
    "through a credible conventional defensive posture"
)
INVENTED = "Napoleon invented defensive deterrence in 1805 after the battle of Austerlitz"


# -- helpers ---------------------------------------------------------------------------------


class Raising(BaseChatModel):
    """A back end that fails: refused connection, bad gateway..."""

    error: Exception

    @property
    def _llm_type(self) -> str:
        return "raising"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise self.error


class Hanging(BaseChatModel):
    """A back end that never answers in time."""

    seconds: float = 5.0

    @property
    def _llm_type(self) -> str:
        return "hanging"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        time.sleep(self.seconds)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="Too late [1]."))])


class Recording(FakeListChatModel):
    """Records the prompts it is sent."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def _stream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        self.seen.append(messages)
        yield from super()._stream(messages, *args, **kwargs)


def fake(*responses: str) -> FakeListChatModel:
    """Streams character by character."""
    return FakeListChatModel(responses=list(responses))


def fake_words(*responses: str) -> GenericFakeChatModel:
    """Streams word by word."""
    return GenericFakeChatModel(messages=iter(responses))


@pytest.fixture(scope="module")
def shared(essay_index: Path) -> Assistant:
    return Assistant(corpus_dir=ROOT / "corpus", index_dir=essay_index)


@pytest.fixture
def make_bot(shared: Assistant, essay_index: Path) -> Callable[..., Assistant]:
    """An assistant over the essay whose generator asks ``model``; settings as overridden."""

    def make(model: BaseChatModel, **overrides: Any) -> Assistant:
        bot = Assistant(corpus_dir=ROOT / "corpus", index_dir=essay_index, llm="openai", **overrides)
        bot.__dict__["retriever"] = shared.retriever  # cached properties: reuse the built retriever
        extractive = ExtractiveGenerator(bot.retriever, bot.settings)
        generator = build_generator(
            bot.settings, extractive, bot.retriever, bot.checker, chat_model=model, label=LABEL
        )
        bot.__dict__["generator"] = generator  # Assistant.generator is a cached property
        return bot

    return make


def passage_number(bot: Assistant, question: str, phrase: str) -> int:
    """The [n] of the retrieved passage holding ``phrase``, as the prompt numbers them."""
    passages = bot.retriever.retrieve(question).passages
    return next(n for n, p in enumerate(passages, start=1) if phrase in p.chunk.text)


def assert_verified(answer: Answer, min_support: float = 0.5) -> None:
    """The contract: supported sentences, exact quotes, markers that all resolve."""
    assert answer.sentences
    markers = {n for s in answer.sentences for n in s.markers}
    assert markers == {c.marker for c in answer.citations}
    for citation in answer.citations:
        assert TEXT[citation.start : citation.end] == citation.quote
        assert citation.quote in citation.passage
        assert f"[{citation.marker}]" in answer.answer
    for sentence in answer.sentences:
        if not sentence.text.endswith(FLAG):
            assert sentence.support >= min_support, sentence
            assert sentence.markers, sentence


def assert_fallback(answer: Answer, reason: str, code: Fallback) -> None:
    assert answer.generator == f"extractive (fallback from {LABEL})"
    assert reason in answer.notice, answer.notice
    assert "extractive answer instead" in answer.notice
    assert answer.fallback == code
    if code != "too_few_supported":  # only then was the model's answer checked sentence by sentence
        assert answer.verification is None
    if not answer.refused:
        assert_verified(answer)


# -- verified answers ------------------------------------------------------------------------


def test_valid_markers_give_a_verified_llm_answer(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(fake("placeholder"))
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    m = passage_number(bot, DETERRENCE, "proposals were put forward")
    bot = make_bot(fake(f"{DEFINITION} [{n}]. {PROPOSALS} [{m}]."))
    answer = bot.ask(DETERRENCE)
    assert answer.generator == LABEL and not answer.refused and answer.notice == ""
    assert answer.verification == VerificationCounts(sentences=2, supported=2, dropped=0)
    assert answer.fallback is None
    assert_verified(answer)
    assert len(answer.sentences) == 2
    assert answer.sentences[0].text.startswith("Defensive deterrence, or deterrence by denial")
    assert any("deterrence by denial" in c.quote for c in answer.citations)
    assert any("proposals were put forward" in c.quote for c in answer.citations)


@pytest.mark.parametrize(
    "template",
    [
        "{definition} [{n}].",
        "{definition}. [{n}]",
        "{definition} [Passage {n}].",
        "- **{definition}** [{n}]",
        "Answer: {definition} [{n}, 99].",
        "{definition} [{n}][{n}].\n\n{definition} [{n}].",
    ],
)
def test_marker_styles_are_read(make_bot: Callable[..., Assistant], template: str) -> None:
    bot = make_bot(fake("placeholder"))
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    bot = make_bot(fake_words(template.format(definition=DEFINITION, n=n)))
    answer = bot.ask(DETERRENCE)
    assert answer.generator == LABEL, answer.notice
    assert_verified(answer)
    assert len(answer.sentences) == 1 and answer.sentences[0].text.rstrip(".") == DEFINITION


def test_invalid_and_out_of_range_markers_are_removed(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(fake("placeholder"))
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    m = passage_number(bot, DETERRENCE, "proposals were put forward")
    text = f"{DEFINITION} [{n}][9]. {PROPOSALS} [{m}] [0]. Deterrence by denial avoids armament [42]."
    answer = make_bot(fake(text)).ask(DETERRENCE)
    assert answer.generator == LABEL
    assert_verified(answer)
    assert len(answer.sentences) == 2, "the sentence citing only [42] cites nothing and goes"
    assert "[9]" in answer.notice and "[0]" in answer.notice and "[42]" in answer.notice
    assert "pointing at no passage" in answer.notice
    assert "[9]" not in answer.answer and "[42]" not in answer.answer


def test_wrong_passage_cited_is_not_rescued(make_bot: Callable[..., Assistant]) -> None:
    """A true sentence counts only if the passage it cites says it."""
    bot = make_bot(fake("placeholder"))
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    wrong = passage_number(bot, DETERRENCE, "Joe Biden")
    assert wrong != n
    answer = make_bot(fake(f"{DEFINITION} [{wrong}].")).ask(DETERRENCE)
    assert_fallback(answer, "Only 0 of 1 sentences", "too_few_supported")


def test_missing_markers_fall_back(make_bot: Callable[..., Assistant]) -> None:
    answer = make_bot(fake(f"{DEFINITION}. {PROPOSALS}.")).ask(DETERRENCE)
    assert_fallback(answer, "Only 0 of 2 sentences", "too_few_supported")
    assert answer.verification == VerificationCounts(sentences=2, supported=0, dropped=2)
    assert any("deterrence by denial" in c.quote for c in answer.citations)


def test_invented_claim_is_removed(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(fake("placeholder"))
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    m = passage_number(bot, DETERRENCE, "proposals were put forward")
    text = f"{DEFINITION} [{n}]. {INVENTED} [{n}]. {PROPOSALS} [{m}]."
    answer = make_bot(fake(text)).ask(DETERRENCE)
    assert answer.generator == LABEL
    assert_verified(answer)
    assert "Napoleon" not in answer.answer and "1805" not in answer.answer
    assert len(answer.sentences) == 2
    assert "1 sentence not supported by the text removed" in answer.notice
    assert answer.verification == VerificationCounts(sentences=3, supported=2, dropped=1)
    assert answer.fallback is None


def test_the_answer_states_its_verification_and_the_evaluation_reads_it(
    make_bot: Callable[..., Assistant],
) -> None:
    """Counts and fallback reason are fields of the contract; the evaluation reads them, not the notice."""
    bot = make_bot(fake("placeholder"))
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    cut = make_bot(fake(f"{DEFINITION} [{n}]. {INVENTED} [{n}].")).ask(DETERRENCE).to_dict()
    assert cut["verification"] == {"sentences": 2, "supported": 1, "dropped": 1} and cut["fallback"] is None
    replaced = make_bot(fake(f"{INVENTED} [{n}].")).ask(DETERRENCE).to_dict()
    assert replaced["verification"] == {"sentences": 1, "supported": 0, "dropped": 1}
    assert replaced["fallback"] == "too_few_supported"
    results = [{**cut, "notice": ""}, {**replaced, "notice": ""}]  # no prose to read
    rate = backend_metrics(results, LABEL)["llm.unverified_sentence_rate"]
    assert (rate["value"], rate["n"]) == (pytest.approx(2 / 3), 3)


def test_invented_claim_is_flagged_when_configured(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(fake("placeholder"))
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    text = f"{DEFINITION} [{n}]. {INVENTED} [{n}]."
    answer = make_bot(fake(text), unsupported="flag").ask(DETERRENCE)
    assert answer.generator == LABEL
    assert_verified(answer)
    flagged = [s for s in answer.sentences if s.text.endswith(FLAG)]
    assert len(flagged) == 1 and "Napoleon" in flagged[0].text
    assert flagged[0].support < 0.5
    assert "marked (unverified)" in answer.notice
    assert answer.verification == VerificationCounts(sentences=2, supported=1, dropped=0)  # kept, marked


def test_mostly_invented_answer_falls_back(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(fake("placeholder"))
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    text = (
        f"{DEFINITION} [{n}]. {INVENTED} [{n}]. It was first used by the Roman legions [1]. "
        "Today it is practiced mainly by Switzerland [2]."
    )
    answer = make_bot(fake(text)).ask(DETERRENCE)
    assert_fallback(answer, "Only 1 of 4 sentences", "too_few_supported")
    assert answer.verification == VerificationCounts(sentences=4, supported=1, dropped=4)
    assert "Napoleon" not in answer.answer


@pytest.mark.parametrize(
    "reply",
    [
        "The passages do not answer this question.",
        "the passages do not answer this question",
        "I'm sorry, but the essay does not mention the moon landing.",
        "The provided passages don't say anything about this. I cannot answer.",
    ],
)
def test_refusal_falls_back(make_bot: Callable[..., Assistant], reply: str) -> None:
    answer = make_bot(fake(reply)).ask(DETERRENCE)
    assert_fallback(answer, "found no answer in the passages", "model_refused")


def test_a_model_s_answer_whose_quotes_never_name_what_is_asked_carries_the_caveat(
    make_bot: Callable[..., Assistant],
) -> None:
    question = "Which county does the author live in?"  # the essay names no county
    first = make_bot(fake("placeholder")).retriever.retrieve(question).passages[0]
    sentence = max((s.text for s in first.chunk.sentences), key=len)  # the model copies one: supported
    answer = make_bot(fake(f"{sentence.rstrip('.')} [1].")).ask(question)
    assert answer.generator == LABEL and not answer.fallback
    assert answer.uncertain and answer.caveat.startswith("The quoted text never mentions “county”")
    assert not make_bot(fake(f"{DEFINITION} [1].")).ask(DETERRENCE).caveat


def test_a_fallback_keeps_the_caveat_of_quotes_that_may_not_answer(
    make_bot: Callable[..., Assistant],
) -> None:
    answer = make_bot(fake("The passages do not answer this question.")).ask(
        "Which county does the author live in?"
    )
    assert_fallback(answer, "found no answer in the passages", "model_refused")
    assert answer.uncertain and answer.caveat.startswith("The quoted text never mentions “county”")
    assert "may not answer" not in answer.notice  # the caveat once, in its own field


def test_refusal_on_an_unanswerable_question_gives_the_extractive_refusal(
    make_bot: Callable[..., Assistant],
) -> None:
    answer = make_bot(fake("The passages do not answer this question.")).ask(
        "What does the essay say about the 1969 moon landing?"
    )
    assert answer.refused and not answer.citations
    assert answer.generator.startswith("extractive (fallback")


@pytest.mark.parametrize(
    ("reply", "reason", "code"),
    [
        ("", "No generation chunks", "model_error"),  # LangChain's own complaint
        ("   \n\n ", "returned no usable answer", "no_usable_answer"),
        ("}}}{{ ### *** [[[ ]]] ((( )))", "returned no usable answer", "no_usable_answer"),
        ("lorem ipsum dolor [1] sit amet [2]", "Only 0 of 1 sentences", "too_few_supported"),
    ],
)
def test_garbage_falls_back(
    make_bot: Callable[..., Assistant], reply: str, reason: str, code: Fallback
) -> None:
    answer = make_bot(fake(reply)).ask(DETERRENCE)
    assert_fallback(answer, reason, code)


def test_a_model_that_raises_gives_the_extractive_answer(make_bot: Callable[..., Assistant]) -> None:
    secret = "sk-test-very-secret-123"
    model = Raising(error=ConnectionError(f"connection refused (key {secret})"))
    bot = make_bot(model, llm_api_key=secret)
    answer = bot.ask(DETERRENCE)
    assert_fallback(answer, "failed: ConnectionError: connection refused", "model_error")
    assert (
        secret not in answer.notice and secret not in repr(bot.generator) and secret not in repr(bot.settings)
    )


def test_a_model_that_fails_mid_stream_gives_the_extractive_answer(
    make_bot: Callable[..., Assistant],
) -> None:
    model = FakeListChatModel(responses=[DEFINITION + " [1]."], error_on_chunk_number=5)
    answer = make_bot(model).ask(DETERRENCE)
    assert_fallback(answer, "failed: FakeListChatModelError", "model_error")


def test_a_model_that_hangs_times_out(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(Hanging(seconds=5.0), llm_timeout=0.3)
    began = time.monotonic()
    answer = bot.ask(DETERRENCE)
    assert time.monotonic() - began < 4.0, "the caller must not wait for the hung back end"
    assert_fallback(answer, "did not answer within 0.3 s", "timeout")


def test_a_model_that_raises_a_timeout_error(make_bot: Callable[..., Assistant]) -> None:
    answer = make_bot(Raising(error=TimeoutError("read timed out"))).ask(DETERRENCE)
    assert_fallback(answer, "did not answer within 30 s", "timeout")


def test_a_slow_stream_times_out_part_way(make_bot: Callable[..., Assistant]) -> None:
    model = FakeListChatModel(responses=[DEFINITION * 3], sleep=0.02)
    answer = make_bot(model, llm_timeout=0.5).ask(DETERRENCE)
    assert_fallback(answer, "did not answer within 0.5 s", "timeout")


def test_greetings_do_not_call_the_model(make_bot: Callable[..., Assistant]) -> None:
    answer = make_bot(Raising(error=RuntimeError("must not be called"))).ask("Hello!")
    assert answer.generator == "extractive" and answer.notice == ""
    assert answer.verification is None and answer.fallback is None


# -- the prompt ------------------------------------------------------------------------------


def test_prompt_numbers_the_retrieved_passages(make_bot: Callable[..., Assistant]) -> None:
    model = Recording(responses=["The passages do not answer this question."])

    bot = make_bot(model)
    bot.ask(DETERRENCE)
    system, user = model.seen[0]
    assert system.type == "system" and "[1]" in str(system.content)
    passages = bot.retriever.retrieve(DETERRENCE).passages
    for number, passage in enumerate(passages, start=1):
        assert f"[{number}] {passage.chunk.text}" in str(user.content)
    assert f"[{len(passages) + 1}]" not in str(user.content)
    assert DETERRENCE in str(user.content)
    assert "The passages do not answer this question." in str(user.content)


# -- streaming -------------------------------------------------------------------------------


def test_stream_flags_an_unsupported_sentence_as_soon_as_it_ends(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(fake("placeholder"))
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    m = passage_number(bot, DETERRENCE, "proposals were put forward")
    text = f"{INVENTED} [{n}]. {DEFINITION} [{n}]. {PROPOSALS} [{m}]."
    events = list(make_bot(fake(text)).ask_stream(DETERRENCE))
    tokens = [e.text for e in events if e.kind == "token"]
    assert len(tokens) > 10, "the model's text streams"
    shown = "".join(tokens)
    assert shown == text.replace(f"[{n}]. Defensive", f"[{n}].{FLAG} Defensive", 1)
    assert shown.index(FLAG) < shown.index("Defensive deterrence, or"), "flagged before the next sentence"
    final = events[-1].answer
    assert final is not None and final.generator == LABEL
    assert "Napoleon" not in final.answer
    assert [e.kind for e in events[-3:]] == ["sentence", "sentence", "final"]


# -- follow-ups ------------------------------------------------------------------------------


def generator_with(make_bot: Callable[..., Assistant], model: BaseChatModel) -> LLMGenerator:
    generator = make_bot(model).generator
    assert isinstance(generator, LLMGenerator)
    return generator


HISTORY = [
    Message("user", "What does the author mean by human security?"),
    Message("assistant", "Human security is about the security of individuals and communities. [1]"),
]


def test_follow_up_rewritten_by_the_model(make_bot: Callable[..., Assistant]) -> None:
    rewritten = "How would human security change the armed forces?"
    generator = generator_with(make_bot, fake(f"Rewritten question: {rewritten}\n"))
    assert generator.rewrite_followup("And how would that change the armed forces?", HISTORY) == rewritten


def test_the_pipeline_asks_the_model_to_rewrite_a_follow_up(make_bot: Callable[..., Assistant]) -> None:
    rewritten = "How would human security change the armed forces?"
    bot = make_bot(fake(rewritten, "I cannot answer from these passages."))
    answer = bot.ask("And how would that change the armed forces?", HISTORY)
    assert answer.standalone_question == rewritten
    assert not bot.ask("What is human security?").standalone_question.startswith("How would"), (
        "a question without history is not rewritten"
    )


def test_the_rules_rewrite_when_the_model_cannot(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(Raising(error=ConnectionError("down")))
    answer = bot.ask("And how would that change the armed forces?", HISTORY)
    assert "human security" in answer.standalone_question.lower()
    assert answer.generator.startswith("extractive (fallback")


def test_extractive_can_be_chosen_per_question(make_bot: Callable[..., Assistant]) -> None:
    bot = make_bot(fake(f"{INVENTED} [1]."))
    assert bot.generator_choices == ["openai", "extractive"]
    answer = bot.ask(DETERRENCE, generator="extractive")
    assert answer.generator == "extractive" and answer.citations and "Napoleon" not in answer.answer
    with pytest.raises(QuestionError, match="choose one of: openai, extractive"):
        bot.ask(DETERRENCE, generator="ollama")


@pytest.mark.parametrize(
    "model",
    [
        fake("?!?"),
        fake(""),
        Raising(error=ConnectionError("down")),
        fake("The author considers human security exemplary for the armed forces."),  # an answer
    ],
)
def test_untrusted_rewrites_are_ignored(make_bot: Callable[..., Assistant], model: BaseChatModel) -> None:
    generator = generator_with(make_bot, model)
    assert generator.rewrite_followup("And how would that change the armed forces?", HISTORY) is None
    assert generator.rewrite_followup("What is human security?", []) is None


# -- choosing a back end ---------------------------------------------------------------------


def test_missing_packages_name_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_openai", None)
    monkeypatch.setitem(sys.modules, "langchain_ollama", None)
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    for backend, package in [("openai", "langchain-openai"), ("ollama", "langchain-ollama")]:
        with pytest.raises(BackendError, match=f'pip install "{package}'):
            make_chat_model(Settings(llm=backend, llm_model="m", llm_base_url="http://127.0.0.1:1/v1"))
    with pytest.raises(BackendError, match='pip install "llama-cpp-python'):
        make_chat_model(Settings(llm="llamacpp", llm_model="model.gguf"))


def test_backends_need_their_settings() -> None:
    pytest.importorskip("langchain_openai")
    pytest.importorskip("langchain_ollama")
    with pytest.raises(BackendError, match="ASSISTANT_LLM_BASE_URL"):
        make_chat_model(Settings(llm="openai"))
    with pytest.raises(BackendError, match="ASSISTANT_LLM_MODEL"):
        make_chat_model(Settings(llm="ollama"))


def test_ollama_backend_is_built() -> None:
    pytest.importorskip("langchain_ollama")
    model, label = make_chat_model(Settings(llm="ollama", llm_model="smollm2:135m"))
    assert label == "ollama:smollm2:135m" and type(model).__name__ == "ChatOllama"


def test_openai_backend_that_cannot_connect_falls_back(essay_index: Path) -> None:
    """The real ChatOpenAI client against a port nobody listens on: a notice, no crash, no key."""
    pytest.importorskip("langchain_openai")
    secret = "sk-test-never-shown-456"
    bot = Assistant(
        corpus_dir=ROOT / "corpus",
        index_dir=essay_index,
        llm="openai",
        llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
        llm_model="local",
        llm_api_key=secret,
        llm_timeout=5,
    )
    assert bot.generator.name == "openai:local"
    began = time.monotonic()
    answer = bot.ask(DETERRENCE)
    assert time.monotonic() - began < 10
    assert answer.generator == "extractive (fallback from openai:local)"
    assert "ConnectionError: Connection error" in answer.notice
    assert secret not in answer.notice and secret not in repr(bot.generator)
    assert secret not in repr(bot.generator.chat_model)  # type: ignore[attr-defined]


# -- verification, unit by unit --------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "text", "markers"),
    [
        ("Claim one [1].", "Claim one.", (1,)),
        ("Claim one. [1]", "Claim one.", (1,)),
        ("Claim one [1, 3].", "Claim one.", (1, 3)),
        ("Claim one [1][3].", "Claim one.", (1, 3)),
        ("Claim one [1-3].", "Claim one.", (1, 2, 3)),
        ("Claim one [passages 2 and 4].", "Claim one.", (2, 4)),
        ("* **Claim** one [2]", "Claim one", (2,)),
        ("1. Claim one (see [2]).", "Claim one (see).", (2,)),
        ("Claim without markers.", "Claim without markers.", ()),
    ],
)
def test_markers_are_parsed(segment: str, text: str, markers: tuple[int, ...]) -> None:
    parsed = parse(segment)
    assert (parsed.text, parsed.markers) == (text, markers)


def test_markers_after_the_full_stop_stay_with_their_sentence() -> None:
    text = "First claim. [1] Second claim [2]. [3]\n- Third claim\n[4]"
    pieces = [text[s:e] for s, e in segments(text)]
    assert pieces == ["First claim. [1]", "Second claim [2]. [3]", "- Third claim\n[4]"]
    assert [p.markers for p in parse_answer(text)] == [(1,), (2, 3), (4,)]


def test_repeated_sentences_count_once() -> None:
    assert len(parse_answer("Same claim [1]. Same claim [1]. Same  claim [1].")) == 1


def test_live_verifier_passes_the_text_through(shared: Assistant) -> None:
    bot = shared
    passages = bot.retriever.retrieve(DETERRENCE).passages
    n = passage_number(bot, DETERRENCE, "deterrence by denial")
    text = f"{DEFINITION} [{n}]. Napoleon did it in the U.S. first [{n}]."
    text += f"\nIn short, {DEFINITION.lower()}. [{n}]"
    whole = verify(text, passages, bot.checker, min_support=0.5)
    verifier_checks: list[bool] = []

    def check(sentence: Any) -> Any:
        from assistant.verification import Verifier

        result = Verifier(passages, bot.checker, min_support=0.5).check(sentence)
        verifier_checks.append(result.supported)
        return result

    live = LiveVerifier(check)
    shown = "".join(piece for token in _chunks(text, 3) for piece in live.feed(token)) + "".join(live.close())
    assert shown.replace(FLAG, "") == text
    assert verifier_checks == [c.supported for c in whole.checked] == [True, False, True]
    assert shown.count(FLAG) == 1 and shown.index("first") < shown.index(FLAG) < shown.index("In short")


def _chunks(text: str, size: int) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]
