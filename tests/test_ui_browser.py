"""The chat, the reading view and the embed page in a real headless Chromium against a real server.

Every test also checks that the pages fetched nothing from outside 127.0.0.1, and
the tests save screenshots (desktop 1280 px and phone 390 px wide) under
artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

if TYPE_CHECKING:
    from tests.server_fixtures import Portals

pytest_plugins = ["tests.server_fixtures"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DOC_ID = "values-in-foreign-policy"
QUESTION = "What does the author mean by human security?"
FOLLOW_UP = "And how would that change the armed forces?"
WAIT_MS = 30_000

# A reply bubble once it is complete (streaming answers carry .qa-streaming until the last sentence).
REPLY = "#qa-chat :is(.qa-answer:not(.qa-streaming), .qa-refusal, .qa-notice)"
LOCAL = re.compile(r"^(http://127\.0\.0\.1:\d+/|data:|blob:|about:|chrome-error:)")

# Gradio's queue trips pandas deprecation warnings on every event; they are not ours to fix.
GRADIO_NOISE = "ignore::DeprecationWarning:gradio.queueing"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(GRADIO_NOISE),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium"),
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class Tabs:
    """Opens pages in fresh browser contexts and records every URL they request."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.requests: list[str] = []
        self.console: list[str] = []

    def open(self, url: str, viewport: dict[str, int] = DESKTOP) -> Page:
        context = self.browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        context.on("request", lambda request: self.requests.append(request.url))
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: self.console.append(message.text))
        page.goto(url, wait_until="domcontentloaded")
        return page

    def external(self) -> list[str]:
        return [url for url in self.requests if not LOCAL.match(url)]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def tabs(browser: Browser) -> Iterator[Tabs]:
    opened = Tabs(browser)
    yield opened
    opened.close()
    assert opened.external() == [], "the pages must work offline: nothing may be fetched from outside"


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# -- the chat ----------------------------------------------------------------------------


def open_chat(tabs: Tabs, live_server: str, viewport: dict[str, int] = DESKTOP) -> Page:
    page = tabs.open(f"{live_server}/", viewport)
    expect(page.locator("#qa-question textarea")).to_be_visible(timeout=WAIT_MS)
    return page


def ask_in_chat(page: Page, question: str) -> Locator:
    """Type and send a question; returns the reply bubble once the reply and its sources are complete."""
    before = page.locator(REPLY).count()
    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-ask").click()
    return completed_reply(page, before + 1)


def completed_reply(page: Page, turn: int) -> Locator:
    expect(page.locator(REPLY)).to_have_count(turn, timeout=WAIT_MS)
    reply = page.locator(REPLY).nth(turn - 1)
    if "qa-notice" not in (reply.get_attribute("class") or ""):
        group = page.locator(f"#qa-sources details[data-turn='{turn}']:not([aria-busy])")
        expect(group).to_have_count(1, timeout=WAIT_MS)
    return reply


