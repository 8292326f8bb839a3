"""The chat, the reading view and the embed page in a real headless Chromium against a real server.

Every test also checks that the pages fetched nothing from outside 127.0.0.1, and
the tests save screenshots (desktop 1280 px and phone 390 px wide) under
artifacts/screenshots/ for a person to look at. Most tests use the session's server
over the essay alone; the last section serves a small library of two collections
with an admin token.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from gradio.utils import get_upload_folder
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from playwright.sync_api import Locator, Page, expect

from assistant import Assistant
from assistant.config import Settings
from assistant.library import Library
from assistant.verification import FLAG
from assistant.web import create_app

from .browser_fixtures import CHROMIUM, DESKTOP, Tabs
from .llm_fixtures import require_local_model
from .server_fixtures import CORPUS_DIR, GatedModel, llm_assistant

if TYPE_CHECKING:
    from tests.server_fixtures import Portals

pytest_plugins = ["tests.server_fixtures", "tests.browser_fixtures"]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DOC_ID = "values-in-foreign-policy"
ESSAY_TITLE = "Values In Foreign Policy"
QUESTION = "What does the author mean by human security?"
FOLLOW_UP = "And how would that change the armed forces?"
WAIT_MS = 30_000

# A reply bubble once it is complete (streaming answers carry .qa-streaming until the last sentence).
REPLY = "#qa-chat :is(.qa-answer:not(.qa-streaming), .qa-refusal, .qa-reply, .qa-notice)"

# Gradio's queue trips pandas deprecation warnings on every event; they are not ours to fix.
GRADIO_NOISE = "ignore::DeprecationWarning:gradio.queueing"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(GRADIO_NOISE),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium"),
]


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# -- the chat ----------------------------------------------------------------------------


def open_chat(tabs: Tabs, live_server: str, viewport: dict[str, int] = DESKTOP) -> Page:
    page = tabs.open(f"{live_server}/", viewport)
    expect(page.locator("#qa-question textarea")).to_be_visible(timeout=WAIT_MS)
    return page


def ask_in_chat(page: Page, question: str, wait_ms: int = WAIT_MS) -> Locator:
    """Type and send a question; returns the reply bubble once the reply and its sources are complete."""
    before = page.locator(REPLY).count()
    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-ask").click()
    return completed_reply(page, before + 1, wait_ms)


def completed_reply(page: Page, turn: int, wait_ms: int = WAIT_MS) -> Locator:
    expect(page.locator(REPLY)).to_have_count(turn, timeout=wait_ms)
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
    expect(page.locator("#qa-sources .qa-source-title").first).to_have_text(ESSAY_TITLE)
    expect(page.locator("#qa-sources .qa-source-where").first).to_have_text(re.compile(r"^paragraph \d+$"))

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

    page.get_by_text("Copy the latest answer as Markdown").click()
    export = page.locator("#qa-markdown")
    expect(export).to_contain_text(f"**Question:** {FOLLOW_UP}")
    expect(export).to_contain_text("**Quotations**")
    expect(export).to_contain_text("paragraph 11")


# Selects the whole of an element, as a reader's drag over it would, and gives the selection's text.
SELECT_ALL_OF = """element => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return selection.toString();
}"""


def test_an_answer_copies_and_exports_as_the_reader_sees_it(tabs: Tabs, live_server: str) -> None:
    """A copied answer holds its text and markers, not the markers' hidden spoken names; the
    Markdown download is named after the question and is in view under the answer at 1280x900;
    the Markdown box scrolls into view when opened; a quotation's own quotation marks become
    single ones inside the double ones around it."""
    page = open_chat(tabs, live_server)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    reply = ask_in_chat(page, QUESTION)

    selected = reply.evaluate(SELECT_ALL_OF)
    page.keyboard.press("Control+C")
    copied = page.evaluate("navigator.clipboard.readText()")
    for text in (selected, copied):
        assert "[1]" in text and "[2]" in text
        assert "source" not in text and "paragraph" not in text, f"hidden text was copied: {text!r}"
    assert reply.locator(".qa-sr").count() >= 2  # the spoken names are still there for screen readers

    download = page.get_by_role("link", name="Download answer 1 as Markdown")
    expect(download).to_be_in_viewport()  # no scrolling needed at 1280x900
    with page.expect_download() as saved:
        download.click()
    assert saved.value.suggested_filename == "answer-1-what-does-the-author-mean-by-human-security.md"
    markdown = Path(saved.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith(f"**Question:** {QUESTION}\n")
    assert "‘across all our core tasks.’”" in markdown  # the essay's own quotation marks, nested
    assert "““" not in markdown and "””" not in markdown
    screenshot(page, "chat-export-desktop")

    page.get_by_text("Copy the latest answer as Markdown").click()
    export = page.locator("#qa-markdown")
    expect(export).to_contain_text(f"**Question:** {QUESTION}")
    expect(export).to_be_in_viewport(ratio=0.9)


def test_refusal_looks_different_from_an_answer(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    reply = ask_in_chat(page, "What does the author say about Brexit?")
    expect(reply).to_have_class(re.compile(r"\bqa-refusal\b"))
    expect(reply).to_contain_text("Not answered from the text")
    expect(reply.locator("a.qa-marker")).to_have_count(0)
    expect(page.locator("#qa-sources")).to_contain_text("No quotation")
    assert reply.evaluate("el => getComputedStyle(el).borderLeftWidth") == "4px"
    screenshot(page, "chat-refusal-desktop")


def test_a_question_about_the_text_itself_is_not_a_follow_up(tabs: Tabs, live_server: str) -> None:
    """After a question on a topic, "Who wrote this essay?" asks about the essay, not the topic:
    it is refused as when asked alone, and offers questions the text does answer."""
    page = open_chat(tabs, live_server)
    ask_in_chat(page, "What is defensive deterrence?")
    reply = ask_in_chat(page, "Who wrote this essay?")
    expect(reply).to_have_class(re.compile(r"\bqa-refusal\b"))
    expect(reply.locator("a.qa-marker")).to_have_count(0)
    expect(reply).to_contain_text("You could ask, for example:")


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
    # The retry says it ran; waiting for that, not for a reply the first answer already shows.
    expect(page.locator("#qa-chat-status")).to_contain_text("Asked the last question again", timeout=WAIT_MS)
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
    download = page.get_by_role("link", name="Download answer 1 as Markdown")
    box = download.bounding_box()
    assert box and box["x"] + box["width"] <= PHONE["width"], f"the download link runs off the page: {box}"
    assert download.evaluate("link => link.clientHeight < 40"), "the download link's label wraps in a sliver"
    screenshot(page, "chat-answer-phone")
    reply.locator("a.qa-marker").first.click()
    expect(page.locator("#src-1-1")).to_be_in_viewport()
    page.screenshot(path=str(SCREENSHOTS / "sources-phone.png"))


def test_dark_theme_chat(tabs: Tabs, live_server: str) -> None:
    page = tabs.open(f"{live_server}/?__theme=dark")
    expect(page.locator("#qa-question textarea")).to_be_visible(timeout=WAIT_MS)
    ask_in_chat(page, QUESTION).locator("a.qa-marker").first.click()
    screenshot(page, "chat-dark-desktop")


# The page's stops for Tab in document order (it uses no tabindex above 0): their text or tag.
TABBABLE = """() => [...document.querySelectorAll("a[href], button, input, textarea, select, [tabindex]")]
    .filter(element => element.tabIndex >= 0 && !element.disabled && element.checkVisibility())
    .map(element => element.textContent.trim() || element.tagName.toLowerCase())"""


def test_skip_link_and_a_footer_that_holds_at_every_width(tabs: Tabs, live_server: str) -> None:
    """The chat's first stop for Tab is "Skip to the question box", visible once focused; the footer
    links the HTTP API's documentation at every width (a phone once saw a lone "·"), and nothing
    offers or fetches an MCP server that is off (Gradio's "Use via API" panel did both)."""
    footers = []
    for viewport in (DESKTOP, PHONE):
        page = open_chat(tabs, live_server, viewport)
        assert page.evaluate(TABBABLE)[0] == "Skip to the question box"
        expect(page.locator("#qa-examples button").first).to_be_visible(timeout=WAIT_MS)
        expect(page.locator(".pending")).to_have_count(0, timeout=WAIT_MS)  # the load event redraws the top
        page.mouse.click(viewport["width"] - 2, 2)  # nothing focusable there: Tab starts from the top
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to the question box")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        box = skip.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20, f"not visible when focused: {box}"
        page.screenshot(path=str(SCREENSHOTS / f"chat-skip-link-{viewport['width']}.png"))
        page.keyboard.press("Enter")
        expect(page.locator("#qa-question textarea")).to_be_focused()

        footer = page.locator("#qa-footer")
        expect(footer.get_by_role("link", name="HTTP API documentation")).to_be_visible()
        footers.append(footer.inner_text().strip())
        expect(page.get_by_text("Use via API")).to_have_count(0)  # its panel's only way in
    assert footers[0] == footers[1] and footers[0] != "·", f"the footer differs by width: {footers}"

    assert httpx.get(f"{live_server}/api/docs").status_code == 200  # where the footer's link leads
    assert not [url for url in tabs.requests if "/mcp" in url], "the page fetched the MCP routes"


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
        expect(frame.locator("#drawer .source-title").first).to_have_text(ESSAY_TITLE)
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
    page.locator("#question").fill("What does the author say about Brexit?")
    page.locator("#ask-button").click()
    refusal = page.locator(".message.refusal")
    expect(refusal).to_contain_text("Not answered from the text", timeout=WAIT_MS)
    expect(refusal).to_have_attribute("data-kind", "refusal")


def test_embed_greeting_and_request_are_plain_replies(tabs: Tabs, live_server: str) -> None:
    """A hello or a request for something other than the text (the answer's kind, sent with each
    sentence and with the final answer) is answered as a plain message, not as an orange refusal,
    and lists no sources; a question the text does not answer is still a refusal."""
    page = tabs.open(f"{live_server}/embed")
    greeting = ask_in_embed(page, "hi", 1)
    expect(greeting).to_have_attribute("data-kind", "greeting")
    expect(greeting).to_have_class(re.compile(r"^message assistant$"))
    expect(greeting).to_contain_text("Ask me a question about the essay")
    request = ask_in_embed(page, "Tell me a joke", 2)
    expect(request).to_have_attribute("data-kind", "request")
    expect(request).to_have_class(re.compile(r"^message assistant$"))
    expect(request).to_contain_text("I can only answer questions about the essay")
    for reply in (greeting, request):
        assert reply.evaluate("el => getComputedStyle(el).borderLeftWidth") == "1px"
    expect(page.locator("#log")).not_to_contain_text("Not answered from the text")
    expect(page.locator("#drawer .group")).to_have_count(0)
    expect(page.locator("#sources-count")).to_have_text("0")
    refusal = ask_in_embed(page, "What does the author say about Brexit?", 3)
    expect(refusal).to_have_class(re.compile(r"\brefusal\b"))
    expect(refusal).to_contain_text("Not answered from the text")
    screenshot(page, "embed-greeting-desktop")


# A course page's iframe: the size at which the drawer covers the chat instead of sitting beside it.
EMBED_FRAME = {"width": 400, "height": 640}

# Where the newest question and its answer sit in the conversation's scrolling box: the question's
# top and bottom and the answer's top and bottom, relative to the box's visible top, and its height.
NEWEST_TURN = """log => {
    const box = log.getBoundingClientRect();
    const [question, answer] = [...log.querySelectorAll(".message")].slice(-2).map(
        message => message.getBoundingClientRect());
    return {question: [question.top - box.top, question.bottom - box.top],
            answer: [answer.top - box.top, answer.bottom - box.top], height: log.clientHeight};
}"""

# Where focus is: in the sources drawer, nowhere (the browser's own UI), or on a control of the page.
FOCUS_PLACE = """() => {
    const focused = document.activeElement;
    if (!focused || focused === document.body) return "none";
    if (focused.closest("#drawer")) return "drawer";
    return `outside: ${focused.tagName.toLowerCase()}#${focused.id}.${focused.className}`;
}"""


def ask_in_embed(page: Page, question: str, turn: int) -> Locator:
    """Ask on the embed page; returns the answer's bubble once it is complete."""
    page.locator("#question").fill(question)
    page.locator("#ask-button").click()
    finished = page.locator(".message:is(.assistant, .refusal, .notice):not([aria-busy])")
    expect(finished).to_have_count(turn, timeout=WAIT_MS)
    return finished.nth(turn - 1)


def test_embed_brings_each_new_answer_into_view(tabs: Tabs, live_server: str) -> None:
    """In a 400x640 frame, each new question and the start of its answer are in view as it arrives,
    the question at the top rather than the answer's end at the bottom (it is read from its start)."""
    page = tabs.open(f"{live_server}/embed", EMBED_FRAME)
    log = page.locator("#log")
    for turn, question in enumerate((QUESTION, FOLLOW_UP, "What is defensive deterrence?"), start=1):
        ask_in_embed(page, question, turn)
        shown = log.evaluate(NEWEST_TURN)
        top, bottom = shown["question"]
        assert top >= 0 and bottom <= shown["height"], f"question {turn} is out of view: {shown}"
        answer_top, answer_bottom = shown["answer"]
        visible = min(answer_bottom, shown["height"]) - max(answer_top, 0)
        wanted = min(answer_bottom - answer_top, shown["height"] / 2)
        assert visible >= wanted, f"only {visible:.0f} px of answer {turn} are in view: {shown}"
    assert log.evaluate("log => log.scrollTop") > 0  # it did scroll, to show the latest question


def test_embed_sources_drawer_is_a_modal_dialog(tabs: Tabs, live_server: str) -> None:
    """Where the drawer covers the chat (a 400x640 frame) it is a modal dialog: focus moves into
    it, Tab never reaches the controls hidden behind it, and Escape or its close button return
    focus to the control that opened it."""
    page = tabs.open(f"{live_server}/embed", EMBED_FRAME)
    answer = ask_in_embed(page, QUESTION, 1)
    marker = answer.locator(".marker").nth(1)
    marker.click()
    drawer = page.locator("#drawer")
    expect(drawer).to_be_visible()
    expect(page.locator("#e-1-2")).to_be_focused()
    assert drawer.evaluate("element => element.matches(':modal')"), "the drawer is not a modal dialog"
    screenshot(page, "embed-drawer-400x640")

    stops = drawer.locator("a, button").count() + 2  # once round the drawer and a step further
    for key in ("Tab", "Shift+Tab"):
        places = []
        for _ in range(stops):
            page.keyboard.press(key)
            places.append(page.evaluate(FOCUS_PLACE))
        left = [place for place in places if place.startswith("outside")]
        assert not left, f"{key} left the drawer: {places}"

    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(marker).to_be_focused()

    toggle = page.locator("#sources-toggle")
    toggle.click()
    expect(drawer).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert page.evaluate(FOCUS_PLACE) == "drawer"
    page.locator("#drawer-close").click()
    expect(drawer).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    marker.click()
    page.locator("#drawer-close").click()
    expect(marker).to_be_focused()


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
    """A portal that may not frame the chat gets, in its frame, the reason in words and who can
    change it, instead of the browser's blank error; the chat itself never loads there."""
    page = tabs.open(f"{portals.disallowed}/")
    page.wait_for_load_state("load")
    frame = page.frame_locator("#assistant")
    expect(frame.locator("h1")).to_contain_text("cannot be shown here", timeout=WAIT_MS)
    expect(frame.locator("main")).to_contain_text(f"not {portals.disallowed}")
    expect(frame.locator("code")).to_contain_text(
        f"ASSISTANT_ALLOWED_ORIGINS={portals.allowed},{portals.disallowed}"
    )
    expect(frame.get_by_role("link", name="Open the assistant in a new tab")).to_have_attribute(
        "target", "_blank"
    )
    expect(frame.locator("#question")).to_have_count(0)
    screenshot(page, "embed-refused")


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


def test_the_essay_alone_needs_no_choices(tabs: Tabs, live_server: str) -> None:
    """One collection of one document, no language model, no admin token: no extra controls."""
    page = open_chat(tabs, live_server)
    ask_in_chat(page, "What is defensive deterrence?")  # the page has loaded and answers
    for control in ("#qa-collection", "#qa-filter", "#qa-generator"):
        expect(page.locator(control)).to_be_hidden()
    expect(page.get_by_role("tab", name="Manage documents")).to_have_count(0)
    expect(page.locator("#qa-admin-token")).to_have_count(0)


# -- a library: two collections, several documents, an admin token ----------------------

Serve = Callable[..., AbstractContextManager[str]]
TOKEN = "correct-horse-battery-staple"
PENGUINS_TITLE = "Penguins of the Southern Ocean"
PENGUINS = f"""---
title: {PENGUINS_TITLE}
---
Emperor penguins breed during the long Antarctic winter. The male emperor penguin keeps the egg warm on
its feet, under a fold of skin, for about two months while the female feeds at sea.

Adelie penguins build their nests from small stones, which they sometimes steal from their neighbours.
"""
OWLS_TITLE = "Owls <script>window.pwned = 1</script> at Night"
OWLS = f"""---
title: "{OWLS_TITLE}"
---
Barn owls hunt at night by sound alone. Their heart-shaped faces gather sound like a dish, so that a
barn owl can catch a mouse it cannot see.
"""
KIWIS_TITLE = "Kiwis of New Zealand"
KIWIS = f"""---
title: {KIWIS_TITLE}
---
The kiwi is a flightless bird of New Zealand. Kiwis lay the largest eggs for their body size of any bird.
"""
PENGUIN_QUESTION = "How do emperor penguins keep their eggs warm?"


@pytest.fixture(scope="module")
def library_server(
    tmp_path_factory: pytest.TempPathFactory, server_bot: Assistant, server_index_dir: Path, serve: Serve
) -> Iterator[str]:
    """The essay and a note on penguins in the default collection, a note on owls in "birds"."""
    folder = tmp_path_factory.mktemp("library")
    readings, birds = folder / "readings", folder / "birds"
    readings.mkdir()
    birds.mkdir()
    shutil.copy(Path(server_bot.settings.corpus_dir) / f"{DOC_ID}.txt", readings)
    (readings / "penguins.md").write_text(PENGUINS, encoding="utf-8")
    (birds / "owls.md").write_text(OWLS, encoding="utf-8")
    # The session's essay index, copied: only the short notes are embedded here (saves ~20 s).
    shutil.copytree(server_index_dir, folder / "index")
    settings = Settings.load(corpus_dir=readings, index_dir=folder / "index", admin_token=TOKEN)
    library = Library(settings)
    library.register("birds", birds)
    for name in ("default", "birds"):
        library.assistant(name).ensure_index()
    with serve(create_app(library=library)) as base:
        yield base


def choose(page: Page, dropdown: str, option: str) -> None:
    """Pick ``option`` in one of Gradio's dropdowns (single or multiple choice) by its label."""
    page.locator(f"{dropdown} input").click()
    page.locator(dropdown).get_by_role("option", name=option, exact=True).click()
    page.locator(f"{dropdown} input").press("Escape")


def test_document_filter_limits_answers_to_the_chosen_document(tabs: Tabs, library_server: str) -> None:
    page = open_chat(tabs, library_server)
    expect(page.locator("#qa-filter")).to_be_visible()
    expect(page.locator("#qa-header h1")).to_have_text("Ask about 2 readings")

    reply = ask_in_chat(page, PENGUIN_QUESTION)  # all documents: the penguins answer
    expect(reply.locator("a.qa-marker").first).to_be_visible()
    expect(page.locator("#qa-sources details[open] .qa-source-title").first).to_have_text(PENGUINS_TITLE)

    choose(page, "#qa-filter", ESSAY_TITLE)  # the essay alone says nothing about penguins
    expect(ask_in_chat(page, PENGUIN_QUESTION)).to_have_class(re.compile(r"\bqa-refusal\b"))
    screenshot(page, "chat-filter-desktop")

    page.locator("#qa-filter [title=Clear]").click()
    choose(page, "#qa-filter", PENGUINS_TITLE)
    reply = ask_in_chat(page, "What is defensive deterrence?")  # the essay's question, penguins only
    titles = page.locator("#qa-sources details[open] .qa-source-title")
    if "qa-refusal" not in (reply.get_attribute("class") or ""):
        assert set(titles.all_inner_texts()) == {PENGUINS_TITLE}


def test_another_collection_from_the_chat_and_the_embed_page(tabs: Tabs, library_server: str) -> None:
    page = open_chat(tabs, library_server)
    ask_in_chat(page, PENGUIN_QUESTION)
    choose(page, "#qa-collection", "birds")
    expect(page.locator("#qa-chat .qa-question")).to_have_count(0, timeout=WAIT_MS)  # a new conversation
    expect(page.locator("#qa-filter")).to_be_hidden()  # one document: nothing to choose
    expect(page.locator("#qa-header h1")).to_have_text(f"Ask about “{OWLS_TITLE}”")

    ask_in_chat(page, "How do barn owls hunt?")
    expect(page.locator("#qa-sources .qa-source-title").first).to_have_text(OWLS_TITLE)
    link = page.locator("#src-1-1 a.qa-quote-link")
    expect(link).to_have_attribute("href", re.compile(r"^read/owls\?collection=birds#s-\d+-\d+$"))
    screenshot(page, "chat-collection-desktop")
    assert page.evaluate("window.pwned") is None

    embed = tabs.open(f"{library_server}/embed?collection=birds")
    embed.locator("#question").fill("How do barn owls hunt?")
    embed.locator("#ask-button").click()
    expect(embed.locator(".message.assistant .marker").first).to_be_visible(timeout=WAIT_MS)
    expect(embed.locator("#drawer .source-title").first).to_have_text(OWLS_TITLE)
    expect(embed.locator("#drawer .quote-link").first).to_have_attribute(
        "href", re.compile(r"^read/owls\?collection=birds#s-")
    )
    assert embed.evaluate("window.pwned") is None


def test_admin_tab_is_locked_then_adds_and_removes_a_document(
    tabs: Tabs, library_server: str, tmp_path: Path
) -> None:
    page = open_chat(tabs, library_server)
    page.get_by_role("tab", name="Manage documents").click()
    token = page.locator("#qa-admin-token input")
    expect(token).to_be_visible()
    expect(page.locator("#qa-admin")).to_be_hidden()
    token.fill("not-the-token")
    page.locator("#qa-admin-unlock").click()
    expect(page.locator("#qa-admin-lock-status")).to_contain_text("not the admin token", timeout=WAIT_MS)
    expect(page.locator("#qa-admin")).to_be_hidden()
    expect(page.locator("table.qa-documents")).to_have_count(0)  # the server sent no table
    screenshot(page, "admin-locked-desktop")

    token.fill(TOKEN)
    page.locator("#qa-admin-unlock").click()
    table = page.locator("#qa-admin-table tbody tr")
    expect(table).to_have_count(2, timeout=WAIT_MS)
    expect(table.filter(has_text=PENGUINS_TITLE)).to_contain_text("indexed")

    upload = tmp_path / "kiwis.md"
    upload.write_text(KIWIS, encoding="utf-8")
    page.locator("#qa-admin-files input[type=file]").set_input_files(str(upload))
    expect(page.locator("#qa-admin-files")).to_contain_text("kiwis.md", timeout=WAIT_MS)
    page.locator("#qa-admin-add").click()
    expect(page.locator("#qa-admin-status")).to_contain_text("kiwis.md: added and indexed", timeout=WAIT_MS)
    expect(table).to_have_count(3)
    assert not list(Path(get_upload_folder()).rglob("kiwis.md")), "the upload is deleted once read"
    screenshot(page, "admin-added-desktop")

    page.get_by_role("tab", name="Ask").click()
    ask_in_chat(page, "Which bird lays the largest eggs for its body size?")
    expect(page.locator("#qa-sources .qa-source-title").first).to_have_text(KIWIS_TITLE)

    page.get_by_role("tab", name="Manage documents").click()
    choose(page, "#qa-admin-document", KIWIS_TITLE)
    page.locator("#qa-admin-remove").click()
    expect(page.locator("#qa-admin-confirm")).to_contain_text(f"Remove “{KIWIS_TITLE}”?")
    page.locator("#qa-admin-confirm-yes").click()
    expect(page.locator("#qa-admin-status")).to_contain_text(f"Removed “{KIWIS_TITLE}”", timeout=WAIT_MS)
    expect(table).to_have_count(2)
    expect(page.locator("#qa-admin-confirm")).to_be_hidden()


# -- an LLM back end in the browser ------------------------------------------------------------

DETERRENCE = "What is defensive deterrence?"
DEFINITION = "Defensive deterrence, or deterrence by denial, aims to avoid the kind of competitive armament"
INVENTED = "Napoleon invented defensive deterrence in 1805 after the battle of Austerlitz"


def llm_bot(
    essay_index: Path, reply: str, chat_model: BaseChatModel | None = None, **overrides: object
) -> Assistant:
    """The essay's assistant whose LLM back end is a fake model that always writes ``reply``."""
    return llm_assistant(essay_index, chat_model or FakeListChatModel(responses=[reply]), **overrides)


def test_llm_answers_show_their_safety_net(tabs: Tabs, essay_index: Path, serve: Serve) -> None:
    """An invented sentence is marked unverified; an answer that cannot be verified is replaced."""
    flagged = llm_bot(essay_index, f"{DEFINITION} [1]. {INVENTED} [1].", unsupported="flag")
    with serve(create_app(bot=flagged)) as base:
        page = open_chat(tabs, base)
        expect(page.locator("#qa-generator")).to_be_visible()
        reply = ask_in_chat(page, DETERRENCE)
        expect(reply).to_contain_text("Napoleon invented defensive deterrence in 1805")
        expect(reply).to_contain_text(FLAG.strip())
        expect(reply.locator(".qa-answer-notice")).to_contain_text("marked (unverified)")
        screenshot(page, "llm-flagged")

    invented = llm_bot(essay_index, "The moon landing was in 1969 [1]. Switzerland practises it [2].")
    with serve(create_app(bot=invented)) as base:
        page = open_chat(tabs, base)
        reply = ask_in_chat(page, DETERRENCE)
        expect(reply.locator(".qa-answer-notice")).to_contain_text("showing the extractive answer instead")
        expect(reply).not_to_contain_text("moon landing")
        expect(reply.locator("a.qa-marker").first).to_be_visible()  # the extractive answer's quotes
        screenshot(page, "llm-fallback")


def test_the_first_words_of_a_model_answer_show_before_it_finishes(
    tabs: Tabs, essay_index: Path, serve: Serve
) -> None:
    """Tokens reach the chat as the model writes them, marked as being checked; the verified
    answer with its quotes replaces them once the model is done."""
    model = GatedModel(responses=[f"{DEFINITION} [1]."])
    bot = llm_bot(essay_index, "", chat_model=model)
    with serve(create_app(bot=bot)) as base:
        page = open_chat(tabs, base)
        page.locator("#qa-question textarea").fill(DETERRENCE)
        page.locator("#qa-ask").click()
        drafting = page.locator("#qa-chat .qa-draft")
        expect(drafting).to_contain_text(" ".join(DEFINITION.split(" ")[:6]), timeout=WAIT_MS)
        expect(drafting).to_contain_text("checked against the text")
        expect(page.locator("#qa-chat a.qa-marker")).to_have_count(0)  # nothing verified yet
        model.gate.set()
        reply = completed_reply(page, 1)
        expect(page.locator("#qa-chat .qa-draft")).to_have_count(0)
        expect(reply).to_contain_text(DEFINITION)
        expect(reply.locator("a.qa-marker").first).to_be_visible()


@pytest.mark.llm
def test_local_backend_in_the_browser(tabs: Tabs, essay_index: Path, serve: Serve) -> None:
    """`ASSISTANT_LLM=local` (the model `make llm` installs), as `make run` would serve it: whatever
    the model writes, the chat shows verified sentences with their quotes, or the extractive
    answer with a notice saying why."""
    require_local_model()
    bot = Assistant(
        corpus_dir=CORPUS_DIR,
        index_dir=essay_index,
        llm="local",
        llm_timeout=240,  # generous, as in test_llm_real: CI machines are small and busy
    )
    with serve(create_app(bot=bot)) as base:
        page = open_chat(tabs, base)
        expect(page.locator("#qa-generator")).to_contain_text("Language model, verified")
        reply = ask_in_chat(page, DETERRENCE, wait_ms=240_000)
        screenshot(page, "llm-real")
        notice = reply.locator(".qa-answer-notice")
        if notice.count():
            # The model answered (reachable, in time): its sentences were checked, not skipped.
            checked = "could be verified|unverified|removed|found no answer|no usable answer"
            expect(notice).to_contain_text(re.compile(checked))
            expect(notice).not_to_contain_text(re.compile("failed|within"))
        expect(reply.locator("a.qa-marker").first).to_be_visible()
