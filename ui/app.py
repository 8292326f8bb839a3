"""The browser chat (Gradio): streaming answers, a sources panel, Markdown export.

One page serves every collection of a :class:`~assistant.library.Library`. Above the
chat, a dropdown picks the collection (when there are several), a filter limits the
answers to some of its documents (when it has several), and a radio picks who writes
the answers (when a language model is configured). With an admin token configured, a
second tab manages the collection's documents (``ui/admin.py``).

The conversation lives in a ``gr.State`` as a list of turns ({question, answer,
notice}); the chat bubbles, the sources panel and the export are all redrawn from
it, so retry and clear are list operations and the history sent to the assistant
is the plain text of earlier answers, never their HTML. A copy is kept in the
browser (``gr.BrowserState``, one list per collection), saved whenever an answer is
complete and restored when the page opens, so a reload does not lose the work; a
restored turn is checked against the answer contract before it is shown.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import gradio as gr
from fastapi import FastAPI
from gradio.events import api as gradio_api
from pydantic import TypeAdapter

from assistant import Answer, Assistant, AssistantError, QuestionError
from assistant.config import DEFAULT_QUEUE_CONCURRENCY, DEFAULT_QUEUE_SIZE
from assistant.library import DocumentInfo, Library

from .admin import Admin, build_admin_tab
from .render import (
    EMPTY_SOURCES,
    Anchors,
    AnswerDict,
    answer_html,
    answer_markdown,
    chat_status_html,
    download_html,
    draft_html,
    examples_html,
    notice_html,
    pending_html,
    question_html,
    quoted,
    sources_html,
)

log = logging.getLogger(__name__)

# {"question": str, "answer": AnswerDict | None, "notice": str | None}, and while the answer
# arrives "draft" (a language model's text so far) or "streaming" (its sentences so far).
Turn = dict[str, Any]
# chat, turns, sources, markdown, and the download link (a gr.update: hidden without an answer)
View = tuple[list[dict[str, str]], list[Turn], str, str, Any]

NOT_READY = (
    "The index of these documents is still being built (about 20 seconds for a long text on the "
    "first start). Select “Ask again” in a moment."
)
# The status line under the chat's buttons: what a button did, where the chat alone would not show it.
ASKED_AGAIN = "Asked the last question again."
CLEARED = "Started a new conversation. Select “Undo” to bring the last one back."
RESTORED = "The conversation is back."
# The browser keeps each collection's latest turns (answers with their passages: a few KB each).
SAVED_TURNS = 30
_ANSWER = TypeAdapter(Answer)
SHOWN_QUESTION_CHARS = 300
# The page's own events stay out of the API page; "/ask" is the endpoint for clients.
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
HEAD = '<link rel="stylesheet" href="ui-static/app.css">\n<script src="ui-static/app.js" defer></script>'
GENERATOR_LABELS = {"extractive": "Quotations only (extractive)"}
MODEL_LABEL = "Language model, verified"
# The examples come from the collection's profile, or from its documents' headings. They are our
# own buttons under the chat, not the Chatbot's examples: Gradio puts those buttons in a
# role="list" without list items, which screen readers cannot read as a list (axe-core's
# aria-required-children).
EXAMPLES_PLACEHOLDER = "**Ask a question**, or pick one of the examples below."
# A click on an example sends its text as the event's data (gr.EventData.question).
EXAMPLE_CLICKS = """element.addEventListener("click", (event) => {
    const example = event.target instanceof Element ? event.target.closest("button.qa-example") : null;
    if (example) trigger("click", {question: example.textContent});
});"""
PLACEHOLDER = "**Ask a question** about the documents of this collection."
# The first thing Tab reaches on the page (app.js moves focus into the box's textarea).
SKIP_LINK = '<a class="qa-skip" href="#qa-question">Skip to the question box</a>'
# Our footer, in place of Gradio's: its "Use via API" panel always offers an MCP tab and fetches
# gradio_api/mcp/schema (404: the MCP server is off), and on a phone it hides the link but not
# its "·". The HTTP API's own documentation is /api/docs.
FOOTER = (
    '<footer class="qa-footer"><a href="api/docs">HTTP API documentation</a>'
    " (answers, streaming, documents, collections)</footer>"
)
# The Markdown box opens under the chat, below the fold of a laptop's window: opening it
# scrolls it into view (after a frame, once Gradio has drawn its content).
EXPORT_INTO_VIEW = """() => {
    const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    requestAnimationFrame(() => document.getElementById("qa-export")?.scrollIntoView(
        {block: "nearest", behavior: smooth ? "smooth" : "auto"}));
}"""

SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]


def theme() -> gr.themes.Base:
    """Gradio's default theme with system fonts (it would fetch web fonts) and AA contrast.

    The primary and "stop" buttons are darker (white on Gradio's red 500 is 3.8:1), and so is
    the light theme's subdued text (a field's info line):
    Gradio's slate 400 has 2.6:1 on white.
    """
    return gr.themes.Default(
        primary_hue="blue", neutral_hue="slate", font=SYSTEM_FONTS, font_mono=MONO_FONTS
    ).set(
        body_text_color_subdued="*neutral_600",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white",
        button_primary_background_fill_dark="*primary_600",
        button_primary_background_fill_hover_dark="*primary_700",
        button_cancel_background_fill=gr.themes.colors.red.c700,
        button_cancel_background_fill_hover=gr.themes.colors.red.c800,
    )


class Served(Protocol):
    """A collection as the app serves it (``assistant.web.runtime.Runtime``): its assistant, and whether
    its index is ready (until then questions get a notice)."""

    @property
    def bot(self) -> Assistant: ...

    def ready(self) -> bool: ...

    def observe(self, answer: Answer, latency_ms: float) -> None:
        """Told of each finished answer (the app's question log, when one is configured)."""


@dataclass(frozen=True)
class Direct:
    """A collection served straight from its assistant, for a UI built without the app's runtimes."""

    bot: Assistant
    ready: Callable[[], bool] = lambda: True

    def observe(self, answer: Answer, latency_ms: float) -> None:
        """Nothing observes a UI built without the app."""


class Chat:
    """The conversation's event handlers for one collection, bound to its shared assistant."""

    def __init__(self, served: Served, anchors: Anchors) -> None:
        self.served = served
        self.anchors = anchors

    def ask(
        self,
        question: str,
        turns: list[Turn],
        documents: Sequence[str] | None = None,
        generator: str | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer a typed question; the box is emptied once the question is accepted.

        ``documents`` (doc_ids; all when empty) and ``generator`` are passed to ``Assistant.ask``.
        """
        if not (question or "").strip():
            yield (question, *self.view(turns))
            return
        try:
            cleaned = self.served.bot.validate_question(question)
        except QuestionError as exc:
            yield (question, *self.view([*turns, _turn(question, notice=str(exc))]))
            return
        for view in self.answer(cleaned, turns, documents, generator):
            yield ("", *view)

    def retry(
        self, turns: list[Turn], documents: Sequence[str] | None = None, generator: str | None = None
    ) -> Iterator[View]:
        """Ask the last question again, e.g. after the index finished building."""
        if not turns:
            yield self.view(turns)
            return
        yield from self.answer(turns[-1]["question"], turns[:-1], documents, generator)

    @staticmethod
    def clear() -> View:
        return [], [], EMPTY_SOURCES, "", _download(None)

    def answer(
        self,
        question: str,
        turns: list[Turn],
        documents: Sequence[str] | None = None,
        generator: str | None = None,
    ) -> Iterator[View]:
        """Show the answer as the assistant produces it (``Assistant.ask_stream``): a language
        model's text as it is written and checked, then each verified sentence with its sources."""
        if not self.served.ready():
            yield self.view([*turns, _turn(question, notice=NOT_READY)])
            return
        yield self.view([*turns, _turn(question)])
        drafted = ""
        sentences: list[dict[str, Any]] = []
        citations: list[dict[str, Any]] = []
        started = time.perf_counter()
        try:
            events = self.served.bot.ask_stream(
                question, _history(turns), documents=documents or None, generator=generator
            )
            for event in events:
                if event.kind == "token":
                    drafted += event.text
                    yield self.view([*turns, _turn(question, draft=drafted)])
                elif event.kind == "sentence" and event.sentence is not None:
                    sentences.append(asdict(event.sentence))
                    citations += [asdict(c) for c in event.citations]
                    partial = _partial(
                        question, sentences, citations, refused=event.refused, kind=event.answer_kind
                    )
                    yield self.view([*turns, _turn(question, answer=partial, streaming=True)])
                elif event.answer is not None:
                    self.served.observe(event.answer, (time.perf_counter() - started) * 1000)
                    yield self.view([*turns, _turn(question, answer=event.answer.to_dict())])
        except AssistantError as exc:
            log.warning("Question not answered: %s", exc)
            yield self.view([*turns, _turn(question, notice=str(exc))])

    def view(self, turns: list[Turn]) -> View:
        """Everything the page shows, drawn from the turns."""
        chat: list[dict[str, str]] = []
        shown: list[tuple[int, AnswerDict, bool]] = []
        for number, turn in enumerate(turns, start=1):
            chat.append({"role": "user", "content": question_html(_shorten(turn["question"]))})
            chat.append({"role": "assistant", "content": self._reply(turn, number)})
            if turn["answer"] is not None:
                shown.append((number, turn["answer"], bool(turn.get("streaming"))))
        answered = [
            (number, turn["answer"])
            for number, turn in enumerate(turns, start=1)
            if turn["answer"] is not None and not turn.get("streaming")
        ]
        latest = answered[-1] if answered else None
        markdown = answer_markdown(latest[1]) if latest else ""
        return chat, turns, sources_html(shown, self.anchors), markdown, _download(latest)

    @staticmethod
    def _reply(turn: Turn, number: int) -> str:
        if turn["notice"]:
            return notice_html(turn["notice"])
        if turn["answer"] is not None:
            return answer_html(turn["answer"], number, streaming=bool(turn.get("streaming")))
        if turn.get("draft"):
            return draft_html(turn["draft"])
        return pending_html()


def _download(latest: tuple[int, AnswerDict] | None) -> Any:
    """The link that saves the latest complete answer as Markdown; hidden until there is one."""
    if latest is None:
        return gr.update(value="", visible=False)
    number, answer = latest
    return gr.update(value=download_html(answer_markdown(answer), number, answer["question"]), visible=True)


def _turn(
    question: str,
    *,
    answer: AnswerDict | None = None,
    notice: str | None = None,
    draft: str = "",
    streaming: bool = False,
) -> Turn:
    """One turn of the conversation; ``draft`` and ``streaming`` only while its answer arrives."""
    turn: Turn = {"question": question, "answer": answer, "notice": notice}
    if draft:
        turn["draft"] = draft
    if streaming:
        turn["streaming"] = True
    return turn


def _partial(
    question: str,
    sentences: list[dict[str, Any]],
    citations: list[dict[str, Any]],
    *,
    refused: bool,
    kind: str,
) -> AnswerDict:
    """The answer so far, in the contract's shape, from the sentences that have arrived."""
    text = " ".join(s["text"] for s in sentences)
    return {
        "question": question,
        "answer": text,
        "refused": refused,
        "kind": kind,
        "sentences": sentences,
        "citations": citations,
        "notice": "",
    }


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


class Page:
    """The page's handlers: they find the chosen collection's chat, documents and title.

    Every handler that changes the conversation answers with the same outputs (``AskTab.shown``):
    the view, the examples, the "Ask again" and "New conversation" buttons (usable only once
    there is something to ask again or to clear), the "Undo" button and the status line.
    """

    def __init__(self, library: Library, serve: Callable[[str], Served]) -> None:
        self.library = library
        self.serve = serve

    def chat(self, name: str) -> Chat:
        served = self.serve(name)
        collection = None if name == self.library.default else name
        return Chat(served, Anchors(collection=collection))

    def documents(self, name: str) -> list[DocumentInfo]:
        """The collection's documents, or none while they cannot be read (the page still works)."""
        try:
            return self.library.documents(name)
        except AssistantError as exc:
            log.warning("The documents of collection %s cannot be listed: %s", name, exc)
            return []

    def shown(
        self, name: str, view: Sequence[Any], *, status: str = "", undo: bool = False, **chatbot: Any
    ) -> tuple[Any, ...]:
        """``view`` (chat, turns, sources, markdown, download link) with what depends on it;
        ``chatbot`` props (its placeholder) go with the chat's value."""
        chat, turns, *rest = view
        has_turns = bool(turns)
        return (
            gr.update(value=chat, **chatbot) if chatbot else chat,
            turns,
            *rest,
            self.examples(name, turns),
            gr.update(interactive=has_turns),  # "Ask again"
            gr.update(interactive=has_turns),  # "New conversation"
            gr.update(visible=undo),
            chat_status_html(status),
        )

    # -- the conversation, in the chosen collection --------------------------------------

    def ask(
        self, question: str, turns: list[Turn], name: str, documents: list[str], generator: str | None
    ) -> Iterator[tuple[Any, ...]]:
        """(question box, *shown)."""
        for box, *view in self.chat(name).ask(question, turns, documents, generator):
            yield (box, *self.shown(name, view))

    def ask_example(
        self, turns: list[Turn], name: str, documents: list[str], generator: str | None, event: gr.EventData
    ) -> Iterator[tuple[Any, ...]]:
        """An example's button was clicked: its text is asked as if typed."""
        yield from self.ask(str(getattr(event, "question", "")), turns, name, documents, generator)

    def retry(
        self, turns: list[Turn], name: str, documents: list[str], generator: str | None
    ) -> Iterator[tuple[Any, ...]]:
        """(*shown): the last reply goes back to pending and is answered again, and the status line
        says so (an unchanged answer would otherwise look as if nothing had happened)."""
        status = ASKED_AGAIN if turns else ""
        for view in self.chat(name).retry(turns, documents, generator):
            yield self.shown(name, view, status=status)

    def clear(self, turns: list[Turn], cleared: list[Turn] | None, name: str) -> tuple[Any, ...]:
        """A new conversation: (*shown, the conversation it replaced, for "Undo")."""
        if not turns:  # nothing to clear: an earlier conversation stays what "Undo" brings back
            return (*self.shown(name, Chat.clear(), undo=bool(cleared)), cleared)
        return (*self.shown(name, Chat.clear(), status=CLEARED, undo=True), turns)

    def undo(self, cleared: list[Turn] | None, name: str) -> tuple[Any, ...]:
        """The conversation "New conversation" replaced, back: (*shown, nothing left to undo)."""
        turns = cleared or []
        return (*self.shown(name, self.chat(name).view(turns), status=RESTORED if turns else ""), None)

    @staticmethod
    def save(turns: list[Turn], name: str, saved: Any) -> dict[str, Any]:
        """The browser's saved conversations with this collection's as it is now."""
        conversations = dict(saved) if isinstance(saved, dict) else {}
        kept = _storable(turns)
        if kept:
            conversations[name] = kept
        else:
            conversations.pop(name, None)
        return conversations

    def examples(self, name: str, turns: list[Turn]) -> Any:
        """The example questions, shown while the conversation is empty (as the Chatbot showed its own)."""
        questions = [] if turns else self.library.assistant(name).example_questions()
        if not questions:
            return gr.update(visible=False)
        return gr.update(value=examples_html(questions), visible=True)

    # -- what depends on the collection --------------------------------------------------

    def switch(self, name: str, saved: Any) -> tuple[Any, ...]:
        """Another collection: (*opened, nothing to undo)."""
        self.serve(name)  # starts preparing its index, if that has not begun
        return (*self.opened(name, saved), None)

    def load(self, saved: Any, request: gr.Request) -> tuple[Any, ...]:
        """A page opens: (collection picker, *opened). The collections are listed as they are now;
        ``?collection=NAME`` picks one."""
        names = [info.name for info in self.library.collections()]
        wanted = request.query_params.get("collection") if request else None
        name = wanted if wanted in names else self.library.default
        picker = gr.Dropdown(choices=names, value=name, visible=len(names) > 1)
        return (picker, *self.opened(name, saved))

    def opened(self, name: str, saved: Any) -> tuple[Any, ...]:
        """Collection ``name`` with the conversation the browser saved for it: (header, question box,
        *shown, document filter)."""
        infos = self.documents(name)
        view = self.chat(name).view(_restore(_saved(saved, name)))
        return (
            self.heading(infos, name),
            self.question_box(infos, name),
            *self.shown(name, view, **self.chatbot_props(name)),
            gr.update(**_filter(infos)),
        )

    def refresh(self, name: str, chosen: list[str] | None, turns: list[Turn]) -> tuple[Any, ...]:
        """What names or describes the documents, after documents were added or removed: (header,
        question box, chat placeholder, examples, document filter); chosen documents still there stay."""
        infos = self.documents(name)
        return (
            self.heading(infos, name),
            self.question_box(infos, name),
            gr.update(**self.chatbot_props(name)),
            self.examples(name, turns),
            gr.update(**_filter(infos, chosen)),
        )

    def heading(self, infos: Sequence[DocumentInfo], name: str) -> str:
        return _header(infos, name, self.library.default)

    def question_box(self, infos: Sequence[DocumentInfo], name: str) -> Any:
        """The question box's hint names the reading as answers do ("the essay", "the readings")."""
        reading = self.library.assistant(name).profile.reading(len(infos))
        return gr.update(placeholder=f"Ask a question about {reading}")

    def chatbot_props(self, name: str) -> dict[str, Any]:
        """The empty chat's invitation; it points to the collection's examples when there are some."""
        examples = self.library.assistant(name).example_questions()
        return {"placeholder": EXAMPLES_PLACEHOLDER if examples else PLACEHOLDER}


def _saved(saved: Any, name: str) -> Any:
    """Collection ``name``'s entry in the browser's saved conversations (whatever the browser sent)."""
    return saved.get(name) if isinstance(saved, dict) else None


def _storable(turns: list[Turn]) -> list[Turn]:
    """The turns worth keeping in the browser: finished ones, the latest ``SAVED_TURNS``."""
    finished = [
        {"question": t["question"], "answer": t["answer"], "notice": t["notice"]}
        for t in turns
        if not t.get("streaming") and (t["answer"] is not None or t["notice"])
    ]
    return finished[-SAVED_TURNS:]


def _restore(value: Any) -> list[Turn]:
    """The saved turns that are turns. The browser may hold anything (an older version's shape, a
    value edited by hand), and its text goes into the page: each answer is checked against the
    answer contract, field by field and type by type, and what does not fit is left out."""
    if not isinstance(value, list):
        return []
    turns = []
    for item in value[-SAVED_TURNS:]:
        try:
            turns.append(_restored_turn(item))
        except (TypeError, KeyError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            log.info("A saved turn was left out: %s", str(exc).splitlines()[0])
    return turns


def _restored_turn(item: Any) -> Turn:
    question, answer, notice = item["question"], item["answer"], item["notice"]
    if (
        not isinstance(question, str)
        or not isinstance(notice, str | None)
        or (answer is None) == (notice is None)
    ):
        raise TypeError("not a turn: a question with either an answer or a notice")
    checked = None if answer is None else _ANSWER.validate_python(answer).to_dict()
    return _turn(question, answer=checked, notice=notice)


def _filter(infos: Sequence[DocumentInfo], chosen: Sequence[str] | None = None) -> dict[str, Any]:
    """The document filter's choices: the indexed documents by title, shown only when there is a choice.

    ``chosen`` documents stay chosen if they are still there.
    """
    searchable = [info for info in infos if info.indexed]
    kept = [doc_id for doc_id in chosen or [] if any(info.doc_id == doc_id for info in searchable)]
    choices = [(info.title, info.doc_id) for info in searchable]
    return {"choices": choices, "value": kept, "visible": len(searchable) > 1}


def build_ui(
    library: Library | Assistant,
    *,
    collections: Callable[[str], Served] | None = None,
    ready: Callable[[], bool] = lambda: True,
    queue_size: int = DEFAULT_QUEUE_SIZE,
    concurrency: int = DEFAULT_QUEUE_CONCURRENCY,
) -> gr.Blocks:
    """The chat page over ``library`` (an assistant alone serves as a library of one collection).

    ``collections(name)`` gives each collection's assistant and readiness; the app passes
    ``Runtimes.get``, which also starts building a collection's index on first use. Without
    it, each collection is served straight from the library, the default one ready when
    ``ready`` says so.

    Gradio's queue is bounded: ``concurrency`` events of each handler run at once and at
    most ``queue_size`` wait; beyond that a join is refused with 503 "Queue is full".
    """
    if isinstance(library, Assistant):
        library = Library.around(library)
    page = Page(library, collections or _direct(library, ready))
    default = library.default
    infos = page.documents(default)
    admin = Admin(library) if library.settings.admin_token is not None else None

    demo = gr.Blocks(title=_heading(infos), fill_width=False, delete_cache=(3600, 3600))
    with demo:
        with gr.Row(equal_height=False, elem_id="qa-top"):
            header = gr.HTML(_header(infos, default, default), elem_id="qa-header", js_on_load=None)
            names = [info.name for info in library.collections()]
            collection = gr.Dropdown(
                label="Collection",
                choices=names,
                value=default,
                visible=len(names) > 1,
                scale=0,
                min_width=220,
                elem_id="qa-collection",
            )
        if admin is None:
            ask_tab = _ask_tab(page, infos)
        else:
            with gr.Tabs(elem_id="qa-tabs"):
                with gr.Tab("Ask", id="ask"):
                    ask_tab = _ask_tab(page, infos)
                with gr.Tab("Manage documents", id="manage", elem_id="qa-admin-tab"):
                    changes = build_admin_tab(admin, collection)
            # The chat page names and describes the documents: after a change, it says what is there now.
            described = [header, ask_tab.question, ask_tab.chatbot, ask_tab.examples, ask_tab.documents]
            for change in changes:
                change.then(
                    page.refresh, [collection, ask_tab.documents, ask_tab.turns], described, **PRIVATE
                )
        _wire_ask_tab(page, ask_tab, collection, header)
        demo.load(
            page.load,
            [ask_tab.saved],
            [collection, header, ask_tab.question, *ask_tab.shown, ask_tab.documents],
            **PRIVATE,
        )
        gr.HTML(FOOTER, elem_id="qa-footer", js_on_load=None)
        served = page.serve(default)
        _api_endpoint(served)

    demo.queue(max_size=queue_size, default_concurrency_limit=concurrency)
    return demo


def _direct(library: Library, ready: Callable[[], bool]) -> Callable[[str], Served]:
    def serve(name: str) -> Served:
        return Direct(library.assistant(name), ready if name == library.default else lambda: True)

    return serve


@dataclass
class AskTab:
    """The components of the "Ask" tab that its events read or redraw."""

    chatbot: gr.Chatbot
    question: gr.Textbox
    ask: gr.Button
    retry: gr.Button
    clear: gr.Button
    markdown: gr.Code
    download: gr.HTML  # the latest answer's Markdown as a file named after its question
    export: gr.Accordion  # holds the Markdown, to copy
    sources: gr.HTML
    examples: gr.HTML  # example questions under the empty chat
    documents: gr.Dropdown  # the document filter
    generator: gr.Radio
    turns: gr.State
    undo: gr.Button  # brings back the conversation "New conversation" replaced
    status: gr.HTML  # what the last button did
    cleared: gr.State  # the conversation "Undo" brings back
    saved: gr.BrowserState  # {collection: turns}, in the browser's storage

    @property
    def view(self) -> list[Any]:
        return [self.chatbot, self.turns, self.sources, self.markdown, self.download]

    @property
    def shown(self) -> list[Any]:
        """What ``Page.shown`` answers: the view and what depends on it."""
        return [*self.view, self.examples, self.retry, self.clear, self.undo, self.status]


def _browser_state(library: Library) -> gr.BrowserState:
    """Each collection's conversation in the browser's localStorage.

    Gradio encrypts the value with ``secret``; that is no secret, since the page's config carries
    it, and what is stored is the reader's own conversation in their own browser. A key fixed by
    the index folder keeps the conversations readable after a server restart (a random one would
    lose them) and apart from another deployment's on the same origin.
    """
    digest = hashlib.sha256(str(library.settings.index_dir.resolve()).encode()).hexdigest()
    return gr.BrowserState({}, storage_key=f"qa-conversations-{digest[:12]}", secret=digest[12:44])


def _ask_tab(page: Page, infos: Sequence[DocumentInfo]) -> AskTab:
    """The chat with its options, and the sources panel beside it."""
    turns = gr.State([])
    cleared = gr.State(None)
    saved = _browser_state(page.library)
    with gr.Row(equal_height=False, elem_id="qa-layout"):
        with gr.Column(scale=3, min_width=340):
            with gr.Row(elem_id="qa-options"):
                only = gr.Dropdown(
                    label="Answer from",
                    info="All documents when none is chosen",
                    multiselect=True,
                    elem_id="qa-filter",
                    **_filter(infos),
                )
                generator = _generator_choice(page.library)
            chatbot = gr.Chatbot(
                label="Conversation",
                elem_id="qa-chat",
                height="min(62vh, 640px)",
                min_height=320,
                latex_delimiters=[],
                buttons=[],
                feedback_options=None,
                group_consecutive_messages=False,
                **page.chatbot_props(page.library.default),
            )
            shown = page.examples(page.library.default, [])
            examples = gr.HTML(
                shown.get("value", ""),
                visible=shown["visible"],
                elem_id="qa-examples",
                js_on_load=EXAMPLE_CLICKS,
            )
            with gr.Row(elem_id="qa-ask-row"):
                question = gr.Textbox(
                    label="Your question",
                    placeholder=page.question_box(infos, page.library.default)["placeholder"],
                    lines=1,
                    max_lines=6,
                    scale=5,
                    elem_id="qa-question",
                    autofocus=True,
                )
                ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-ask")
            with gr.Row(elem_id="qa-actions"):
                # Nothing to ask again or clear in an empty chat: the page load enables them as due.
                retry = gr.Button("Ask again", size="sm", interactive=False, elem_id="qa-retry")
                clear = gr.Button("New conversation", size="sm", interactive=False, elem_id="qa-clear")
                undo = gr.Button("Undo", size="sm", visible=False, elem_id="qa-undo")
                # Beside the chat's own buttons, in view under the answer; not in the box below.
                download = gr.HTML(visible=False, elem_id="qa-download", js_on_load=None)
            status = gr.HTML("", elem_id="qa-chat-status", js_on_load=None)
            export = gr.Accordion("Copy the latest answer as Markdown", open=False, elem_id="qa-export")
            with export:
                markdown = gr.Code(
                    label="Latest answer as Markdown",
                    language="markdown",
                    interactive=False,
                    buttons=["copy"],
                    wrap_lines=True,
                    elem_id="qa-markdown",
                )
        with gr.Column(scale=2, min_width=300):
            sources = gr.HTML(EMPTY_SOURCES, elem_id="qa-sources", js_on_load=None)
    return AskTab(
        chatbot,
        question,
        ask,
        retry,
        clear,
        markdown,
        download,
        export,
        sources,
        examples,
        only,
        generator,
        turns,
        undo,
        status,
        cleared,
        saved,
    )


def _generator_choice(library: Library) -> gr.Radio:
    """Who writes the answers: the configured language model, or quotations only. Hidden without a model."""
    configured = library.settings.llm
    choices = [(GENERATOR_LABELS.get(name, MODEL_LABEL), name) for name in (configured, "extractive")]
    return gr.Radio(
        choices=list(dict.fromkeys(choices)),
        value=configured,
        label="Answers",
        visible=configured != "extractive",
        elem_id="qa-generator",
    )


def _wire_ask_tab(page: Page, tab: AskTab, collection: gr.Dropdown, header: gr.HTML) -> None:
    options = [collection, tab.documents, tab.generator]
    shown = tab.shown
    asked = [tab.question, *shown]
    events = [
        tab.ask.click(page.ask, [tab.question, tab.turns, *options], asked, api_name="chat_ask", **PRIVATE),
        tab.question.submit(
            page.ask, [tab.question, tab.turns, *options], asked, api_name="chat_submit", **PRIVATE
        ),
        tab.examples.click(
            page.ask_example, [tab.turns, *options], asked, api_name="chat_example", **PRIVATE
        ),
        tab.retry.click(page.retry, [tab.turns, *options], shown, api_name="chat_retry", **PRIVATE),
        tab.undo.click(
            page.undo, [tab.cleared, collection], [*shown, tab.cleared], api_name="chat_undo", **PRIVATE
        ),
    ]
    clear_inputs, cleared = [tab.turns, tab.cleared, collection], [*shown, tab.cleared]
    events.append(tab.clear.click(page.clear, clear_inputs, cleared, api_name="chat_clear", **PRIVATE))
    # The Chatbot's own bin icon clears the same way.
    events.append(tab.chatbot.clear(page.clear, clear_inputs, cleared, api_name="chat_trash", **PRIVATE))
    # Saved once a change is complete (an answer with all its sentences), not at every streamed word.
    for event in events:
        event.then(page.save, [tab.turns, collection, tab.saved], [tab.saved], **PRIVATE)
    tab.export.expand(None, js=EXPORT_INTO_VIEW, **PRIVATE)  # in the browser alone: no request
    # .input, not .change: the page load sets the collection too, and must not end a conversation.
    collection.input(
        page.switch,
        [collection, tab.saved],
        [header, tab.question, *shown, tab.documents, tab.cleared],
        **PRIVATE,
    )


def _heading(infos: Sequence[DocumentInfo]) -> str:
    """The page's heading, as text: also the browser tab's name (``app.js`` keeps them alike)."""
    if len(infos) == 1:
        return f"Ask about {quoted(infos[0].title)}"
    return f"Ask about {len(infos)} readings" if infos else "Ask about the readings"


def _header(infos: Sequence[DocumentInfo], name: str, default: str) -> str:
    """The page heading, after the skip link; for a single document, a link to it in the reading view."""
    intro = "Answers quote the text sentence by sentence. Select a marker such as [1] to see the quotation"
    heading = f"<h1>{escape(_heading(infos))}</h1>"
    if len(infos) == 1:
        query = f"?collection={quote(name)}" if name != default else ""
        link = f'<a href="read{escape(query, quote=True)}" target="_blank" rel="noopener">'
        return (
            f"{SKIP_LINK}<header>{heading}"
            f"<p>{intro} in its paragraph, or {link}read the whole text</a>.</p></header>"
        )
    return (
        f"{SKIP_LINK}<header>{heading}"
        f"<p>{intro} under its document's title; its number opens the document at that sentence.</p></header>"
    )


def _api_endpoint(served: Served) -> None:
    """``/ask`` for ``gradio_client``: the same answer contract as ``POST /api/ask``."""

    def ask(question: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """Answer a question about the documents: text with [n] markers and the exact quotations."""
        if not served.ready():
            raise gr.Error(NOT_READY)
        started = time.perf_counter()
        try:
            answer = served.bot.ask(question, history=history or [])
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None
        served.observe(answer, (time.perf_counter() - started) * 1000)
        return answer.to_dict()

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
    uploads over ``max_file_size`` bytes. The only upload field is the admin tab's: its
    files are deleted once read, and the page's ``delete_cache`` removes any left behind
    within the hour. Blocking Gradio's upload folder would be no safer: Gradio then
    refuses uploaded files as inputs too.
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
        footer_links=[],  # our own footer instead (FOOTER): no MCP tab for an MCP server that is off
        run_history=False,
        pwa=False,
        ssr_mode=False,
        mcp_server=False,
    )
    return app
