"""What a student and an instructor meet in the browser: the sources panel of a long answer, a
greeting, work that must not be lost, and a page that says what the collection holds now.

Real server, real Chromium (the fixtures of ``tests/test_ui_browser.py``). Each test opens its
pages in a fresh browser context, so the conversations saved in one test's browser storage are
not in another's. Screenshots go to artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from assistant import Assistant
from assistant.config import Settings
from assistant.library import Library
from assistant.web import create_app

from .browser_fixtures import CHROMIUM, DESKTOP, Tabs
from .server_fixtures import CORPUS_DIR
from .test_ui_browser import (
    FOLLOW_UP,
    GRADIO_NOISE,
    PHONE,
    QUESTION,
    WAIT_MS,
    ask_in_chat,
    choose,
    completed_reply,
    open_chat,
    screenshot,
)

pytest_plugins = ["tests.server_fixtures", "tests.browser_fixtures"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(GRADIO_NOISE),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium"),
]

Serve = Callable[..., AbstractContextManager[str]]
# The browser's saved conversations (Gradio encrypts each write with a new IV: every save changes it).
SAVED = """() => Object.keys(localStorage).filter(key => key.startsWith("qa-conversations"))
    .map(key => localStorage.getItem(key)).join()"""


def saved(page: Page) -> str:
    return str(page.evaluate(SAVED))


def wait_saved(page: Page, before: str) -> None:
    """Wait for the browser to have saved the conversation since ``before`` (once the answer is
    complete the page saves it, one round trip later): a reload sooner would find the older one."""
    page.wait_for_function(f"before => ({SAVED})() !== before", arg=before, timeout=WAIT_MS)


# Three questions in one: with four quotes allowed, its answer cites four passages.
FOUR_PARTS = (
    "What is human security and what is defensive deterrence "
    "and how does the author judge Biden's withdrawal from Afghanistan?"
)


# -- the sources panel of a long answer (desktop) ---------------------------------------------


@pytest.fixture(scope="module")
def four_quotes(server_bot: Assistant, server_index_dir: Path, serve: Serve) -> Iterator[str]:
    """The essay, answered with up to four quotes (``max_quotes``): the session's index, shared."""
    bot = Assistant(corpus_dir=CORPUS_DIR, index_dir=server_index_dir, max_quotes=4)
    with serve(create_app(bot=bot)) as base:
        yield base


# Where the panel's parts are, in the window's coordinates: the panel's inside, its sticky title,
# the summary (the question) of the group holding ``quote``, and the quote.
LAYOUT = """([panel, quote]) => {
    const box = panel.getBoundingClientRect();
    const rect = element => { const r = element.getBoundingClientRect(); return [r.top, r.bottom]; };
    return {
        inside: [box.top + panel.clientTop, box.top + panel.clientTop + panel.clientHeight],
        title: rect(panel.querySelector(".qa-panel-title")),
        question: rect(quote.closest("details").querySelector("summary")),
        quote: rect(quote),
        scrollTop: panel.scrollTop,
        pageY: window.scrollY,
        window: window.innerHeight,
    };
}"""


def layout(page: Page, quote: str) -> dict[str, Any]:
    panel = page.locator("#qa-sources").element_handle()
    target = page.locator(quote).element_handle()
    return dict(page.evaluate(LAYOUT, [panel, target]))


def scroll_settled(page: Page) -> None:
    """Wait for a smooth scroll of the panel and the page to end (both still for a quarter second)."""
    page.wait_for_function(
        """() => new Promise(resolve => {
            const panel = document.querySelector("#qa-sources");
            const before = [panel.scrollTop, window.scrollY];
            setTimeout(() => resolve(panel.scrollTop === before[0] && window.scrollY === before[1]), 250);
        })""",
        timeout=WAIT_MS,
    )


