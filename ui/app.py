"""The browser chat (Gradio): streaming answers, a sources panel, Markdown export.

One page serves every collection of a :class:`~assistant.library.Library`. Above the
chat, a dropdown picks the collection (when there are several), a filter limits the
answers to some of its documents (when it has several), and a radio picks who writes
the answers (when a language model is configured). With an admin token configured, a
second tab manages the collection's documents (``ui/admin.py``).

The conversation lives in a ``gr.State`` as a list of turns ({question, answer,
notice}); the chat bubbles, the sources panel and the export are all redrawn from
it, so retry and clear are list operations and the history sent to the assistant
is the plain text of earlier answers, never their HTML.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import gradio as gr
from fastapi import FastAPI
from gradio.events import api as gradio_api

from assistant import Assistant, AssistantError, QuestionError
from assistant.config import DEFAULT_QUEUE_CONCURRENCY, DEFAULT_QUEUE_SIZE
from assistant.library import DocumentInfo, Library

from .admin import Admin, build_admin_tab
from .render import (
    EMPTY_SOURCES,
    Anchors,
    AnswerDict,
    answer_html,
    answer_markdown,
    corpus_title,
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
    "The index of these documents is still being built (about 20 seconds for a long essay on the "
    "first start). Select “Ask again” in a moment."
)
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


@dataclass(frozen=True)
class Direct:
    """A collection served straight from its assistant, for a UI built without the app's runtimes."""

    bot: Assistant
    ready: Callable[[], bool] = lambda: True


