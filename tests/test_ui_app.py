"""The chat page's parts without a browser: what it passes to the assistant, which controls it
has for which configuration, and the "Manage documents" handlers' checks and messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest
from gradio.utils import get_upload_folder
from pydantic import SecretStr

from assistant import Assistant
from assistant.config import Settings
from assistant.errors import CorpusError, NotFoundError
from assistant.formats import SUFFIXES
from assistant.library import Library
from assistant.models import Answer, AnswerSentence, Citation, StreamEvent
from ui.admin import FAILED, WRONG_TOKEN, Admin, _discard
from ui.app import Chat, Direct, Page, _restore, build_ui
from ui.render import Anchors

from .conftest import ESSAY

TOKEN = "s3cret-token"


# -- the chat passes the reader's choices on ----------------------------------------------


class RecordingBot:
    """Stands in for Assistant: records what ``ask_stream`` was given and answers with one quote."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def validate_question(self, question: str) -> str:
        return question.strip()

    def ask_stream(self, question: str, history: Any, **options: Any) -> Iterator[StreamEvent]:
        self.asked.append(options)
        quote = "Penguins waddle."
        cited = Citation(1, "p", "Penguins", 2, "s-1-1", "c", 1, quote, 0, 16, quote, 1.0)
        sentence = AnswerSentence(quote, [1], 1.0, ["Penguins"])
        answer = Answer(question, question, f"{quote} [1]", False, [cited], [sentence], {})
        yield StreamEvent("sentence", quote, sentence, citations=(cited,))
        yield StreamEvent("final", answer=answer)


@dataclass
class ObservedCollection:
    """A collection as the app serves it, keeping what it is told of each finished answer."""

    bot: Any
    observed: list[tuple[str, float]] = field(default_factory=list)

    def ready(self) -> bool:
        return True

    def observe(self, answer: Answer, latency_ms: float) -> None:
        self.observed.append((answer.question, latency_ms))


def test_the_chat_passes_the_chosen_documents_and_back_end_to_ask() -> None:
    bot = RecordingBot()
    served = ObservedCollection(bot)
    chat = Chat(served, Anchors())
    *_, (box, _, turns, sources, markdown, download) = chat.ask("How?", [], ["p", "q"], "extractive")
    *_, (_, retried, _, _, _) = chat.retry(turns, [], None)  # the last question again, in its place
    assert bot.asked == [
        {"documents": ["p", "q"], "generator": "extractive"},
        {"documents": None, "generator": None},  # none chosen: every document, the configured back end
    ]
    assert box == "" and "p. 2 · paragraph 1" in sources and "(Penguins, p. 2, paragraph 1)" in markdown
    assert len(retried) == 1
    # Each finished answer is told to the app once (its question log), the retried one too.
    assert [question for question, _ in served.observed] == ["How?", "How?"]
    assert all(latency >= 0 for _, latency in served.observed)
    assert download["visible"] and 'download="answer-1-how.md"' in download["value"]


def test_an_answer_shows_its_first_sentence_before_its_last(bot: Assistant) -> None:
    """The chat draws each sentence as the assistant's stream yields it, the sources with it."""
    views = list(Chat(Direct(bot), Anchors()).answer("What is defensive deterrence?", []))
    chat, turns, *_ = views[-1]
    sentences = turns[-1]["answer"]["sentences"]
    assert len(sentences) >= 2 and 'class="qa-answer"' in chat[-1]["content"]
    first, last = escape(sentences[0]["text"]), escape(sentences[-1]["text"])
    partial = [v for v in views if first in v[0][-1]["content"] and last not in v[0][-1]["content"]]
    assert partial, "a view with the first sentence only"
    assert "qa-streaming" in partial[0][0][-1]["content"] and 'aria-busy="true"' in partial[0][2]


