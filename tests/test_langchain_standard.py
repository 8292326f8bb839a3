"""LangChain's own standard suite for retrievers (``langchain-tests``) against ``Assistant.as_retriever``,
on a real index of the essay; and the grounded answer as a Runnable (``Assistant.as_runnable``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant import Answer, Assistant
from assistant.errors import QuestionError
from assistant.models import StreamEvent

from .conftest import ESSAY

# The suite's one async test runs on anyio's pytest plugin; the mark leaves the sync ones alone.
pytestmark = pytest.mark.anyio
QUESTION = "What is defensive deterrence?"
TEXT = ESSAY.read_text(encoding="utf-8")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TestAssistantRetriever(RetrieversIntegrationTests):
    """The whole standard suite: ``k`` at construction and at invoke time, sync and async."""

    bot: Assistant

    @pytest.fixture(autouse=True)
    def _assistant(self, bot: Assistant) -> None:
        self.bot = bot  # the session's assistant over a real index of the essay in a temp folder

    @property
    def retriever_constructor(self) -> Callable[..., BaseRetriever]:  # type: ignore[override]
        return self.bot.as_retriever

    @property
    def retriever_query_example(self) -> str:
        return "defensive deterrence"


def test_retriever_k_at_invoke_time_overrides_the_constructed_k(bot: Assistant) -> None:
    retriever = bot.as_retriever(k=5)
    assert len(retriever.invoke("defensive deterrence", k=2)) == 2
    assert len(retriever.invoke("defensive deterrence")) == 5
    documents = asyncio.run(retriever.ainvoke("defensive deterrence", k=1))
    assert len(documents) == 1
    top = documents[0]
    assert TEXT[top.metadata["start"] : top.metadata["end"]] == top.page_content


def test_retriever_rejects_a_bad_k_and_an_empty_query(bot: Assistant) -> None:
    retriever = bot.as_retriever()
    with pytest.raises(QuestionError, match="at least 1"):
        retriever.invoke("defensive deterrence", k=0)
    with pytest.raises(QuestionError, match="empty"):
        retriever.invoke("   ")


def test_runnable_answers_a_question_or_a_mapping_with_history(bot: Assistant) -> None:
    runnable = bot.as_runnable()
    answer = runnable.invoke(QUESTION)
    assert isinstance(answer, Answer)
    assert not answer.refused and answer.citations
    for citation in answer.citations:
        assert TEXT[citation.start : citation.end] == citation.quote
    history: list[dict[str, Any]] = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": answer.answer},
    ]
    follow_up = runnable.invoke({"question": "Why did it matter?", "history": history})
    assert follow_up.standalone_question != "Why did it matter?"  # the history resolved "it"


def test_runnable_streams_the_assistants_own_events(bot: Assistant) -> None:
    events = list(bot.as_runnable().stream({"question": QUESTION}))
    assert all(isinstance(event, StreamEvent) for event in events)
    assert [e.kind for e in events][-1] == "final"
    final = events[-1].answer
    assert final is not None
    streamed = [e.sentence.text for e in events if e.kind == "sentence" and e.sentence is not None]
    assert streamed == [s.text for s in final.sentences]
    assert final.answer == bot.ask(QUESTION).answer


def test_runnable_streams_asynchronously(bot: Assistant) -> None:
    async def collect() -> list[StreamEvent]:
        return [event async for event in bot.as_runnable().astream(QUESTION)]

    events = asyncio.run(collect())
    assert events[-1].kind == "final" and events[-1].answer is not None
    assert events[-1].answer.answer == bot.ask(QUESTION).answer


def test_runnable_composes_in_an_lcel_chain(bot: Assistant) -> None:
    chain = RunnableLambda(lambda topic: f"What is {topic}?") | bot.as_runnable() | (lambda a: a.citations)
    citations = chain.invoke("defensive deterrence")
    assert citations and all(TEXT[c.start : c.end] == c.quote for c in citations)
    batch = bot.as_runnable().batch([QUESTION, "What is the capital of Peru?"])
    assert not batch[0].refused and batch[1].refused


def test_runnable_rejects_input_it_cannot_read(bot: Assistant) -> None:
    runnable = bot.as_runnable()
    with pytest.raises(QuestionError, match="no 'question'"):
        runnable.invoke({"query": QUESTION})
    with pytest.raises(QuestionError, match="not int"):
        runnable.invoke(42)  # type: ignore[arg-type]
    with pytest.raises(QuestionError, match="empty"):
        list(runnable.stream(""))
