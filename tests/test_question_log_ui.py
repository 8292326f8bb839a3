"""Questions asked on the Gradio chat page and through its ``/ask`` endpoint reach the question log
too, not only those of the HTTP API: a real app with a SQLite log, a browser and ``gradio_client``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from gradio_client import Client

from assistant import Assistant
from assistant.insights.log import QuestionLog
from assistant.web import create_app
from tests.browser_fixtures import Tabs
from tests.test_ui_browser import ask_in_chat, open_chat

pytest_plugins = ["tests.server_fixtures", "tests.browser_fixtures"]

ON_TOPIC = "What is defensive deterrence?"
OFF_TOPIC = "What is the boiling point of mercury?"


@pytest.fixture(scope="module")
def logged(
    server_bot: Assistant,
    serve: Callable[..., AbstractContextManager[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, QuestionLog]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('ui-log') / 'questions.db'}"
    app = create_app(Assistant(server_bot.settings.model_copy(update={"question_log": url})))
    with serve(app) as base:
        yield base, app.state.question_log


@pytest.mark.browser
def test_questions_asked_on_the_chat_page_are_logged(tabs: Tabs, logged: tuple[str, QuestionLog]) -> None:
    base, log = logged
    before = log.count()
    page = open_chat(tabs, base)
    ask_in_chat(page, ON_TOPIC)
    ask_in_chat(page, OFF_TOPIC)
    log.flush()
    rows = list(log.rows())[before:]
    assert [row["question"] for row in rows] == [ON_TOPIC, OFF_TOPIC]
    answered, refused = rows
    assert answered["cited"] and not answered["refused"] and answered["latency_ms"] > 0
    assert refused["refused"] and refused["reason"] and refused["asker"].startswith("anon-")


def test_questions_asked_through_gradio_client_are_logged(logged: tuple[str, QuestionLog]) -> None:
    base, log = logged
    before = log.count()
    answer = Client(f"{base}/", verbose=False).predict(question=ON_TOPIC, history=[], api_name="/ask")
    log.flush()
    rows = list(log.rows())[before:]
    assert [row["question"] for row in rows] == [ON_TOPIC]
    assert rows[0]["cited"] and not answer["refused"]