# -- which controls the page has -----------------------------------------------------------


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Any]:
    """Builds a Library over a one-note corpus with the given settings (no index is built)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.md").write_text("Penguins waddle.\n", encoding="utf-8")

    def build(**settings: Any) -> Library:
        return Library(corpus_dir=corpus, index_dir=tmp_path / "index", **settings)

    yield build


def component(blocks: gr.Blocks, elem_id: str) -> Any:
    found = [block for block in blocks.blocks.values() if getattr(block, "elem_id", None) == elem_id]
    return found[0] if found else None


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_back_end_choice_appears_only_with_a_language_model(library: Any) -> None:
    plain = component(build_ui(library()), "qa-generator")
    assert plain.visible is False
    with_model = build_ui(library(llm="openai", llm_base_url="http://127.0.0.1:9/v1"))
    radio = component(with_model, "qa-generator")
    assert radio.visible is True and radio.value == "openai"
    assert radio.choices == [
        ("Language model, verified", "openai"),
        ("Quotations only (extractive)", "extractive"),
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_admin_tab_exists_only_with_a_token(library: Any) -> None:
    assert component(build_ui(library()), "qa-admin-tab") is None
    with_token = build_ui(library(admin_token=TOKEN))
    assert component(with_token, "qa-admin-tab") is not None
    assert component(with_token, "qa-admin").visible is False  # locked until the token is typed
    assert component(with_token, "qa-admin-files").file_types == list(SUFFIXES)  # the formats we read


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_one_document_and_one_collection_need_no_choice(library: Any) -> None:
    blocks = build_ui(library())
    assert component(blocks, "qa-filter").visible is False
    assert component(blocks, "qa-collection").visible is False


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_before_its_index_is_built_the_page_is_named_by_the_documents_own_title(tmp_path: Path) -> None:
    """A fresh index: the browser tab says the document's title, not its file name."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "week-3-notes.md").write_text(
        "# Deterrence by Denial\n\nDenial is defensive.\n", encoding="utf-8"
    )
    blocks = build_ui(Library(corpus_dir=corpus, index_dir=tmp_path / "index"))
    assert blocks.title == "Ask about “Deterrence by Denial”"
    assert "Ask about “Deterrence by Denial”" in component(blocks, "qa-header").value


# -- the "Manage documents" handlers ----------------------------------------------------------


