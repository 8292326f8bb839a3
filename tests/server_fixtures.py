"""Fixtures that run the real web app on 127.0.0.1, shared by the API and the browser tests.

Load with ``pytest_plugins = ["tests.server_fixtures"]`` in a test module, so that one
session-wide index, assistant and server serve every test that asks for them.

- ``server_bot``: one Assistant on the project's corpus with an index in a temporary
  folder (built once per session; never ./.assistant).
- ``live_server``: ``assistant.web.create_app(server_bot)`` under uvicorn in a thread, on a
  free port, with ``ASSISTANT_ALLOWED_ORIGINS`` naming one "portal" origin.
- ``GatedModel``: a chat model that writes its first words, then waits for the test;
  ``llm_assistant``: the essay's assistant with a fake chat model as its language model.
- ``portals``: two tiny web servers on other ports whose page frames ``/embed``:
  one from the allowed origin, one from an origin that is not allowed.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import Field

from assistant import Assistant
from assistant.generation import ExtractiveGenerator
from assistant.llm import build_generator
from assistant.web import create_app
from bench.common import free_port, stop  # the benchmarks start and stop servers the same way

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT_DIR / "corpus"
SCREENSHOTS = PROJECT_DIR / "artifacts" / "screenshots"
HOST = "127.0.0.1"
READY_TIMEOUT_S = 180


class GatedModel(FakeListChatModel):
    """Writes its reply's first words, then waits for the test to let it finish: a slow model."""

    first_words: int = 6
    gate: threading.Event = Field(default_factory=threading.Event)

    def _stream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        words = self.responses[0].split(" ")
        for number, word in enumerate(words):
            if number == self.first_words and not self.gate.wait(timeout=READY_TIMEOUT_S):
                raise TimeoutError("the test never released the model")
            yield ChatGenerationChunk(message=AIMessageChunk(content=word if number == 0 else " " + word))


def llm_assistant(index_dir: Path, chat_model: BaseChatModel, **overrides: object) -> Assistant:
    """The essay's assistant whose language model back end is ``chat_model`` (a fake one)."""
    bot = Assistant(corpus_dir=CORPUS_DIR, index_dir=index_dir, llm="openai", **overrides)
    extractive = ExtractiveGenerator(bot.retriever, bot.settings)
    generator = build_generator(
        bot.settings, extractive, bot.retriever, bot.checker, chat_model=chat_model, label="fake"
    )
    bot.__dict__["generator"] = generator  # a cached property: the fake model instead of a real one
    return bot


def origin(port: int) -> str:
    return f"http://{HOST}:{port}"


@contextmanager
def running(app: FastAPI, *, wait_ready: bool = True) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yields its base URL and stops it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    base = origin(port)
    try:
        _wait(lambda: server.started, "the server to start")
        if wait_ready:
            # A probe that times out (a busy machine, a model warming up) is a no, not an error.
            _wait(
                lambda: _holds(lambda: httpx.get(f"{base}/healthz").status_code == 200),
                "the index to be ready",
            )
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def subprocess_server(
    command: list[str],
    ready: Callable[[], bool],
    log: Path,
    *,
    name: str,
    timeout: float = 120.0,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server command (output to ``log``; environment ``env``, by default this one's) until
    ``ready()`` holds; always stop it afterwards.

    The test fails, with the log's tail, if the server exits or is not ready in time.
    """
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        try:
            _wait(lambda: process.poll() is not None or _holds(ready), f"{name} to be ready", timeout)
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{_tail(log)}")
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{_tail(log)}")
        yield process
    finally:
        stop(process)


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-3000:]


def _holds(condition: Callable[[], bool]) -> bool:
    """A readiness probe's answer; one that raises (not listening yet) is a no."""
    try:
        return condition()
    except Exception:  # connection refused, or a client's own error type while starting
        return False


def _wait(condition: Callable[[], bool], what: str, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"Timed out after {timeout:.0f} s waiting for {what}.")


@dataclass(frozen=True)
class Origins:
    allowed: str
    disallowed: str


@pytest.fixture(scope="session")
def origins() -> Iterator[Origins]:
    """Two portal origins; the allowed one goes into ASSISTANT_ALLOWED_ORIGINS for this session."""
    chosen = Origins(allowed=origin(free_port()), disallowed=origin(free_port()))
    before = os.environ.get("ASSISTANT_ALLOWED_ORIGINS")
    os.environ["ASSISTANT_ALLOWED_ORIGINS"] = chosen.allowed
    yield chosen
    if before is None:
        os.environ.pop("ASSISTANT_ALLOWED_ORIGINS", None)
    else:
        os.environ["ASSISTANT_ALLOWED_ORIGINS"] = before


@pytest.fixture(scope="session")
def server_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-index")


@pytest.fixture(scope="session")
def server_bot(origins: Origins, server_index_dir: Path) -> Assistant:
    """The session's assistant, built after the origins are in the environment (Settings reads it)."""
    assistant = Assistant(index_dir=server_index_dir, corpus_dir=CORPUS_DIR)
    assistant.ensure_index()
    return assistant


@pytest.fixture(scope="session")
def serve() -> Callable[..., AbstractContextManager[str]]:
    """``running`` as a fixture, so test modules need not import this plugin module."""
    return running


@pytest.fixture(scope="session")
def live_server(server_bot: Assistant) -> Iterator[str]:
    with running(create_app(server_bot)) as base:
        yield base


class _PortalHandler(BaseHTTPRequestHandler):
    """Serves one page that frames the assistant's embed page, like a course site would."""

    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("portal: " + format, *args)


def portal_page(embed_url: str) -> bytes:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Course portal</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ margin: 0; font-family: sans-serif; }} h1 {{ font-size: 1.1rem; margin: 0.5rem; }}
iframe {{ display: block; width: 100%; height: 640px; border: 1px solid #ccc; }}</style></head>
<body><h1>Week 3 reading: values in foreign policy</h1>
<iframe id="assistant" src="{embed_url}" title="Ask about the essay"></iframe>
</body></html>""".encode()


@contextmanager
def portal(base: str, embed_path: str) -> Iterator[str]:
    """A portal server on the port of ``base`` (an origin) whose page frames ``embed_path``."""
    port = int(base.rsplit(":", 1)[1])
    handler = type("Portal", (_PortalHandler,), {"page": portal_page(embed_path)})
    server = ThreadingHTTPServer((HOST, port), handler)
    thread = threading.Thread(target=server.serve_forever, name=f"portal-{port}", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Portals:
    allowed: str
    disallowed: str


@pytest.fixture(scope="session")
def portals(live_server: str, origins: Origins) -> Iterator[Portals]:
    embed = f"{live_server}/embed"
    with portal(origins.allowed, embed) as allowed, portal(origins.disallowed, embed) as disallowed:
        yield Portals(allowed=allowed, disallowed=disallowed)
