"""The OpenAI-compatible endpoint, driven by the official ``openai`` client against a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import openai
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import SecretStr

from assistant import Assistant
from assistant.citing import answer_text
from assistant.models import Message
from assistant.web import create_app

from .conftest import ESSAY
from .server_fixtures import llm_assistant

pytest_plugins = ["tests.server_fixtures"]

Serve = Callable[..., AbstractContextManager[str]]
MODEL = "reading:default"
QUESTION = "What is defensive deterrence?"
UNANSWERABLE = "What is the capital of Peru?"
TEXT = ESSAY.read_text(encoding="utf-8")
TOKEN = "course-token-1234"


def client(base: str, api_key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=api_key, max_retries=0, timeout=60)


def ask(base: str, content: str, **options: Any) -> Any:
    return client(base).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}], **options
    )


def assert_grounded(citations: list[dict[str, Any]], base: str) -> None:
    assert citations
    for citation in citations:
        assert TEXT[citation["start"] : citation["end"]] == citation["quote"]
        assert citation["reading_view"].startswith(f"{base}/read/")
        assert citation["reading_view"].endswith(f"#{citation['anchor']}")


@pytest.fixture(scope="module")
def guarded(server_bot: Assistant, serve: Serve) -> Iterator[str]:
    """A server of the same index that wants the API token."""
    settings = server_bot.settings.model_copy(update={"api_token": SecretStr(TOKEN)})
    with serve(create_app(Assistant(settings))) as base:
        yield base


def test_models_are_the_collections(live_server: str) -> None:
    models = client(live_server).models.list()
    assert [m.id for m in models.data] == [MODEL]
    assert client(live_server).models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError) as caught:
        client(live_server).models.retrieve("gpt-4o")
    assert caught.value.code == "model_not_found"


def test_a_grounded_answer_with_its_citations(live_server: str, server_bot: Assistant) -> None:
    completion = ask(live_server, QUESTION)
    content = completion.choices[0].message.content
    expected = server_bot.ask(QUESTION)
    assert content == answer_text(expected, base=f"{live_server}/")
    assert content.startswith(expected.sentences[0].text)
    assert "[1]" in content and "\n\nSources:\n- [1] " in content
    extra = completion.model_extra
    assert extra["refused"] is False and extra["answer_kind"] == "answer"
    assert_grounded(extra["citations"], live_server)
    assert [c["quote"] for c in extra["citations"]] == [c.quote for c in expected.citations]
    for citation in extra["citations"]:
        assert f"[{citation['marker']}]" in content and citation["quote"] in content


def test_the_streamed_answer_is_the_same_answer(live_server: str) -> None:
    whole = ask(live_server, QUESTION)
    chunks = list(ask(live_server, QUESTION, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len([c for c in chunks if c.choices[0].delta.content]) >= 2  # sentence by sentence, then sources
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == whole.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"] == whole.model_extra["citations"]
    assert_grounded(last.model_extra["citations"], live_server)


def test_an_unanswerable_question_is_refused_as_an_ordinary_reply(live_server: str) -> None:
    completion = ask(live_server, UNANSWERABLE)
    message = completion.choices[0].message
    assert message.role == "assistant" and message.refusal is None
    assert "Peru" in message.content and "Sources:" not in message.content
    assert completion.model_extra["refused"] is True and completion.model_extra["citations"] == []
    streamed = list(ask(live_server, UNANSWERABLE, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == message.content
    assert streamed[-1].model_extra["refused"] is True


def test_quotes_that_may_not_answer_carry_their_caveat(live_server: str, server_bot: Assistant) -> None:
    question = "Which county does the author live in?"  # the essay names no county
    expected = server_bot.ask(question)
    assert expected.uncertain and "“county”" in expected.caveat
    whole = ask(live_server, question)
    content = whole.choices[0].message.content
    assert content == answer_text(expected, base=f"{live_server}/")
    assert f"\n\n{expected.caveat}\n\nSources:\n" in content  # after the quotes, before the sources
    assert whole.model_extra["uncertain"] is True and whole.model_extra["refused"] is False
    assert whole.model_extra["caveat"] == expected.caveat
    streamed = list(ask(live_server, question, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == content
    assert streamed[-1].model_extra["uncertain"] is True
    assert ask(live_server, QUESTION).model_extra["uncertain"] is False


def test_earlier_turns_are_the_history(live_server: str, server_bot: Assistant) -> None:
    first = ask(live_server, QUESTION).choices[0].message.content  # with its Sources block
    follow_up = "Why did it matter?"
    completion = client(live_server).chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},  # ignored
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": first},
            {"role": "user", "content": [{"type": "text", "text": follow_up}]},
        ],
    )
    history = [Message("user", QUESTION), Message("assistant", server_bot.ask(QUESTION).answer)]
    expected = server_bot.ask(follow_up, history)
    assert not expected.refused and server_bot.ask(follow_up).refused  # the history decides it
    assert completion.choices[0].message.content == answer_text(expected, base=f"{live_server}/")


def test_requests_it_cannot_answer_get_openai_errors(live_server: str) -> None:
    api = client(live_server)
    with pytest.raises(openai.NotFoundError) as missing:
        api.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert missing.value.code == "model_not_found" and MODEL in missing.value.message
    with pytest.raises(openai.BadRequestError) as last:
        api.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Yes."}],
        )
    assert last.value.code == "invalid_question" and "last message" in last.value.message
    with pytest.raises(openai.BadRequestError) as empty:
        api.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "   "}], stream=True)
    assert empty.value.code == "invalid_question"
    with pytest.raises(openai.BadRequestError) as shape:
        api.chat.completions.create(model=MODEL, messages=[])
    assert shape.value.code == "invalid_request"
    assert set(shape.value.body) == {"message", "type", "param", "code"}  # OpenAI's error shape


def test_the_api_token_is_required_when_set(guarded: str) -> None:
    with pytest.raises(openai.AuthenticationError) as wrong:
        client(guarded, "wrong-token").models.list()
    assert wrong.value.status_code == 401 and wrong.value.code == "invalid_api_key"
    assert wrong.value.response.headers["www-authenticate"] == "Bearer"
    with pytest.raises(openai.AuthenticationError):
        client(guarded, "wrong-token").chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    completion = client(guarded, TOKEN).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}]
    )
    assert_grounded(completion.model_extra["citations"], guarded)


def test_the_same_rate_limit_as_the_api(server_bot: Assistant, serve: Serve) -> None:
    with serve(
        create_app(server_bot, limits_overrides={"rate_limit_per_minute": 1, "rate_limit_burst": 1})
    ) as base:
        client(base).models.list()
        with pytest.raises(openai.RateLimitError) as limited:
            client(base).models.list()
    assert int(limited.value.response.headers["retry-after"]) >= 1
    assert limited.value.body["type"] == "rate_limited"


def test_a_language_models_unverified_words_are_not_streamed(server_bot: Assistant, serve: Serve) -> None:
    """Text once streamed cannot be taken back, so only verified sentences are sent: a model's
    unsupported sentence, which the assistant's own token events show, never reaches the client."""
    invented = "The author also proposes a lunar embassy for deterrence talks."
    reply = f"Defensive deterrence deters attacks through a credible defensive posture [1]. {invented} [2]."
    bot = llm_assistant(server_bot.settings.index_dir, FakeListChatModel(responses=[reply]))
    drafted = "".join(e.text for e in bot.ask_stream(QUESTION) if e.kind == "token")
    assert "lunar embassy" in drafted  # the core's display stream shows the draft as written
    with serve(create_app(bot)) as base:
        whole = ask(base, QUESTION).choices[0].message.content
        streamed = "".join(c.choices[0].delta.content or "" for c in ask(base, QUESTION, stream=True))
    assert "lunar embassy" not in streamed and streamed == whole