class FakeLibrary:
    """Stands in for Library: records calls; ``fail`` makes add/remove/reindex raise it."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.settings = Settings(admin_token=SecretStr(TOKEN))
        self.calls: list[tuple[str, ...]] = []
        self.fail = fail

    def documents(self, name: str) -> list[Any]:
        self.calls.append(("documents", name))
        return []

    def add(self, name: str, filename: str, data: bytes, progress: Any = None) -> Any:
        return self._act("add", name, filename)

    def remove(self, name: str, doc_id: str) -> Any:
        return self._act("remove", name, doc_id)

    def reindex(self, name: str, doc_ids: list[str], progress: Any = None) -> Any:
        return self._act("reindex", name, *doc_ids)

    def _act(self, *call: str) -> Any:
        self.calls.append(call)
        if self.fail:
            raise self.fail
        return SimpleNamespace(added=[], updated=["x"], skipped={}, seconds=1.5)


def no_progress(*args: Any, **kwargs: Any) -> None:
    return None


def admin_of(library: FakeLibrary) -> Admin:
    return Admin(library)  # type: ignore[arg-type]


def test_a_wrong_token_reads_and_changes_nothing(tmp_path: Path) -> None:
    library = FakeLibrary()
    admin = admin_of(library)
    upload = tmp_path / "notes.md"
    upload.write_text("x", encoding="utf-8")
    for token in ("wrong", "", None, TOKEN + " "):
        assert WRONG_TOKEN in admin.unlock(token, "default")[0]
        assert admin.show(token, "default") == (gr.update(), gr.update())  # no table is sent
        assert WRONG_TOKEN in admin.add(token, "default", [str(upload)], no_progress)[0]  # type: ignore[arg-type]
        assert WRONG_TOKEN in admin.remove(token, "default", "notes")[0]
        assert WRONG_TOKEN in admin.reindex_all(token, "default", no_progress)[0]  # type: ignore[arg-type]
    assert library.calls == []


def test_the_right_token_opens_the_panel_and_acts() -> None:
    library = FakeLibrary()
    admin = admin_of(library)
    status, lock, panel, table, _ = admin.unlock(TOKEN, "default")
    assert status == "" and lock == gr.update(visible=False) and panel == gr.update(visible=True)
    assert "no documents yet" in table
    assert "Re-indexed 1 document in 1.5 s." in admin.reindex(TOKEN, "birds", "owls", no_progress)[0]  # type: ignore[arg-type]
    assert ("reindex", "birds", "owls") in library.calls


def test_a_library_error_shows_its_message_and_no_traceback() -> None:
    admin = admin_of(FakeLibrary(fail=NotFoundError("Collection 'birds' has no document 'owls'.")))
    status = admin.remove(TOKEN, "birds", "owls")[0]
    assert "has no document" in status and "qa-status-error" in status and "Traceback" not in status


def test_an_unexpected_failure_shows_a_plain_message(caplog: pytest.LogCaptureFixture) -> None:
    admin = admin_of(FakeLibrary(fail=RuntimeError("disk on fire at /srv/secret/path")))
    status = admin.reindex_all(TOKEN, "default", no_progress)[0]  # type: ignore[arg-type]
    assert FAILED in status and "/srv/secret" not in status
    assert "disk on fire" in caplog.text  # the details are in the log


def test_each_upload_is_added_on_its_own_and_then_deleted() -> None:
    uploads = Path(get_upload_folder())
    folder = uploads / "test-ui-app-upload"
    folder.mkdir(parents=True, exist_ok=True)
    good, bad = folder / "good.md", folder / "bad.pdf"
    good.write_text("x", encoding="utf-8")
    bad.write_bytes(b"not a pdf")

    class PickyLibrary(FakeLibrary):
        def add(self, name: str, filename: str, data: bytes, progress: Any = None) -> Any:
            if filename == "bad.pdf":
                raise CorpusError("bad.pdf has no text layer.")
            return super().add(name, filename, data, progress)

    library = PickyLibrary()
    status, cleared, *_ = admin_of(library).add(TOKEN, "default", [str(good), str(bad)], no_progress)  # type: ignore[arg-type]
    assert "good.md: replaced the earlier version and indexed." in status
    assert "bad.pdf: not added. bad.pdf has no text layer." in status
    assert cleared is None
    assert not good.exists() and not bad.exists() and not folder.exists()


def test_only_files_in_gradio_s_upload_folder_are_deleted(tmp_path: Path) -> None:
    elsewhere = tmp_path / "keep.md"
    elsewhere.write_text("x", encoding="utf-8")
    _discard(elsewhere)
    assert elsewhere.exists()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_bare_assistant_still_builds_the_page(library: Any) -> None:
    """``build_ui(bot)``: an Assistant alone serves as a library of its one collection."""
    blocks = build_ui(library().assistant(), queue_size=2, concurrency=1)
    assert blocks._queue.max_size == 2
    assert component(blocks, "qa-collection").value == "default"


# -- the conversation the browser keeps ------------------------------------------------------


@pytest.fixture
def essay_page(essay_index: Path) -> Page:
    """The chat page's handlers over the essay's shared index (nothing here changes it)."""
    library = Library(corpus_dir=ESSAY.parent, index_dir=essay_index)
    return Page(library, lambda name: Direct(library.assistant(name)))


def asked(page: Page, question: str, turns: list[Any]) -> tuple[Any, ...]:
    """The last of ``Page.ask``'s outputs: (question box, chat, turns, sources, markdown, examples,
    retry, clear, undo, status)."""
    return list(page.ask(question, turns, "default", [], None))[-1]


def test_a_saved_conversation_comes_back_as_it_was(essay_page: Page) -> None:
    turns = asked(essay_page, "What is defensive deterrence?", [])[2]
    turns = asked(essay_page, "hi", turns)[2]
    saved = Page.save(turns, "default", {"birds": [{"question": "Owls?", "answer": None, "notice": "x"}]})
    assert saved["birds"] == [{"question": "Owls?", "answer": None, "notice": "x"}], "other collections kept"
    restored = _restore(json.loads(json.dumps(saved["default"])))  # as the browser gives it back
    assert restored == turns
    assert essay_page.chat("default").view(restored) == essay_page.chat("default").view(turns)
    assert Page.save([], "default", saved) == {"birds": saved["birds"]}, "an empty conversation is not kept"


def test_a_turn_still_arriving_is_not_saved(essay_page: Page) -> None:
    turns = asked(essay_page, "What is defensive deterrence?", [])[2]
    arriving = {**turns[0], "answer": None, "draft": "Defensive"}
    assert Page.save([*turns, arriving], "default", {})["default"] == turns


def test_what_the_browser_sends_back_is_checked_before_it_is_shown(essay_page: Page) -> None:
    """Storage can hold anything: an older shape, a value edited by hand. What does not fit the
    answer contract is left out, so no markup reaches the page from it."""
    good = asked(essay_page, "What is defensive deterrence?", [])[2][0]
    citation = good["answer"]["citations"][0]
    bad_marker = {**good["answer"], "citations": [{**citation, "marker": '1"><img src=x onerror=alert(1)>'}]}
    bad_paragraph = {**good["answer"], "citations": [{**citation, "paragraph": "9 onclick=alert(1)"}]}
    bad_kind = {**good["answer"], "kind": "<script>"}
    missing = {k: v for k, v in good["answer"].items() if k != "citations"}
    value = [
        {**good, "answer": bad_marker},
        {**good, "answer": bad_paragraph},
        {**good, "answer": bad_kind},
        {**good, "answer": missing},
        {"question": 3, "answer": None, "notice": "x"},
        {"question": "Pending?", "answer": None, "notice": None},
        "not a turn",
        good,
    ]
    assert _restore(value) == [good]
    for junk in (None, "text", {"question": "q"}, 7):
        assert _restore(junk) == []
    shown = essay_page.switch("default", {"default": value})
    chat, sources = shown[2], shown[4]
    assert "<img" not in str(chat) + sources and "onclick" not in sources


def test_new_conversation_can_be_undone_and_the_buttons_follow_the_conversation(essay_page: Page) -> None:
    shown = asked(essay_page, "What is defensive deterrence?", [])
    _, _, turns, _, _, download, examples, retry, clear, undo, status = shown
    assert retry["interactive"] and clear["interactive"] and not undo["visible"] and status == ""
    assert examples == gr.update(visible=False) and download["visible"], "the download link beside them"
    cleared_view = essay_page.clear(turns, None, "default")
    chat, kept, _, _, download, examples, retry, clear, undo, status, cleared = cleared_view
    assert chat == [] and kept == [] and cleared == turns and not download["visible"]
    assert not retry["interactive"] and not clear["interactive"] and undo["visible"]
    assert "Started a new conversation" in status and 'role="status"' in status
    assert examples["visible"], "the examples are back on the empty chat"
    chat, back, _, _, download, *_, undo, status, cleared = essay_page.undo(cleared, "default")
    assert back == turns and cleared is None and not undo["visible"] and "is back" in status
    assert download["visible"] and "answer-1-what-is-defensive-deterrence.md" in download["value"]


def test_ask_again_says_so(essay_page: Page) -> None:
    turns = asked(essay_page, "What is defensive deterrence?", [])[2]
    views = list(essay_page.retry(turns, "default", [], None))
    assert "qa-pending" in views[0][0][-1]["content"], "the reply goes back to pending"
    assert all("Asked the last question again." in view[-1] for view in views)