class Chat:
    """The conversation's event handlers for one collection, bound to its shared assistant."""

    def __init__(self, bot: Assistant, anchors: Anchors, ready: Callable[[], bool]) -> None:
        self.bot = bot
        self.anchors = anchors
        self.ready = ready

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
            cleaned = self.bot.validate_question(question)
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
        if not self.ready():
            yield self.view([*turns, _turn(question, notice=NOT_READY)])
            return
        yield self.view([*turns, _turn(question)])
        drafted = ""
        sentences: list[dict[str, Any]] = []
        citations: list[dict[str, Any]] = []
        try:
            events = self.bot.ask_stream(
                question, _history(turns), documents=documents or None, generator=generator
            )
            for event in events:
                if event.kind == "token":
                    drafted += event.text
                    yield self.view([*turns, _turn(question, draft=drafted)])
                elif event.kind == "sentence" and event.sentence is not None:
                    sentences.append(asdict(event.sentence))
                    citations += [asdict(c) for c in event.citations]
                    partial = _partial(question, sentences, citations, refused=event.refused)
                    yield self.view([*turns, _turn(question, answer=partial, streaming=True)])
                elif event.answer is not None:
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
    question: str, sentences: list[dict[str, Any]], citations: list[dict[str, Any]], *, refused: bool
) -> AnswerDict:
    """The answer so far, in the contract's shape, from the sentences that have arrived."""
    text = " ".join(s["text"] for s in sentences)
    return {
        "question": question,
        "answer": text,
        "refused": refused,
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
    """The page's handlers: they find the chosen collection's chat, documents and title."""

    def __init__(self, library: Library, serve: Callable[[str], Served]) -> None:
        self.library = library
        self.serve = serve

    def chat(self, name: str) -> Chat:
        served = self.serve(name)
        collection = None if name == self.library.default else name
        return Chat(served.bot, Anchors(collection=collection), served.ready)

    def documents(self, name: str) -> list[DocumentInfo]:
        """The collection's documents, or none while they cannot be read (the page still works)."""
        try:
            return self.library.documents(name)
        except AssistantError as exc:
            log.warning("The documents of collection %s cannot be listed: %s", name, exc)
            return []

    # -- the conversation, in the chosen collection --------------------------------------

    def ask(
        self, question: str, turns: list[Turn], name: str, documents: list[str], generator: str | None
    ) -> Iterator[tuple[Any, ...]]:
        """(question box, *view, examples)."""
        for shown in self.chat(name).ask(question, turns, documents, generator):
            yield (*shown, self.examples(name, shown[2]))

    def ask_example(
        self, turns: list[Turn], name: str, documents: list[str], generator: str | None, event: gr.EventData
    ) -> Iterator[tuple[Any, ...]]:
        """An example's button was clicked: its text is asked as if typed."""
        yield from self.ask(str(getattr(event, "question", "")), turns, name, documents, generator)

    def retry(
        self, turns: list[Turn], name: str, documents: list[str], generator: str | None
    ) -> Iterator[tuple[Any, ...]]:
        """(*view, examples)."""
        for shown in self.chat(name).retry(turns, documents, generator):
            yield (*shown, self.examples(name, shown[1]))

    def clear(self, name: str) -> tuple[Any, ...]:
        """A new conversation: (*view, examples)."""
        return (*Chat.clear(), self.examples(name, []))

    def examples(self, name: str, turns: list[Turn]) -> Any:
        """The example questions, shown while the conversation is empty (as the Chatbot showed its own)."""
        questions = [] if turns else self.library.assistant(name).example_questions()
        if not questions:
            return gr.update(visible=False)
        return gr.update(value=examples_html(questions), visible=True)

    # -- what depends on the collection --------------------------------------------------

    def switch(self, name: str) -> tuple[Any, ...]:
        """Another collection: a new conversation, and its title, examples and documents."""
        self.serve(name)  # starts preparing its index, if that has not begun
        infos = self.documents(name)
        chatbot = gr.update(value=[], **self.chatbot_props(name))
        header = _header(infos, name, self.library.default)
        examples = self.examples(name, [])
        return header, chatbot, *Chat.clear()[1:], examples, gr.update(**_filter(infos))

    def load(self, turns: list[Turn], request: gr.Request) -> tuple[Any, ...]:
        """A page opens: the collections as they are now; ``?collection=NAME`` picks one."""
        names = [info.name for info in self.library.collections()]
        wanted = request.query_params.get("collection") if request else None
        name = wanted if wanted in names else self.library.default
        infos = self.documents(name)
        picker = gr.Dropdown(choices=names, value=name, visible=len(names) > 1)
        chatbot = gr.update(**self.chatbot_props(name))  # the conversation itself is left alone
        header = _header(infos, name, self.library.default)
        return picker, header, chatbot, self.examples(name, turns), gr.update(**_filter(infos))

    def refresh_filter(self, name: str, chosen: list[str] | None) -> Any:
        """The document filter after documents were added or removed; still-present choices are kept."""
        return gr.update(**_filter(self.documents(name), chosen))

    def chatbot_props(self, name: str) -> dict[str, Any]:
        """The empty chat's invitation; it points to the collection's examples when there are some."""
        examples = self.library.assistant(name).example_questions()
        return {"placeholder": EXAMPLES_PLACEHOLDER if examples else PLACEHOLDER}


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

    demo = gr.Blocks(title=f"Ask about {corpus_title(infos)}", fill_width=False, delete_cache=(3600, 3600))
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
            for change in changes:
                change.then(
                    page.refresh_filter, [collection, ask_tab.documents], [ask_tab.documents], **PRIVATE
                )
        _wire_ask_tab(page, ask_tab, collection, header)
        demo.load(
            page.load,
            [ask_tab.turns],
            [collection, header, ask_tab.chatbot, ask_tab.examples, ask_tab.documents],
            **PRIVATE,
        )
        gr.HTML(FOOTER, elem_id="qa-footer", js_on_load=None)
        served = page.serve(default)
        _api_endpoint(served.bot, served.ready)

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

    @property
    def view(self) -> list[Any]:
        return [self.chatbot, self.turns, self.sources, self.markdown, self.download]


def _ask_tab(page: Page, infos: Sequence[DocumentInfo]) -> AskTab:
    """The chat with its options, and the sources panel beside it."""
    turns = gr.State([])
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
                    placeholder="Ask a question about the text",
                    lines=1,
                    max_lines=6,
                    scale=5,
                    elem_id="qa-question",
                    autofocus=True,
                )
                ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-ask")
            with gr.Row(elem_id="qa-actions"):
                retry = gr.Button("Ask again", size="sm", elem_id="qa-retry")
                clear = gr.Button("New conversation", size="sm", elem_id="qa-clear")
                # Beside the chat's own buttons, in view under the answer; not in the box below.
                download = gr.HTML(visible=False, elem_id="qa-download", js_on_load=None)
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
    shown = [*tab.view, tab.examples]
    asked = [tab.question, *shown]
    tab.ask.click(page.ask, [tab.question, tab.turns, *options], asked, api_name="chat_ask", **PRIVATE)
    tab.question.submit(
        page.ask, [tab.question, tab.turns, *options], asked, api_name="chat_submit", **PRIVATE
    )
    tab.examples.click(page.ask_example, [tab.turns, *options], asked, api_name="chat_example", **PRIVATE)
    tab.retry.click(page.retry, [tab.turns, *options], shown, api_name="chat_retry", **PRIVATE)
    tab.clear.click(page.clear, [collection], shown, api_name="chat_clear", **PRIVATE)
    tab.chatbot.clear(page.clear, [collection], shown, api_name="chat_trash", **PRIVATE)  # its bin icon
    tab.export.expand(None, js=EXPORT_INTO_VIEW, **PRIVATE)  # in the browser alone: no request
    # .input, not .change: the page load sets the collection too, and must not end a conversation.
    collection.input(page.switch, [collection], [header, *shown, tab.documents], **PRIVATE)


def _header(infos: Sequence[DocumentInfo], name: str, default: str) -> str:
    """The page heading, after the skip link; for a single document, a link to it in the reading view."""
    intro = "Answers quote the text sentence by sentence. Select a marker such as [1] to see the quotation"
    if len(infos) == 1:
        query = f"?collection={quote(name)}" if name != default else ""
        link = f'<a href="read{escape(query, quote=True)}" target="_blank" rel="noopener">'
        return (
            f"{SKIP_LINK}<header><h1>Ask about {escape(quoted(infos[0].title))}</h1>"
            f"<p>{intro} in its paragraph, or {link}read the whole text</a>.</p></header>"
        )
    title = f"{len(infos)} readings" if infos else "the readings"
    return (
        f"{SKIP_LINK}<header><h1>Ask about {title}</h1>"
        f"<p>{intro} under its document's title; its number opens the document at that sentence.</p></header>"
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
