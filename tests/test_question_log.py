"""The opt-in question log and the insight page: a scripted run of a few hundred questions through
the served API (some launched over LTI by a real platform), then the log, its export and purge,
its retention, and the page instructors and the admin see; each with the log on SQLite and on a
real PostgreSQL server (tests/postgres_fixtures.py; more in tests/test_question_log_postgres.py)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from pydantic import SecretStr

from assistant import Assistant
from assistant.cli import main
from assistant.insights.log import Entry, QuestionLog
from assistant.web import create_app
from tests.browser_fixtures import DESKTOP
from tests.lti_platform import served_platform
from tests.postgres_fixtures import BACKENDS, database_url
from tests.server_fixtures import PROJECT_DIR, SCREENSHOTS
from tests.test_ui_accessibility import audit

pytest_plugins = ["tests.server_fixtures", "tests.browser_fixtures", "tests.postgres_fixtures"]

ADMIN = {"Authorization": "Bearer insight-admin"}
ROUNDS = 5  # the development set's 58 standalone questions, five times: 290 questions
QUESTIONS = [
    row
    for row in map(json.loads, (PROJECT_DIR / "devset" / "dev_questions.jsonl").read_text().splitlines())
    if not row["history"]
]


@dataclass
class Run:
    tool: str
    url: str  # the log's database URL
    log: QuestionLog
    asked: int
    instructor: str  # an instructor's session token
    learner: str


@pytest.fixture(scope="module", params=BACKENDS)
def run(
    request: pytest.FixtureRequest,
    server_bot: Assistant,
    serve: Callable[..., AbstractContextManager[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Run]:
    """The scripted run, once with the log on SQLite and once on a real PostgreSQL server."""
    folder = tmp_path_factory.mktemp("question-log")
    url = database_url(request, folder)
    with served_platform(serve, folder) as (platform, config):
        settings = server_bot.settings.model_copy(
            update={"lti_config": config, "question_log": url, "admin_token": SecretStr("insight-admin")}
        )
        app = create_app(Assistant(settings), limits_overrides={"rate_limit_per_minute": 0})
        with serve(app) as base:
            platform.tool = base + "/"
            learner = platform.session(role="learner", user="student-1")
            instructor = platform.session(role="instructor", user="teacher-1")
            asked = 0
            with httpx.Client(base_url=base, timeout=60) as client:
                for round_ in range(ROUNDS):
                    for number, row in enumerate(QUESTIONS):
                        # Every other question comes from the launched learner, the rest from the open page.
                        headers = {"X-Assistant-Session": learner} if number % 2 else {}
                        path = "/api/ask/stream" if round_ == 0 else "/api/ask"
                        answer = client.post(path, json={"question": row["question"]}, headers=headers)
                        assert answer.status_code == 200
                        asked += 1
            log = app.state.question_log
            log.flush()
            yield Run(base + "/", url, log, asked, instructor, learner)


def test_every_question_is_logged_with_pseudonyms_only(run: Run) -> None:
    rows = list(run.log.rows())
    assert len(rows) == run.asked == ROUNDS * len(QUESTIONS)
    askers = {row["asker"] for row in rows}
    launched = [row for row in rows if row["course"]]
    assert len(launched) == run.asked // 2  # the learner's questions carry the course's pseudonym
    assert len({row["asker"] for row in launched}) == 1
    assert not any(a in {"student-1", "teacher-1"} for a in askers), "the LTI user id is never stored"
    text = json.dumps([{k: str(v) for k, v in row.items()} for row in rows])
    assert "Ada Example" not in text and "student-1" not in text
    refused = [row for row in rows if row["refused"]]
    assert refused and all(row["reason"] for row in refused) and not any(row["cited"] for row in refused)
    assert any(row["premise_corrected"] for row in rows)
    answered = [row for row in rows if not row["refused"]]
    assert all(row["cited"] and row["latency_ms"] > 0 and row["generator"] for row in answered)


def test_export_and_purge_from_the_command_line(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_QUESTION_LOG", run.url)
    assert main(["log", "export", "--format", "csv", "--output", str(tmp_path / "q.csv")]) == 0
    with (tmp_path / "q.csv").open(encoding="utf-8") as exported:
        table = list(csv.DictReader(exported))
    assert len(table) >= run.asked and {"question", "refused", "cited", "asker"} <= set(table[0])
    assert main(["log", "export", "--format", "json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(table) and json.loads(lines[0])["question"] == table[0]["question"]
    # Purging rows older than a day leaves today's.
    assert main(["log", "purge", "--older-than", "1"]) == 0
    assert run.log.count() == len(table)


def test_retention_is_enforced_on_start(log_url: str) -> None:
    log = QuestionLog(log_url, retention_days=30)
    old = Entry("default", "anon-x", "q", False, "", False, [], "extractive", 1.0)
    log.record(Entry(**{**old.__dict__, "asked_at": datetime.now(UTC) - timedelta(days=40)}))
    log.record(old)
    log.start()
    log.flush()
    log.close()
    reopened = QuestionLog(log_url, retention_days=30)
    reopened.start()  # the 40-day-old row goes
    assert reopened.count() == 1
    reopened.close()


def test_log_is_off_by_default_and_writes_nothing(live_server: str, tmp_path: Path) -> None:
    assert httpx.get(live_server + "/insights/", headers=ADMIN).status_code == 404
    assert main(["log", "export"]) != 0  # "the question log is off"


def test_insight_page_for_the_admin_shows_gaps_and_cited_passages(run: Run) -> None:
    page = httpx.get(run.tool + "insights/", headers=ADMIN, timeout=60)
    assert page.status_code == 200, page.text
    html = page.text
    assert f"<strong>{run.asked}</strong>questions" in html
    gaps = html.split('id="gaps"')[1].split("<h2")[0]
    refusals = sum(1 for row in run.log.rows() if row["refused"] and row["reason"] == "refusal")
    assert f"<strong>{refusals}</strong>not answered by the reading" in html
    doubtful = sum(1 for row in run.log.rows() if row["uncertain"] and not row["refused"])
    assert doubtful and f"<strong>{doubtful}</strong>answered with a caveat" in html
    counts = [int(c) for c in _cells(gaps)]
    assert counts and 0 < sum(counts) <= refusals + doubtful and counts == sorted(counts, reverse=True)
    assert 'data-count="0"' in html and 'class="h9"' in html  # the heat map has cold and hottest paragraphs
    for row in QUESTIONS[:5]:
        assert row["question"] not in html, "aggregates only: no single question without the setting"


def test_an_instructors_chat_links_the_insight_page(run: Run) -> None:
    teaching = httpx.get(run.tool + "lti/chat", params={"session": run.instructor}).text
    assert 'href="../insights/?session=' in teaching
    assert 'id="insights"' not in httpx.get(run.tool + "lti/chat", params={"session": run.learner}).text


def test_insight_page_for_instructors_only_and_their_course(run: Run) -> None:
    assert httpx.get(run.tool + "insights/").status_code == 401
    assert httpx.get(run.tool + "insights/", params={"session": run.learner}).status_code == 401
    page = httpx.get(run.tool + "insights/", params={"session": run.instructor}, timeout=60)
    assert page.status_code == 200
    assert (
        f"<strong>{run.asked // 2}</strong>questions" in page.text
    )  # the launched learner's, not the page's
    assert "Close reading 101" in page.text


@pytest.mark.browser
def test_insight_page_in_a_browser(run: Run, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP, extra_http_headers=ADMIN)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(run.tool + "insights/")
        expect(page.locator("h1")).to_contain_text("What students ask about")
        expect(page.locator("#gaps + table tbody tr").first).to_be_visible()
        assert page.locator(".heat li").count() > 10
        audit(page, "the insight page")  # axe-core: WCAG A/AA, as the chat's pages are
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "insights.png"), full_page=True)
    finally:
        context.close()


def _cells(section: str) -> list[str]:
    return [part.split("<")[0] for part in section.split('<td class="count">')[1:]]
