"""Shared fixtures. No test touches ./.assistant: the index lives in a temp folder.

The real embedding model and a real Chroma store are used throughout; the essay's
index is built once per session and shared read-only by the tests that only ask.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Assistant

# The browser tests import names from their fixture plugin before pytest loads it as one; its
# assertions are rewritten only if pytest knows this first (else it warns, and they are plain).
pytest.register_assert_rewrite("tests.browser_fixtures", "tests.postgres_fixtures")

ROOT = Path(__file__).resolve().parent.parent
ESSAY = ROOT / "corpus" / "values-in-foreign-policy.txt"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _isolated_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.delenv("CHROMA_HOST", raising=False)


@pytest.fixture(scope="session")
def essay_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built index of the essay, made once per session."""
    folder = tmp_path_factory.mktemp("essay-index")
    Assistant(corpus_dir=ROOT / "corpus", index_dir=folder).ensure_index()
    return folder


@pytest.fixture(scope="session")
def bot(essay_index: Path) -> Assistant:
    """An assistant over the essay's shared index; tests must not change it."""
    return Assistant(corpus_dir=ROOT / "corpus", index_dir=essay_index)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Iterator[Path]:
    """A private corpus folder holding the essay, for tests that change files."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(ESSAY, folder / ESSAY.name)
    yield folder
