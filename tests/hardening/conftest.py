"""Shared fixtures of the hardening suite (the test modules load ``tests.server_fixtures``).

``open_server`` is the real app on 127.0.0.1 over the session's index with the rate limit
off, so the tests that send many requests (fuzzing, bad input) measure what they mean to
and never trip the limit; ``test_limits`` checks the limit on servers of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from assistant import Assistant
from assistant.web import create_app

Serve = Callable[..., AbstractContextManager[str]]


@pytest.fixture(scope="session")
def open_server(server_bot: Assistant, serve: Serve) -> Iterator[str]:
    with serve(create_app(server_bot, limits_overrides={"rate_limit_per_minute": 0})) as base:
        yield base
