"""Fixtures for the tests that drive the pages in a real headless Chromium (/usr/bin/chromium).

Load with ``pytest_plugins = ["tests.browser_fixtures"]`` in a test module, so that every
browser test module shares one session-wide browser: Playwright's sync API allows one
running instance per thread, so a second module's own browser fixture would fail.

- ``browser``: Debian's Chromium (never ``playwright install``: it downloads a browser).
- ``tabs``: opens pages in fresh contexts, records every URL they request, and fails the
  test if one was fetched from outside 127.0.0.1 (the pages must work offline).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
LOCAL = re.compile(r"^(http://127\.0\.0\.1:\d+/|data:|blob:|about:|chrome-error:)")


# One browser a module, not a session: Playwright's sync API keeps an event loop running in the
# main thread while it is open, and the asyncio tests of later modules (LangChain's async suite,
# the MCP client) cannot start theirs beside it.
@pytest.fixture(scope="module")
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