def test_a_marker_scrolls_the_panel_alone_and_keeps_its_title_and_question_in_view(
    tabs: Tabs, four_quotes: str
) -> None:
    page = open_chat(tabs, four_quotes)
    reply = ask_in_chat(page, FOUR_PARTS)
    markers = reply.locator("a.qa-marker")
    expect(markers).to_have_count(4)
    panel = page.locator("#qa-sources")
    scroll = panel.evaluate("p => [p.scrollHeight, p.clientHeight]")
    assert scroll[0] > scroll[1], "four passages fill more than the panel, or this proves nothing"
    screenshot(page, "sources-four-quotes-desktop")

    # The last quote is far down the panel: the marker scrolls the panel to it, and not the page.
    before = page.evaluate("window.scrollY")
    markers.last.click()
    expect(page.locator("#src-1-4")).to_be_focused()
    scroll_settled(page)
    where = layout(page, "#src-1-4")
    assert where["pageY"] == before, "the page stays where the reader left it"
    assert where["scrollTop"] > 0
    top, bottom = where["inside"]
    assert top <= where["title"][0] and where["title"][1] <= where["question"][0] + 1, "the title, then"
    assert where["question"][1] <= where["quote"][0] + 1, "the question, then the quote below them"
    assert where["quote"][1] <= bottom + 1, "the whole quote inside the panel"
    assert top >= 0 and bottom <= where["window"], "the panel itself in the window"
    screenshot(page, "sources-marker-far-down-desktop")

    # The wheel scrolls the panel back up, and only the panel.
    panel.hover()
    page.mouse.wheel(0, -300)
    page.wait_for_function(
        "top => document.querySelector('#qa-sources').scrollTop < top", arg=where["scrollTop"]
    )
    assert page.evaluate("window.scrollY") == before

    # Down to the last passage: every card of the answer can be read.
    panel.evaluate("p => p.scrollTo(0, p.scrollHeight)")
    last_card = page.locator("#qa-sources details[data-turn='1'] .qa-source").last
    expect(last_card).to_be_in_viewport(ratio=1)
    assert last_card.evaluate("c => c.getBoundingClientRect().bottom") <= bottom + 1


def test_older_answers_sources_stay_reachable(tabs: Tabs, four_quotes: str) -> None:
    page = open_chat(tabs, four_quotes)
    ask_in_chat(page, FOUR_PARTS)
    ask_in_chat(page, QUESTION)
    older = page.locator("#qa-sources details[data-turn='1']")
    expect(older).not_to_have_attribute("open", "")
    older.locator("summary").click()
    expect(older).to_have_attribute("open", "")
    page.locator("#qa-sources").evaluate("p => p.scrollTo(0, p.scrollHeight)")
    expect(older.locator(".qa-source").last).to_be_in_viewport(ratio=1)
    # A marker of the older answer still brings its quote into the panel, below the sticky heads.
    page.locator("#qa-chat .qa-answer").first.locator("a.qa-marker").first.click()
    scroll_settled(page)
    where = layout(page, "#src-1-1")
    assert where["question"][1] <= where["quote"][0] + 1 and where["quote"][1] <= where["inside"][1] + 1


def test_a_long_answer_on_a_phone(tabs: Tabs, four_quotes: str) -> None:
    """Below the chat on a phone, the panel is part of the page: a marker scrolls the page to the quote."""
    page = open_chat(tabs, four_quotes, PHONE)
    reply = ask_in_chat(page, FOUR_PARTS)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "sources-four-quotes-phone")
    reply.locator("a.qa-marker").last.click()
    expect(page.locator("#src-1-4")).to_be_in_viewport()


# -- a greeting -------------------------------------------------------------------------------


