"""Load and limits: per-client rate limiting, body size, a responsive /healthz, a bounded Gradio queue."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

import httpx
import pytest
from fastapi import FastAPI

from assistant import Assistant
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.web import create_app
from assistant.web.ratelimit import TokenBuckets
from ui.app import build_ui, mount_ui

from .helpers import QUESTION, ask, error_of

pytest_plugins = ["tests.server_fixtures"]

DEFAULTS = Settings()

Serve = Callable[..., AbstractContextManager[str]]
CLIENTS = 16


# -- rate limiting -----------------------------------------------------------------------


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    now = [1000.0]
    buckets = TokenBuckets(per_minute=60, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(1.0)
    assert buckets.take("b") == 0.0, "each client has its own bucket"
    now[0] += 1.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    now[0] += 3600
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0], "refills up to the burst only"
    assert buckets.take("a") > 0


def test_token_buckets_remember_a_bounded_number_of_clients() -> None:
    buckets = TokenBuckets(per_minute=60, burst=1, max_clients=100)
    for n in range(1000):
        buckets.take(f"10.0.{n // 256}.{n % 256}")
    assert len(buckets._buckets) == 100


def test_limits_are_configurable_with_generous_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert defaults.rate_limit_per_minute >= 60 and defaults.rate_limit_burst >= 10
    assert defaults.max_body_bytes >= 64 * 1024
    monkeypatch.setenv("ASSISTANT_RATE_LIMIT_PER_MINUTE", "5")
    monkeypatch.setenv("ASSISTANT_RATE_LIMIT_BURST", "2")
    monkeypatch.setenv("ASSISTANT_MAX_BODY_BYTES", "1000")
    monkeypatch.setenv("ASSISTANT_QUEUE_SIZE", "7")
    limits = Settings()
    assert (limits.rate_limit_per_minute, limits.rate_limit_burst, limits.max_body_bytes) == (5, 2, 1000)
    assert limits.queue_size == 7
    monkeypatch.setenv("ASSISTANT_RATE_LIMIT_PER_MINUTE", "lots")
    with pytest.raises(ConfigError, match="rate_limit_per_minute"):
        Settings.load()


@pytest.fixture(scope="module")
def limited_server(server_bot: Assistant, serve: Serve) -> Iterator[str]:
    overrides = {"rate_limit_per_minute": 60, "rate_limit_burst": 3}
    with serve(create_app(server_bot, limits_overrides=overrides)) as base:
        yield base


def test_a_client_over_its_limit_gets_429_with_retry_after(limited_server: str) -> None:
    with httpx.Client(base_url=limited_server, timeout=30) as client:
        statuses = [client.get("/api/documents").status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = client.get("/api/documents")
        assert limited.status_code == 429
        assert error_of(limited)["type"] == "rate_limited"
        assert "60 a minute" in error_of(limited)["message"]
        retry_after = int(limited.headers["Retry-After"])
        assert 1 <= retry_after <= 2
        streamed = client.post("/api/ask/stream", json={"question": QUESTION})
        assert streamed.status_code == 429, "the stream endpoint is limited too"

        # /healthz is never limited, and the pages are not either.
        assert {client.get("/healthz").status_code for _ in range(20)} == {200}
        assert client.get("/embed").status_code == 200

        # Another client (another loopback address) is not affected.
        other = httpx.Client(
            base_url=limited_server, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2")
        )
        with other:
            assert other.get("/api/documents").status_code == 200

        time.sleep(retry_after + 0.1)
        assert client.get("/api/documents").status_code == 200, "the client recovers after Retry-After"


def test_preflight_is_not_counted(limited_server: str) -> None:
    with httpx.Client(base_url=limited_server, timeout=30) as client:
        for _ in range(10):
            response = client.options(
                "/api/ask", headers={"Origin": "http://127.0.0.1:1", "Access-Control-Request-Method": "POST"}
            )
            assert response.status_code != 429


# -- request size ------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_it_is_read(open_server: str) -> None:
    big = b'{"question": "' + b"a" * (DEFAULTS.max_body_bytes + 10) + b'"}'
    response = httpx.post(
        f"{open_server}/api/ask", content=big, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 413
    error = error_of(response)
    assert error["type"] == "request_too_large"
    assert f"{DEFAULTS.max_body_bytes:,} bytes" in error["message"]


def test_a_chunked_body_over_the_limit_is_413(open_server: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(40):  # 40 x 16 KiB > 256 KiB, sent without a Content-Length
            yield b"b" * 16384
        yield b'"}'

    response = httpx.post(
        f"{open_server}/api/ask", content=chunks(), headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 413
    assert error_of(response)["type"] == "request_too_large"


def test_a_chunked_body_under_the_limit_is_answered(open_server: str) -> None:
    body = f'{{"question": "{QUESTION}"}}'.encode()
    response = httpx.post(
        f"{open_server}/api/ask",
        content=iter([body[:10], body[10:]]),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 200
    assert response.json()["citations"]


def test_gradio_routes_have_the_body_limit_too(open_server: str) -> None:
    files = {"files": ("big.txt", b"x" * (DEFAULTS.max_body_bytes + 1), "text/plain")}
    response = httpx.post(f"{open_server}/gradio_api/upload", files=files, timeout=30)
    assert response.status_code == 413


def test_a_long_history_under_the_body_limit_is_fine(open_server: str) -> None:
    history = [{"role": ("user", "assistant")[n % 2], "content": "Fine."} for n in range(3000)]
    assert ask(open_server, QUESTION, history).status_code == 200


# -- responsiveness under load --------------------------------------------------------------


def test_healthz_stays_responsive_under_16_clients(open_server: str) -> None:
    questions = [QUESTION, "What does the author mean by human security?", "Tell me a joke"]
    stop = threading.Event()
    answered: list[int] = []

    def client(number: int) -> None:
        with httpx.Client(base_url=open_server, timeout=120) as http:
            for round_ in range(3):  # bounded: 16 clients x 3 questions
                if stop.is_set():
                    return
                question = questions[(number + round_) % len(questions)]
                answered.append(http.post("/api/ask", json={"question": question}).status_code)

    latencies: list[float] = []
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(client, n) for n in range(CLIENTS)]
        time.sleep(0.5)
        with httpx.Client(base_url=open_server, timeout=10) as probe:
            for _ in range(20):
                began = time.perf_counter()
                assert probe.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - began)
                time.sleep(0.1)
        stop.set()
        for future in futures:
            future.result(timeout=300)
    assert set(answered) == {200}, "every question under load is answered"
    assert max(latencies) < 2.0, latencies
    assert statistics.median(latencies) < 0.5, latencies


# -- the Gradio queue ----------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore::DeprecationWarning:gradio.queueing")
def test_gradio_queue_is_bounded(server_bot: Assistant, serve: Serve) -> None:
    gate = threading.Event()

    def ready() -> bool:  # holds every event until the test opens the gate
        return gate.wait(timeout=60)

    app = mount_ui(FastAPI(), build_ui(server_bot, ready=ready, queue_size=2, concurrency=1))
    with serve(app, wait_ready=False) as base, httpx.Client(base_url=base, timeout=30) as http:
        try:
            statuses = []
            for _ in range(6):
                response = http.post("/gradio_api/call/ask", json={"data": [QUESTION, []]})
                statuses.append(response.status_code)
                if response.status_code == 503:
                    assert "Queue is full" in response.text
                time.sleep(0.2)  # lets the first event start, so it runs rather than waits
            assert statuses[:3] == [200, 200, 200], statuses
            assert 503 in statuses, statuses
        finally:
            gate.set()


def test_the_app_bounds_its_gradio_queue(server_bot: Assistant) -> None:
    blocks = create_app(server_bot).state.blocks
    assert blocks._queue.max_size == DEFAULTS.queue_size
    assert blocks._queue.default_concurrency_limit == DEFAULTS.queue_concurrency
