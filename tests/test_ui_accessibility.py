"""An axe-core audit of every page in a real headless Chromium, and the sources panel's fit.

axe-core (bundled with axe-playwright-python, so nothing is fetched) runs its default rule
set, WCAG 2 A/AA and best practices, on the chat, the embed page, the reading view and the
"Manage documents" tab, empty and, for the chats, after an answer. Any violation fails, whatever
its impact: the message lists each rule, its impact and the elements it found. The session's
server and browser are the browser tests' (``tests/server_fixtures.py``, ``tests/browser_fixtures.py``),
and so are the chat's helpers; a second server has an admin token, for the tab.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from assistant import Assistant
from assistant.config import Settings
from assistant.library import Library
from assistant.web import create_app

from .browser_fixtures import CHROMIUM, Tabs
from .server_fixtures import CORPUS_DIR, SCREENSHOTS
from .test_ui_browser import FOLLOW_UP, GRADIO_NOISE, PHONE, QUESTION, WAIT_MS, ask_in_chat, open_chat

pytest_plugins = ["tests.server_fixtures", "tests.browser_fixtures"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(GRADIO_NOISE),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium"),
]

# The window of the overflow report: a laptop a little taller than the browser tests' desktop.
LAPTOP = {"width": 1280, "height": 930}
TOKEN = "an-admin-token-for-the-audit"
REFUSED = "What does the author say about Brexit?"  # not in the text: the chat shows a refusal
UNCERTAIN = "Which county does the author live in?"  # quotes that never name a county, a caveat first
AXE = Axe()


# Gradio dims a component while an event updates it and fades it back in; a colour measured
# then is not the page's. Settled: no event pending, no status tracker showing, no transition running.
SETTLED = """() => [...document.querySelectorAll("[data-testid=status-tracker]")].every(
        tracker => tracker.classList.contains("hide"))
    && document.querySelector(".pending") === null
    && document.getAnimations().every(animation => animation.playState !== "running")"""


def audit(page: Page, where: str) -> None:
    """Fail with every axe-core violation on ``page``: rule id, impact and the elements' selectors."""
    page.wait_for_function(SETTLED, timeout=WAIT_MS)
    violations: list[dict[str, Any]] = AXE.run(page).response["violations"]
    lines = [
        f"{rule['id']} ({rule['impact']}): {rule['help']}\n"
        + "".join(f"    {' '.join(map(str, node['target']))}: {_why(node)}\n" for node in rule["nodes"])
        for rule in violations
    ]
    assert not violations, f"axe-core found {len(violations)} violation(s) on {where}:\n" + "".join(lines)


def _why(node: dict[str, Any]) -> str:
    """The first reason axe-core gives for a node, on one line (e.g. the contrast it measured)."""
    summary = str(node.get("failureSummary") or "")
    return " ".join(summary.split("\n", 2)[1:2]).strip()


def first_document(base: str) -> dict[str, Any]:
    documents: list[dict[str, Any]] = httpx.get(f"{base}/api/documents").json()
    return documents[0]


# -- the chat ------------------------------------------------------------------------------


def open_audited_chat(tabs: Tabs, base: str) -> Page:
    """The chat once its examples are in: they arrive with the page's load event."""
    page = open_chat(tabs, base, LAPTOP)
    expect(page.locator("#qa-examples button").first).to_be_visible(timeout=WAIT_MS)
    return page


def test_chat_empty_and_answered(tabs: Tabs, live_server: str) -> None:
    page = open_audited_chat(tabs, live_server)
    audit(page, "the empty chat")
    expect(ask_in_chat(page, UNCERTAIN).locator(".qa-caveat")).to_be_visible()
    reply = ask_in_chat(page, QUESTION)
    reply.locator("a.qa-marker").first.click()  # a highlighted, focused quotation
    audit(page, "the chat after an answer, and one that may not answer")


def test_chat_in_the_dark_theme_with_a_refusal(tabs: Tabs, live_server: str) -> None:
    """Every colour has a dark twin: the refusal's box, the quotations' highlight, the markers."""
    page = tabs.open(f"{live_server}/?__theme=dark", LAPTOP)
    expect(page.locator("#qa-examples button").first).to_be_visible(timeout=WAIT_MS)
    audit(page, "the empty chat, dark")
    ask_in_chat(page, REFUSED)
    expect(ask_in_chat(page, UNCERTAIN).locator(".qa-caveat")).to_be_visible()
    reply = ask_in_chat(page, QUESTION)
    reply.locator("a.qa-marker").first.click()
    audit(page, "the chat after a refusal, a caveat and an answer, dark")


def test_chat_with_a_greeting_then_a_new_conversation(tabs: Tabs, live_server: str) -> None:
    """The plain reply to a greeting, the status line and the "Undo" button after a new conversation."""
    page = open_audited_chat(tabs, live_server)
    ask_in_chat(page, "hi")
    reply = ask_in_chat(page, QUESTION)
    reply.locator("a.qa-marker").last.click()  # the sources panel's sticky title and question over it
    audit(page, "the chat after a greeting and an answer")
    page.locator("#qa-clear").click()
    expect(page.locator("#qa-undo")).to_be_visible(timeout=WAIT_MS)
    audit(page, "the chat after 'New conversation', with 'Undo'")


