"""The OpenAPI schema tells the truth: schemathesis generates requests for every documented route of
the served app, with rate limiting on and off, and fails on a 5xx, an undocumented status or a
body that does not match its schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS as REGISTERED

from assistant import Assistant
from assistant.web import create_app

pytest_plugins = ["tests.server_fixtures"]

Serve = Callable[..., AbstractContextManager[str]]
EXAMPLES = 15  # per route; enough to hit every documented status, short enough for CI's 2 cores


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


def _check_every_route(schema: Any) -> None:
    """Every operation's generated cases, each sent and validated; all failures reported together."""
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "every documented route is exercised"
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
