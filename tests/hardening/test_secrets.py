"""An LLM back end's API key never shows: not in logs, errors, the UI or any API response.

The key comes from ``ASSISTANT_LLM_API_KEY``; the back end is a hostile OpenAI-compatible
server on 127.0.0.1 that answers every request with 401 and the key it was sent, as a
misconfigured proxy might, so the key is in the error the client raises.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.config import Settings
from assistant.web import create_app
from ui.app import Chat, Direct
from ui.render import Anchors

from .helpers import QUESTION

pytest_plugins = ["tests.server_fixtures"]

Serve = Callable[..., AbstractContextManager[str]]
KEY = "sk-hardening-SECRET-0123456789abcdef"


class EchoingBackend(BaseHTTPRequestHandler):
    """Answers 401 and repeats the Authorization header it got, key and all."""

    seen: list[str] = []  # noqa: RUF012 - one list per test server class

    def do_POST(self) -> None:
        authorization = self.headers.get("Authorization", "")
        self.seen.append(authorization)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(
            {"error": {"message": f"Incorrect API key provided: {authorization}", "type": "invalid_key"}}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def backend() -> Iterator[tuple[str, list[str]]]:
    handler: type[EchoingBackend] = type("Backend", (EchoingBackend,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler.seen
    finally:
        server.shutdown()
        server.server_close()


def test_settings_keep_the_key_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", KEY)
    settings = Settings()
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == KEY
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert KEY not in shown


@pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore::DeprecationWarning:gradio.queueing")
def test_the_key_never_appears_anywhere(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    backend: tuple[str, list[str]],
    server_index_dir: Path,
    server_bot: Assistant,
    serve: Serve,
) -> None:
    pytest.importorskip("langchain_openai")
    url, seen = backend
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", KEY)
    monkeypatch.setenv("ASSISTANT_LLM", "openai")
    monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", url)
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "hostile")
    monkeypatch.setenv("ASSISTANT_LLM_TIMEOUT", "5")
    caplog.set_level(logging.DEBUG)
    bot = Assistant(corpus_dir=server_bot.settings.corpus_dir, index_dir=server_index_dir)
    shown: list[str] = [repr(bot.settings), repr(bot.generator)]

    with serve(create_app(bot, limits_overrides={"rate_limit_per_minute": 0})) as base:
        answer = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=60)
        assert answer.status_code == 200
        body = answer.json()
        assert body["generator"] == "extractive (fallback from openai:hostile)"
        assert "401" in body["notice"] or "AuthenticationError" in body["notice"]
        assert body["citations"], "the extractive answer is given instead"
        shown.append(answer.text)
        streamed = httpx.post(f"{base}/api/ask/stream", json={"question": QUESTION}, timeout=60)
        shown.append(streamed.text)
        pages = ("/healthz", "/api/openapi.json", "/config", "/", "/embed", "/api/documents", "/api/nope")
        for path in pages:
            shown.append(httpx.get(f"{base}{path}", timeout=30).text)
        shown.append(httpx.post(f"{base}/api/ask", json={"question": "\x00"}).text)
        shown.append(httpx.post(f"{base}/api/ask", json={"question": QUESTION, "history": 3}).text)
        called = httpx.post(f"{base}/gradio_api/call/ask", json={"data": [QUESTION, []]}, timeout=30)
        event = called.json()["event_id"]
        shown.append(httpx.get(f"{base}/gradio_api/call/ask/{event}", timeout=60).text)

    chat = Chat(Direct(bot), Anchors())
    for view in chat.ask(QUESTION, []):
        shown.append(json.dumps(view, default=str))

    assert seen and all(KEY in header for header in seen), "the back end did get the key"
    for text in shown:
        assert KEY not in text
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.args!r}" for record in caplog.records
    )
    assert "401" in logged or "AuthenticationError" in logged or "failed" in logged
    assert KEY not in logged
    assert KEY not in caplog.text
