"""The browser chat (Gradio): streaming answers, a sources panel, Markdown export.

The conversation lives in a ``gr.State`` as a list of turns ({question, answer,
notice}); the chat bubbles, the sources panel and the export are all redrawn from
it, so retry and clear are list operations and the history sent to the assistant
is the plain text of earlier answers, never their HTML.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI
from gradio.events import api as gradio_api

from assistant import Assistant, AssistantError, QuestionError

from . import EXAMPLE_QUESTIONS
from .render import (
    EMPTY_SOURCES,
    Anchors,
    AnswerDict,
    answer_html,
    answer_markdown,
    corpus_title,
    notice_html,
    pending_html,
    question_html,
    sources_html,
)

log = logging.getLogger(__name__)

Turn = dict[str, Any]  # {"question": str, "answer": AnswerDict | None, "notice": str | None}
View = tuple[list[dict[str, str]], list[Turn], str, str]  # chat, turns, sources, markdown

NOT_READY = (
    "The essay's index is still being built (about 20 seconds on the first start). "
    "Select “Ask again” in a moment."
)
SHOWN_QUESTION_CHARS = 300
QUEUE_SIZE = 64
QUEUE_CONCURRENCY = 8
HEAD = '<link rel="stylesheet" href="ui-static/app.css">\n<script src="ui-static/app.js" defer></script>'

SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]


def theme() -> gr.themes.Base:
    """Gradio's default theme with system fonts (it would fetch web fonts) and AA-contrast buttons."""
    return gr.themes.Default(
        primary_hue="blue", neutral_hue="slate", font=SYSTEM_FONTS, font_mono=MONO_FONTS
    ).set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white",
        button_primary_background_fill_dark="*primary_600",
        button_primary_background_fill_hover_dark="*primary_700",
    )


class Chat:
    """The event handlers of one chat page, bound to the shared assistant."""

    def __init__(self, bot: Assistant, anchors: Anchors, ready: Callable[[], bool]) -> None:
        self.bot = bot
        self.anchors = anchors
        self.ready = ready

    def ask(self, question: str, turns: list[Turn]) -> Iterator[tuple[Any, ...]]:
        """Answer a typed question; the box is emptied once the question is accepted."""
        if not (question or "").strip():
            yield (question, *self.view(turns))
            return
        try:
            cleaned = self.bot.validate_question(question)
        except QuestionError as exc:
            yield (question, *self.view([*turns, _turn(question, notice=str(exc))]))
            return
        for view in self.answer(cleaned, turns):
            yield ("", *view)

    def ask_example(self, turns: list[Turn], event: gr.SelectData) -> Iterator[tuple[Any, ...]]:
        yield from self.ask(str(event.value["text"]), turns)

    def retry(self, turns: list[Turn]) -> Iterator[View]:
        """Ask the last question again, e.g. after the index finished building."""
        if not turns:
            yield self.view(turns)
            return
        yield from self.answer(turns[-1]["question"], turns[:-1])

    def clear(self) -> View:
        return self.view([])

    def answer(self, question: str, turns: list[Turn]) -> Iterator[View]:
        """Stream one answer sentence by sentence, its sources alongside."""
        if not self.ready():
            yield self.view([*turns, _turn(question, notice=NOT_READY)])
            return
        yield self.view([*turns, _turn(question)])
        try:
            answer = self.bot.ask(question, history=_history(turns)).to_dict()
        except AssistantError as exc:
            log.warning("Question not answered: %s", exc)
            yield self.view([*turns, _turn(question, notice=str(exc))])
            return
        done = [*turns, _turn(question, answer=answer)]
        for upto in range(1, len(answer["sentences"])):
            yield self.view(done, upto=upto)
        yield self.view(done)

    def view(self, turns: list[Turn], upto: int | None = None) -> View:
        """Everything the page shows, drawn from the turns; ``upto`` limits the last answer."""
        chat: list[dict[str, str]] = []
        shown: list[tuple[int, AnswerDict, int | None]] = []
        for number, turn in enumerate(turns, start=1):
            limit = upto if number == len(turns) else None
            chat.append({"role": "user", "content": question_html(_shorten(turn["question"]))})
            chat.append({"role": "assistant", "content": self._reply(turn, number, limit)})
            if turn["answer"] is not None:
                shown.append((number, turn["answer"], limit))
        answered = [turn["answer"] for turn in turns if turn["answer"] is not None]
        markdown = answer_markdown(answered[-1], self.anchors) if answered else ""
        return chat, turns, sources_html(shown, self.anchors), markdown

    @staticmethod
    def _reply(turn: Turn, number: int, upto: int | None) -> str:
        if turn["notice"]:
            return notice_html(turn["notice"])
        if turn["answer"] is None:
            return pending_html()
        return answer_html(turn["answer"], number, upto)


def _turn(question: str, *, answer: AnswerDict | None = None, notice: str | None = None) -> Turn:
    return {"question": question, "answer": answer, "notice": notice}


def _shorten(question: str) -> str:
    """A rejected question can be huge; the chat shows its start (retry still sends it whole)."""
    words = " ".join(question.split())
    return words if len(words) <= SHOWN_QUESTION_CHARS else words[:SHOWN_QUESTION_CHARS] + "…"