def test_answer_with_markers_and_highlighted_source(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    expect(page.get_by_text("What is defensive deterrence?")).to_be_visible()
    screenshot(page, "chat-empty-desktop")

    reply = ask_in_chat(page, QUESTION)
    markers = reply.locator("a.qa-marker")
    expect(markers.first).to_have_text(re.compile(r"^\[1\]"))
    assert markers.count() >= 2
    screenshot(page, "chat-answer-desktop")

    markers.nth(1).click()
    quote = page.locator("#src-1-2")
    expect(quote).to_have_class(re.compile(r"\bis-active\b"))
    expect(quote).to_be_focused()
    expect(quote).to_be_in_viewport()
    expect(quote).to_contain_text("[2]")
    assert quote.evaluate("el => el.closest('.qa-passage') !== null")
    screenshot(page, "sources-desktop")


def test_marker_works_from_the_keyboard(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    reply = ask_in_chat(page, "What is defensive deterrence?")
    marker = reply.locator("a.qa-marker").first
    marker.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#src-1-1")).to_be_focused()
    expect(page.locator("#src-1-1")).to_have_class(re.compile(r"\bis-active\b"))
    page.keyboard.press("Escape")
    expect(marker).to_be_focused()


def test_follow_up_question_and_earlier_sources(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    first = ask_in_chat(page, QUESTION)
    second = ask_in_chat(page, FOLLOW_UP)
    expect(second.locator("a.qa-marker").first).to_be_visible()
    expect(page.locator("#qa-sources details[data-turn='2']")).to_have_attribute("open", "")
    expect(page.locator("#qa-sources details[data-turn='1']")).not_to_have_attribute("open", "")

    first.locator("a.qa-marker").first.click()
    expect(page.locator("#qa-sources details[data-turn='1']")).to_have_attribute("open", "")
    expect(page.locator("#src-1-1")).to_be_focused()

    page.get_by_text("Copy or download the latest answer as Markdown").click()
    export = page.locator("#qa-markdown")
    expect(export).to_contain_text(f"**Question:** {FOLLOW_UP}")
    expect(export).to_contain_text("**Quotations**")
    expect(export).to_contain_text("paragraph 11")


def test_refusal_looks_different_from_an_answer(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    reply = ask_in_chat(page, "What does the author say about Brexit?")
    expect(reply).to_have_class(re.compile(r"\bqa-refusal\b"))
    expect(reply).to_contain_text("Not answered from the essay")
    expect(reply.locator("a.qa-marker")).to_have_count(0)
    expect(page.locator("#qa-sources")).to_contain_text("No quotation")
    assert reply.evaluate("el => getComputedStyle(el).borderLeftWidth") == "4px"
    screenshot(page, "chat-refusal-desktop")


def test_question_text_cannot_inject_markup(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    hostile = '<img src=x onerror="window.injected=1">What is human security?'
    ask_in_chat(page, hostile)
    expect(page.locator("#qa-chat .qa-question").last).to_have_text(hostile)
    assert page.evaluate("window.injected") is None
    assert page.locator("#qa-chat img[src='x'], #qa-sources img").count() == 0


def test_example_retry_and_new_conversation(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    page.get_by_text("What is defensive deterrence?").click()
    completed_reply(page, 1)
    page.locator("#qa-retry").click()
    completed_reply(page, 1)
    expect(page.locator("#qa-chat .qa-question")).to_have_count(1)
    page.locator("#qa-clear").click()
    expect(page.locator("#qa-chat .qa-question")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#qa-sources")).to_contain_text("appear here")


def test_chat_on_a_phone(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server, PHONE)
    screenshot(page, "chat-empty-phone")
    reply = ask_in_chat(page, QUESTION)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "chat-answer-phone")
    reply.locator("a.qa-marker").first.click()
    expect(page.locator("#src-1-1")).to_be_in_viewport()
    page.screenshot(path=str(SCREENSHOTS / "sources-phone.png"))


def test_dark_theme_chat(tabs: Tabs, live_server: str) -> None:
    page = tabs.open(f"{live_server}/?__theme=dark")
    expect(page.locator("#qa-question textarea")).to_be_visible(timeout=WAIT_MS)
    ask_in_chat(page, QUESTION).locator("a.qa-marker").first.click()
    screenshot(page, "chat-dark-desktop")


# -- the reading view --------------------------------------------------------------------


def test_reading_view_highlights_the_linked_sentence(tabs: Tabs, live_server: str) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = tabs.open(f"{live_server}/read/{DOC_ID}#s-9-2", viewport)
        target = page.locator("#s-9-2")
        expect(target).to_be_in_viewport()
        assert page.evaluate("document.querySelector(':target').id") == "s-9-2"
        background = target.evaluate("el => getComputedStyle(el).backgroundColor")
        assert background not in ("rgba(0, 0, 0, 0)", "transparent")
        page.screenshot(path=str(SCREENSHOTS / f"reading-{name}.png"))


def test_source_link_opens_the_reading_view_at_the_quote(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    ask_in_chat(page, QUESTION)
    link = page.locator("#src-1-1 a.qa-quote-link")
    with page.context.expect_page() as opened:
        link.click()
    reading = opened.value
    reading.wait_for_load_state("domcontentloaded")
    anchor = reading.url.split("#", 1)[1]
    assert re.fullmatch(r"s-\d+-\d+", anchor)
    expect(reading.locator(f"#{anchor}")).to_be_in_viewport()


# -- the embed page ----------------------------------------------------------------------


def test_embed_in_a_portal_of_an_allowed_origin(tabs: Tabs, portals: Portals) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = tabs.open(f"{portals.allowed}/", viewport)
        frame = page.frame_locator("#assistant")
        expect(frame.locator(".example").first).to_be_visible(timeout=WAIT_MS)
        frame.locator("#question").fill(QUESTION)
        frame.locator("#ask-button").click()
        marker = frame.locator(".message.assistant .marker").nth(1)
        expect(marker).to_be_visible(timeout=WAIT_MS)
        screenshot(page, f"embed-{name}")
        marker.click()
        source = frame.locator("#e-1-2")
        expect(frame.locator("#drawer")).to_be_visible()
        expect(source).to_be_focused()
        expect(source).to_have_class("active")
        expect(source).to_contain_text("And several NATO members")
        screenshot(page, f"embed-sources-{name}")
        page.keyboard.press("Escape")
        expect(frame.locator("#drawer")).to_be_hidden()
        expect(marker).to_be_focused()


def test_embed_refusal_and_follow_up(tabs: Tabs, live_server: str) -> None:
    page = tabs.open(f"{live_server}/embed")
    page.locator("#question").fill(QUESTION)
    page.locator("#ask-button").click()
    expect(page.locator(".message.assistant .marker").first).to_be_visible(timeout=WAIT_MS)
    page.locator("#question").fill(FOLLOW_UP)
    page.locator("#question").press("Enter")
    expect(page.locator(".message.assistant")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator(".message.assistant").last.locator(".marker").first).to_be_visible()
    page.locator("#question").fill("Tell me a joke")
    page.locator("#ask-button").click()
    expect(page.locator(".message.refusal")).to_contain_text("Not answered from the essay", timeout=WAIT_MS)


def test_embed_options_from_the_query(tabs: Tabs, live_server: str) -> None:
    page = tabs.open(f"{live_server}/embed?theme=dark&examples=0", PHONE)
    expect(page.locator("#question")).to_be_visible()
    expect(page.locator(".example")).to_have_count(0)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"
    page.locator("#question").fill("What is defensive deterrence?")
    page.locator("#ask-button").click()
    expect(page.locator(".message.assistant .marker").first).to_be_visible(timeout=WAIT_MS)
    screenshot(page, "embed-dark-phone")


def test_embed_is_not_framed_by_other_origins(tabs: Tabs, portals: Portals, live_server: str) -> None:
    page = tabs.open(f"{portals.disallowed}/")
    page.wait_for_load_state("load")
    frame = page.frame_locator("#assistant")
    expect(frame.locator("#question")).to_have_count(0)
    assert any("frame-ancestors" in message for message in tabs.console)


def test_api_is_callable_only_from_allowed_origins(tabs: Tabs, portals: Portals, live_server: str) -> None:
    script = """async (url) => {
        try {
            const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                body: JSON.stringify({question: "What is defensive deterrence?"})});
            return String(response.status);
        } catch (error) { return "blocked"; }
    }"""
    allowed = tabs.open(f"{portals.allowed}/")
    assert allowed.evaluate(script, f"{live_server}/api/ask") == "200"
    disallowed = tabs.open(f"{portals.disallowed}/")
    assert disallowed.evaluate(script, f"{live_server}/api/ask") == "blocked"
