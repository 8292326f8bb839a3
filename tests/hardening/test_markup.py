"""Markup in a question and in a corpus document, in a real headless Chromium: no script runs.

The document and the question carry ``<script>``, ``<img onerror>`` and a Markdown link to a
``javascript:`` URL. The chat, its sources panel, the reading view and the embed page show
them as text; any script that ran would set ``window.pwned`` or open a dialog.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from assistant import Assistant
from assistant.web import create_app

from ..browser_fixtures import CHROMIUM
from .helpers import CORPUS_DIR, DOC_ID

# The session's one browser (``browser``): Playwright's sync API allows one instance per thread,
# so a browser of this module's own fails once another browser module has started the shared one.
pytest_plugins = ["tests.server_fixtures", "tests.browser_fixtures"]

Serve = Callable[..., AbstractContextManager[str]]
WAIT_MS = 30_000
SCRIPT = "<script>window.pwned = 'script'</script>"
IMG = "<img src=x onerror=\"window.pwned = 'img'\">"
LINK = "[click me](javascript:window.pwned='link')"
HOSTILE_DOC = (
    "Penguin diplomacy means negotiating with penguins " + SCRIPT + " across the ice.\n\n"
    "Penguin diplomacy requires patience " + IMG + " and fish.\n\n"
    "Penguin diplomacy is explained in " + LINK + " by the penguin council.\n"
)
QUESTION = f"What is penguin diplomacy? {SCRIPT} {IMG} {LINK}"
PLAIN = "What does penguin diplomacy mean and require?"
# A reply once complete: the markup question is answered as a request (a plain .qa-reply).
REPLY = "#qa-chat :is(.qa-answer:not(.qa-streaming), .qa-refusal, .qa-reply, .qa-notice)"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing"),
]


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory, serve: Serve) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("markup")
    corpus = folder / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS_DIR / f"{DOC_ID}.txt", corpus)
    (corpus / "penguins.md").write_text(HOSTILE_DOC, encoding="utf-8")
    bot = Assistant(corpus_dir=corpus, index_dir=folder / "index")
    with serve(create_app(bot, limits_overrides={"rate_limit_per_minute": 0})) as base:
        yield base


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    yield page
    assert dialogs == [], "a script opened a dialog"
    context.close()


def assert_no_script_ran(page: Page) -> None:
    assert page.evaluate("window.pwned") is None
    hostile = page.evaluate(
        """() => document.querySelectorAll(
                "img[src='x'], a[href^='javascript' i], [onerror]").length
            + [...document.scripts].filter((s) => s.textContent.includes("pwned")).length"""
    )
    assert hostile == 0, "the markup became elements"


def test_chat_and_sources_show_markup_as_text(page: Page, hostile_server: str) -> None:
    page.goto(f"{hostile_server}/", wait_until="domcontentloaded")
    box = page.locator("#qa-question textarea")
    expect(box).to_be_visible(timeout=WAIT_MS)
    box.fill(QUESTION)
    page.locator("#qa-ask").click()
    expect(page.locator(REPLY)).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("#qa-chat .qa-question").first).to_have_text(QUESTION)
    box.fill(PLAIN)  # a question whose answer quotes the hostile document
    page.locator("#qa-ask").click()
    expect(page.locator(REPLY)).to_have_count(2, timeout=WAIT_MS)
    group = page.locator("#qa-sources details[data-turn='2']:not([aria-busy])")
    expect(group).to_have_count(1, timeout=WAIT_MS)
    sources = page.locator("#qa-sources").inner_text()
    assert "Penguin diplomacy" in sources, sources[:300]
    assert "<script>" in sources or "<img" in sources or "javascript:" in sources, sources[:500]
    page.wait_for_timeout(500)  # let any injected handler fire
    assert_no_script_ran(page)


def test_reading_view_shows_markup_as_text(page: Page, hostile_server: str) -> None:
    page.goto(f"{hostile_server}/read/penguins", wait_until="domcontentloaded")
    text = page.locator("article").inner_text()
    for raw in (SCRIPT, IMG, LINK):
        assert raw in text
    page.wait_for_timeout(300)
    assert_no_script_ran(page)


def test_embed_page_shows_markup_as_text(page: Page, hostile_server: str) -> None:
    page.goto(f"{hostile_server}/embed", wait_until="domcontentloaded")
    page.locator("#question").fill(QUESTION)
    page.locator("#ask-button").click()
    expect(page.locator(".message.user").first).to_have_text(QUESTION)
    done = page.locator(".message:is(.assistant, .refusal, .notice):not([aria-busy])")
    expect(done).to_have_count(1, timeout=WAIT_MS)
    page.locator("#question").fill(PLAIN)
    page.locator("#ask-button").click()
    expect(page.locator(".message.assistant .marker").first).to_be_visible(timeout=WAIT_MS)
    page.locator("#sources-toggle").click()
    drawer = page.locator("#drawer-body").inner_text()
    assert "Penguin diplomacy" in drawer
    assert "<script>" in drawer or "<img" in drawer or "javascript:" in drawer, drawer[:500]
    page.wait_for_timeout(500)
    assert_no_script_ran(page)


def test_api_returns_markup_verbatim_for_clients_to_escape(hostile_server: str) -> None:
    hostile = httpx.post(f"{hostile_server}/api/ask", json={"question": QUESTION}, timeout=60).json()
    assert hostile["question"] == " ".join(QUESTION.split())
    answer = httpx.post(f"{hostile_server}/api/ask", json={"question": PLAIN}, timeout=60).json()
    quotes = " ".join(c["quote"] for c in answer["citations"])
    assert any(raw in quotes for raw in (SCRIPT, IMG, LINK)), "quotes stay exact, markup included"