def test_a_greeting_is_answered_as_a_plain_message(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    reply = ask_in_chat(page, "hi")
    expect(reply).to_have_class(re.compile(r"\bqa-reply\b"))
    expect(reply).to_contain_text("Ask me a question about the essay")
    expect(page.locator("#qa-chat")).not_to_contain_text("Not answered from the text")
    assert reply.evaluate("el => getComputedStyle(el).borderLeftWidth") == "0px"
    # A question the text does not answer is still a refusal, and looks like one.
    refusal = ask_in_chat(page, "What does the author say about Brexit?")
    expect(refusal).to_have_class(re.compile(r"\bqa-refusal\b"))
    screenshot(page, "chat-greeting-desktop")


# -- work that is easy to lose ----------------------------------------------------------------


def test_a_reload_brings_the_conversation_back(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    for question in (QUESTION, FOLLOW_UP):  # each answer saved before the next (a save can lag)
        before = saved(page)
        ask_in_chat(page, question)
        wait_saved(page, before)
    page.reload(wait_until="domcontentloaded")
    expect(page.locator("#qa-chat .qa-question")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#qa-chat .qa-question").first).to_have_text(QUESTION)
    expect(page.locator("#qa-sources details[data-turn='2']")).to_have_attribute("open", "")
    expect(page.locator("#qa-examples")).to_be_hidden()
    expect(page.locator("#qa-retry")).to_be_enabled()
    # The restored answers are answers: their markers still lead to their quotes, and the
    # conversation goes on from them (the follow-up's history is theirs).
    page.locator("#qa-chat .qa-answer").first.locator("a.qa-marker").first.click()
    expect(page.locator("#src-1-1")).to_be_focused()
    reply = ask_in_chat(page, "Why?")
    expect(reply.locator("a.qa-marker").first).to_be_visible()


def test_a_new_conversation_can_be_undone(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    before = saved(page)
    ask_in_chat(page, QUESTION)
    wait_saved(page, before)
    before = saved(page)
    page.locator("#qa-clear").click()
    expect(page.locator("#qa-chat .qa-question")).to_have_count(0, timeout=WAIT_MS)
    status = page.locator("#qa-chat-status [role=status]")
    expect(status).to_contain_text("Started a new conversation")
    undo = page.locator("#qa-undo")
    expect(undo).to_be_visible()
    screenshot(page, "chat-cleared-desktop")
    wait_saved(page, before)  # the empty conversation, saved
    before = saved(page)
    undo.click()
    expect(page.locator("#qa-chat .qa-question")).to_have_text([QUESTION], timeout=WAIT_MS)
    expect(page.locator("#qa-sources details[data-turn='1'] .qa-source").first).to_be_visible()
    expect(undo).to_be_hidden()
    expect(status).to_contain_text("The conversation is back")
    # The row under the chat: "Ask again", "New conversation" and the answer's download link.
    expect(page.get_by_role("link", name="Download answer 1 as Markdown")).to_be_in_viewport()
    screenshot(page, "chat-undone-desktop")
    wait_saved(page, before)
    page.reload(wait_until="domcontentloaded")  # and it is the one the browser keeps
    expect(page.locator("#qa-chat .qa-question")).to_have_text([QUESTION], timeout=WAIT_MS)


def test_ask_again_and_new_conversation_wait_for_a_conversation(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    retry, clear = page.locator("#qa-retry"), page.locator("#qa-clear")
    expect(page.locator("#qa-examples button").first).to_be_visible(timeout=WAIT_MS)  # the page has loaded
    expect(retry).to_be_disabled()
    expect(clear).to_be_disabled()
    ask_in_chat(page, QUESTION)
    expect(retry).to_be_enabled()
    expect(clear).to_be_enabled()
    clear.click()
    expect(retry).to_be_disabled(timeout=WAIT_MS)
    expect(clear).to_be_disabled()


def test_ask_again_shows_that_it_asks_again(tabs: Tabs, live_server: str) -> None:
    page = open_chat(tabs, live_server)
    ask_in_chat(page, QUESTION)
    # Record whether the reply goes back to "looking for the passages" (it is quick to come back).
    page.evaluate(
        """() => {
            window.sawPending = false;
            new MutationObserver(() => {
                if (document.querySelector("#qa-chat .qa-pending")) window.sawPending = true;
            }).observe(document.querySelector("#qa-chat"), {childList: true, subtree: true});
        }"""
    )
    page.locator("#qa-retry").click()
    expect(page.locator("#qa-chat-status [role=status]")).to_have_text(
        "Asked the last question again.", timeout=WAIT_MS
    )
    completed_reply(page, 1)
    assert page.evaluate("window.sawPending") is True
    expect(page.locator("#qa-chat .qa-question")).to_have_count(1)
    ask_in_chat(page, FOLLOW_UP)  # the status line is about the last action only
    expect(page.locator("#qa-chat-status [role=status]")).to_have_count(0)


# -- a page that says what the collection holds now ---------------------------------------------

TOKEN = "reader-page-admin-token"
PENGUINS_TITLE = "Penguins of the Southern Ocean"
PENGUINS = f"""---
title: {PENGUINS_TITLE}
---
## Breeding

Emperor penguins breed during the long Antarctic winter. The male emperor penguin keeps the egg warm on
its feet, under a fold of skin, for about two months while the female feeds at sea.
"""
# No front matter: the title is the document's own first heading, not "Kiwi Notes".
KIWIS_TITLE = "Kiwis of New Zealand"
KIWIS = f"""# {KIWIS_TITLE}

## Eggs

The kiwi is a flightless bird of New Zealand. Kiwis lay the largest eggs for their body size of any bird.
"""
OWLS = """---
title: Owls at Night
---
Barn owls hunt at night by sound alone. Their heart-shaped faces gather sound like a dish.
"""


@pytest.fixture
def notes_server(tmp_path: Path, serve: Serve) -> Iterator[str]:
    """A collection of one note (no profile), another of one note, and an admin token."""
    readings, birds = tmp_path / "readings", tmp_path / "birds"
    readings.mkdir()
    birds.mkdir()
    (readings / "penguins.md").write_text(PENGUINS, encoding="utf-8")
    (birds / "owls.md").write_text(OWLS, encoding="utf-8")
    settings = Settings.load(corpus_dir=readings, index_dir=tmp_path / "index", admin_token=TOKEN)
    library = Library(settings)
    library.register("birds", birds)
    for name in ("default", "birds"):
        library.assistant(name).ensure_index()
    with serve(create_app(library=library)) as base:
        yield base


def describes(page: Page, heading: str, examples: list[str], reading: str) -> None:
    """The heading (and the browser tab's name), the examples and the question box's hint."""
    expect(page.locator("#qa-header h1")).to_have_text(heading, timeout=WAIT_MS)
    expect(page).to_have_title(heading)
    expect(page.locator("#qa-examples button")).to_have_count(len(examples))
    assert sorted(page.locator("#qa-examples button").all_inner_texts()) == sorted(examples)
    expect(page.locator("#qa-question textarea")).to_have_attribute(
        "placeholder", f"Ask a question about {reading}"
    )


def test_the_chat_page_follows_an_upload(tabs: Tabs, notes_server: str, tmp_path: Path) -> None:
    """Once the instructor adds a document, the open page speaks of two readings, without a reload."""
    page = open_chat(tabs, notes_server)
    describes(page, f"Ask about “{PENGUINS_TITLE}”", ["What does the text say about “Breeding”?"], "the text")
    expect(page.locator("#qa-header")).to_contain_text("read the whole text")

    page.get_by_role("tab", name="Manage documents").click()
    page.locator("#qa-admin-token input").fill(TOKEN)
    page.locator("#qa-admin-unlock").click()
    upload = tmp_path / "kiwi-notes.md"
    upload.write_text(KIWIS, encoding="utf-8")
    page.locator("#qa-admin-files input[type=file]").set_input_files(str(upload))
    # Gradio shows a file's stem and suffix apart ("kiwi-notes .md") where the name may be cut short.
    expect(page.locator("#qa-admin-files")).to_contain_text("kiwi-notes", timeout=WAIT_MS)
    page.locator("#qa-admin-add").click()
    expect(page.locator("#qa-admin-status")).to_contain_text("added and indexed", timeout=WAIT_MS)
    expect(page.locator("#qa-admin-table tbody tr").filter(has_text=KIWIS_TITLE)).to_have_count(1)
    screenshot(page, "admin-after-upload-desktop")

    page.get_by_role("tab", name="Ask").click()
    two = ["What do the readings say about “Breeding”?", "What do the readings say about “Eggs”?"]
    describes(page, "Ask about 2 readings", two, "the readings")
    expect(page.locator("#qa-header")).not_to_contain_text("read the whole text")
    expect(page.locator("#qa-filter")).to_be_visible()
    choose(page, "#qa-filter", KIWIS_TITLE)  # listed by its own title
    reply = ask_in_chat(page, "Which bird lays the largest eggs for its body size?")
    expect(reply.locator("a.qa-marker").first).to_be_visible()
    expect(page.locator("#qa-sources .qa-source-title").first).to_have_text(KIWIS_TITLE)
    screenshot(page, "chat-two-readings-desktop")


def test_each_collection_keeps_its_conversation(tabs: Tabs, notes_server: str) -> None:
    page = open_chat(tabs, notes_server)
    ask_in_chat(page, "How do emperor penguins keep their eggs warm?")
    choose(page, "#qa-collection", "birds")
    expect(page.locator("#qa-header h1")).to_have_text("Ask about “Owls at Night”", timeout=WAIT_MS)
    expect(page).to_have_title("Ask about “Owls at Night”")
    expect(page.locator("#qa-chat .qa-question")).to_have_count(0)
    before = saved(page)
    ask_in_chat(page, "How do barn owls hunt?")
    wait_saved(page, before)
    choose(page, "#qa-collection", "default")
    expect(page.locator("#qa-chat .qa-question")).to_have_text(
        ["How do emperor penguins keep their eggs warm?"], timeout=WAIT_MS
    )
    page.goto(f"{notes_server}/?collection=birds", wait_until="domcontentloaded")
    expect(page.locator("#qa-chat .qa-question")).to_have_text(["How do barn owls hunt?"], timeout=WAIT_MS)


@pytest.fixture(scope="module")
def readings_server(
    tmp_path_factory: pytest.TempPathFactory, server_index_dir: Path, serve: Serve
) -> Iterator[str]:
    """The essay and a note in one collection: the chat of several readings."""
    folder = tmp_path_factory.mktemp("readings")
    (folder / "corpus").mkdir()
    shutil.copy(CORPUS_DIR / "values-in-foreign-policy.txt", folder / "corpus")
    (folder / "corpus" / "penguins.md").write_text(PENGUINS, encoding="utf-8")
    shutil.copytree(server_index_dir, folder / "index")  # the essay is embedded already
    library = Library(Settings.load(corpus_dir=folder / "corpus", index_dir=folder / "index", max_quotes=4))
    library.assistant().ensure_index()
    with serve(create_app(library=library)) as base:
        yield base


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_chat_of_several_readings(tabs: Tabs, readings_server: str, viewport: dict[str, int]) -> None:
    """For the eyes: the page of two readings after a long answer (screenshots)."""
    page = open_chat(tabs, readings_server, viewport)
    expect(page.locator("#qa-header h1")).to_have_text("Ask about 2 readings", timeout=WAIT_MS)
    expect(page).to_have_title("Ask about 2 readings")
    ask_in_chat(page, "How do emperor penguins keep their eggs warm?")
    reply = ask_in_chat(page, FOUR_PARTS)
    expect(reply.locator("a.qa-marker").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"chat-several-readings-{'desktop' if viewport == DESKTOP else 'phone'}")
