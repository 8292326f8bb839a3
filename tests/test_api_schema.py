"""The OpenAPI schema tells the truth: schemathesis generates requests for every documented route of
the served app, with rate limiting on and off (and the OpenAI-compatible routes once more with an
API token required), and fails on a 5xx, an undocumented status or a body that does not match its
schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from schemathesis.checks import CHECKS as REGISTERED

from assistant import Assistant
from assistant.web import create_app

pytest_plugins = ["tests.server_fixtures"]

Serve = Callable[..., AbstractContextManager[str]]
EXAMPLES = 15  # per route; enough to hit every documented status, short enough for CI's 2 cores
OPENAI_ROUTES = {"GET /v1/models", "GET /v1/models/{model}", "POST /v1/chat/completions"}


def _schema(serve: Serve, bot: Assistant, **limits: float) -> Iterator[Any]:
    with serve(create_app(bot, limits_overrides=limits)) as base:
        yield schemathesis.openapi.from_url(f"{base}/api/openapi.json")


@pytest.fixture(scope="module")
def limited(server_bot: Assistant, serve: Serve) -> Iterator[Any]:
    """A tight rate limit: many generated requests are answered 429, which must be documented."""
    yield from _schema(serve, server_bot, rate_limit_per_minute=30, rate_limit_burst=5)


@pytest.fixture(scope="module")
def unlimited(server_bot: Assistant, serve: Serve) -> Iterator[Any]:
    yield from _schema(serve, server_bot, rate_limit_per_minute=0)


@pytest.fixture(scope="module")
def guarded(server_bot: Assistant, serve: Serve) -> Iterator[Any]:
    """ASSISTANT_API_TOKEN set: generated requests without it (or with another) are answered 401."""
    settings = server_bot.settings.model_copy(update={"api_token": SecretStr("schema-token")})
    schema = _schema(serve, Assistant(settings), rate_limit_per_minute=0)
    yield next(schema).include(path_regex="^/v1/")
    next(schema, None)  # stops the server


# What the issue holds the schema to. Not "positive data acceptance": a schema-valid question can
# still be refused with a documented 400 (empty once trimmed, a control character in it).
WANTED = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def _check_every_route(schema: Any, at_least: int = 10) -> None:
    """Every operation's generated cases, each sent and validated; all failures reported together."""
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= at_least, "every documented route is exercised"
    assert {operation.label for operation in operations} >= OPENAI_ROUTES
    checks = REGISTERED.get_by_names(list(WANTED))  # the OpenAPI checks register once a schema loads
    assert len(checks) == len(WANTED), "schemathesis still has every check asked for"
    for operation in operations:

        @FAST
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(checks=checks)

        try:
            run()
        except Exception as exc:  # the failing case and what failed, per route
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{problem}" for label, problem in failures.items())


def test_with_rate_limiting(limited: Any) -> None:
    _check_every_route(limited)


def test_without_rate_limiting(unlimited: Any) -> None:
    _check_every_route(unlimited)


def test_openai_routes_with_an_api_token(guarded: Any) -> None:
    _check_every_route(guarded, at_least=len(OPENAI_ROUTES))