def _history(turns: list[Turn]) -> list[dict[str, str]]:
    """The plain-text conversation so far, as the assistant expects it (notices left out)."""
    history = []
    for turn in turns:
        if turn["answer"] is not None:
            history.append({"role": "user", "content": turn["question"]})
            history.append({"role": "assistant", "content": turn["answer"]["answer"]})
    return history


def build_ui(
    bot: Assistant,
    *,
    ready: Callable[[], bool] = lambda: True,
    queue_size: int = QUEUE_SIZE,
    concurrency: int = QUEUE_CONCURRENCY,
) -> gr.Blocks:
    """The chat page; ``ready`` says whether the index is built (until then questions get a notice).

    Gradio's queue is bounded: ``concurrency`` events of each handler run at once and at
    most ``queue_size`` wait; beyond that a join is refused with 503 "Queue is full".
    """
    documents = bot.documents()
    anchors = Anchors(documents)
    title = corpus_title(documents)
    chat = Chat(bot, anchors, ready)

    demo = gr.Blocks(title=f"Ask about {title}", fill_width=False)
    with demo:
        gr.HTML(_header(title), elem_id="qa-header", js_on_load=None)
        turns = gr.State([])
        with gr.Row(equal_height=False, elem_id="qa-layout"):
            with gr.Column(scale=3, min_width=340):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    elem_id="qa-chat",
                    height="min(62vh, 640px)",
                    min_height=320,
                    examples=[{"text": question} for question in EXAMPLE_QUESTIONS],
                    placeholder="**Ask a question about the essay**, or pick one of these:",
                    latex_delimiters=[],
                    buttons=[],
                    feedback_options=None,
                    group_consecutive_messages=False,
                )
                with gr.Row(elem_id="qa-ask-row"):
                    question = gr.Textbox(
                        label="Your question",
                        placeholder="Ask about the essay",
                        lines=1,
                        max_lines=6,
                        scale=5,
                        elem_id="qa-question",
                        autofocus=True,
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-ask")
                with gr.Row():
                    retry = gr.Button("Ask again", size="sm", elem_id="qa-retry")
                    clear = gr.Button("New conversation", size="sm", elem_id="qa-clear")
                with gr.Accordion("Copy or download the latest answer as Markdown", open=False):
                    markdown = gr.Code(
                        label="Latest answer as Markdown",
                        language="markdown",
                        interactive=False,
                        buttons=["copy", "download"],
                        wrap_lines=True,
                        elem_id="qa-markdown",
                    )
            with gr.Column(scale=2, min_width=300):
                sources = gr.HTML(EMPTY_SOURCES, elem_id="qa-sources", js_on_load=None)

        view = [chatbot, turns, sources, markdown]
        # The page's own events stay out of the API page; "/ask" is the endpoint for clients.
        private: dict[str, Any] = {"api_visibility": "private"}
        ask.click(chat.ask, [question, turns], [question, *view], api_name="chat_ask", **private)
        question.submit(chat.ask, [question, turns], [question, *view], api_name="chat_submit", **private)
        chatbot.example_select(
            chat.ask_example, [turns], [question, *view], api_name="chat_example", **private
        )
        retry.click(chat.retry, [turns], view, api_name="chat_retry", **private)
        clear.click(chat.clear, None, view, api_name="chat_clear", **private)
        chatbot.clear(chat.clear, None, view, api_name="chat_trash", **private)  # the chat's own bin icon
        _api_endpoint(bot, ready)

    demo.queue(max_size=queue_size, default_concurrency_limit=concurrency)
    return demo


def _header(title: str) -> str:
    """The page heading; its link goes through ``/read``, which opens the (first) document."""
    return (
        "<header>"
        f"<h1>Ask about “{escape(title)}”</h1>"
        "<p>Answers quote the essay sentence by sentence. Select a marker such as [1] to see the "
        'quotation in its paragraph, or <a href="read" target="_blank" rel="noopener">read the whole '
        "essay</a>.</p></header>"
    )


def _api_endpoint(bot: Assistant, ready: Callable[[], bool]) -> None:
    """``/ask`` for ``gradio_client``: the same answer contract as ``POST /api/ask``."""

    def ask(question: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """Answer a question about the essay: text with [n] markers and the exact quotations."""
        if not ready():
            raise gr.Error(NOT_READY)
        try:
            return bot.ask(question, history=history or []).to_dict()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None

    gradio_api(ask, api_name="ask")


def mount_ui(
    app: FastAPI,
    blocks: gr.Blocks,
    path: str = "/",
    *,
    blocked_paths: Sequence[Path] = (),
    max_file_size: int | None = None,
) -> FastAPI:
    """Mount the chat with the offline theme, its stylesheet and the marker script.

    The stylesheet is linked rather than passed as ``css``: Gradio rewrites custom CSS
    under its container's selector, which cannot reach the page padding on a phone.
    Gradio's file routes serve no extra folder (``allowed_paths`` stays empty), never
    anything under ``blocked_paths`` (the corpus, the index, the source), and refuse
    uploads over ``max_file_size`` bytes (the chat has no upload field at all).
    """
    gr.mount_gradio_app(
        app,
        blocks,
        path=path,
        allowed_paths=[],
        blocked_paths=[str(Path(folder).resolve()) for folder in blocked_paths],
        max_file_size=max_file_size,
        theme=theme(),
        head=HEAD,
        footer_links=["api"],
        run_history=False,
        pwa=False,
        ssr_mode=False,
        mcp_server=False,
    )
    return app
