"""The pytest plugin the package registers (entry point ``pytest11``): the ``assert_grounded``
fixture (:func:`assistant.grading.assert_grounded`).

pytest loads every registered plugin in every session of every project where the package is
installed, so this module imports nothing of the package's own until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(name="assert_grounded")
def _assert_grounded_fixture() -> Callable[..., Any]:
    """``assert_grounded(answer, corpus=..., contexts=...)``, so a test needs no import."""
    from .grading import assert_grounded

    return assert_grounded