def test_embed_empty_answered_and_sources(tabs: Tabs, live_server: str) -> None:
    page = tabs.open(f"{live_server}/embed", LAPTOP)
    expect(page.locator(".example").first).to_be_visible(timeout=WAIT_MS)
    audit(page, "the empty embed page")
    page.locator("#question").fill(UNCERTAIN)
    page.locator("#ask-button").click()
    expect(page.locator(".message.assistant .caveat")).to_be_visible(timeout=WAIT_MS)
    page.locator("#question").fill(QUESTION)
    page.locator("#ask-button").click()
    marker = page.locator(".message.assistant").last.locator(".marker").first
    expect(marker).to_be_visible(timeout=WAIT_MS)
    audit(page, "the embed page after an answer, and one that may not answer")
    marker.click()
    expect(page.locator("#drawer")).to_be_visible()
    audit(page, "the embed page's sources drawer")


def test_reading_view(tabs: Tabs, live_server: str) -> None:
    document = first_document(live_server)
    page = tabs.open(f"{live_server}/read/{document['doc_id']}", LAPTOP)
    audit(page, "the reading view")
    detail = httpx.get(f"{live_server}/api/documents/{document['doc_id']}").json()
    anchor = detail["paragraphs"][1]["sentences"][0]["anchor"]
    page = tabs.open(f"{live_server}/read/{document['doc_id']}#{anchor}", LAPTOP)
    expect(page.locator(f"#{anchor}")).to_be_in_viewport()
    audit(page, "the reading view with a highlighted sentence")


# -- the "Manage documents" tab ----------------------------------------------------------------

Serve = Callable[..., AbstractContextManager[str]]


@pytest.fixture(scope="module")
def admin_server(
    tmp_path_factory: pytest.TempPathFactory, server_bot: Assistant, server_index_dir: Path, serve: Serve
) -> Iterator[str]:
    """The project's corpus with an admin token, so that the page has its second tab."""
    folder = tmp_path_factory.mktemp("admin")
    shutil.copytree(server_index_dir, folder / "index")  # the session's index: nothing to embed again
    settings = Settings.load(corpus_dir=CORPUS_DIR, index_dir=folder / "index", admin_token=TOKEN)
    library = Library(settings)
    library.assistant(library.default).ensure_index()
    with serve(create_app(library=library)) as base:
        yield base


def test_admin_tab_locked_and_unlocked(tabs: Tabs, admin_server: str) -> None:
    page = open_audited_chat(tabs, admin_server)
    audit(page, "the chat with its tabs")
    page.get_by_role("tab", name="Manage documents").click()
    token = page.locator("#qa-admin-token input")
    expect(token).to_be_visible()
    audit(page, "the locked 'Manage documents' tab")
    token.fill("not-the-token")
    page.locator("#qa-admin-unlock").click()
    expect(page.locator("#qa-admin-lock-status")).to_contain_text("not the admin token", timeout=WAIT_MS)
    audit(page, "the 'Manage documents' tab after a wrong token")
    token.fill(TOKEN)
    page.locator("#qa-admin-unlock").click()
    expect(page.locator("#qa-admin-table tbody tr").first).to_be_visible(timeout=WAIT_MS)
    audit(page, "the unlocked 'Manage documents' tab")


# -- the sources panel's fit -----------------------------------------------------------------

# Every visible element inside the panel that reaches past one of its edges on an axis where the
# panel does not clip (overflow visible): such content is drawn over the panel's border and beyond.
SPILLS = """panel => {
    const box = panel.getBoundingClientRect();
    const style = getComputedStyle(panel);
    const clips = axis => style[axis] !== "visible";
    const spills = [];
    for (const element of panel.querySelectorAll("*")) {
        if (!element.checkVisibility()) continue;  // inside a folded <details>, for one
        const r = element.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        const across = r.left < box.left - 0.5 || r.right > box.right + 0.5;
        const down = r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
        if ((across && !clips("overflowX")) || (down && !clips("overflowY"))) {
            const edges = [r.left, r.right, r.top, r.bottom].map(Math.round).join(",");
            spills.push(`${element.tagName.toLowerCase()}.${element.className} at ${edges}`);
        }
    }
    return {spills, panel: [box.left, box.right, box.top, box.bottom].map(Math.round),
            scroll: [panel.scrollWidth, panel.clientWidth, panel.scrollHeight, panel.clientHeight]};
}"""


def assert_sources_fit(page: Page, where: str) -> None:
    fit = page.locator("#qa-sources").evaluate(SPILLS)
    assert fit["spills"] == [], f"the sources panel's content runs past its box {fit['panel']} on {where}"
    width, client_width = fit["scroll"][:2]
    assert width <= client_width, f"the sources panel scrolls sideways on {where}: {fit['scroll']}"


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_sources_panel_holds_its_content(tabs: Tabs, live_server: str, viewport: dict[str, int]) -> None:
    """Three answers with every group open: more than the panel shows at once on a laptop, so it scrolls.

    The last question holds one word longer than the panel is wide (a URL, say): it must wrap.
    """
    page = open_chat(tabs, live_server, viewport)
    for question in (QUESTION, FOLLOW_UP, "What does " + "unbroken" * 12 + " mean?"):
        ask_in_chat(page, question)
    for turn in (1, 2):  # the panel folds all but the latest answer's sources
        page.locator(f"#qa-sources details[data-turn='{turn}'] summary").click()
        expect(page.locator(f"#qa-sources details[data-turn='{turn}']")).to_have_attribute("open", "")
    name = f"sources-fit-{viewport['width']}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    assert_sources_fit(page, f"a {viewport['width']}x{viewport['height']} window")
    if viewport == LAPTOP:  # the case of the report: the panel must scroll, not spill
        scroll = page.locator("#qa-sources").evaluate("panel => [panel.scrollHeight, panel.clientHeight]")
        assert scroll[0] > scroll[1], "the answers should fill more than the panel, or this proves nothing"
