"""Small helpers shared by the hardening tests."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus"
DOC_ID = "values-in-foreign-policy"
ESSAY_TEXT = (CORPUS_DIR / f"{DOC_ID}.txt").read_text(encoding="utf-8")
QUESTION = "What is defensive deterrence?"


def ask(base: str, question: Any, history: Any = None, **kwargs: Any) -> httpx.Response:
    body = {"question": question, "history": history or []}
    return httpx.post(f"{base}/api/ask", json=body, timeout=60, **kwargs)


def error_of(response: httpx.Response) -> dict[str, str]:
    """The ``{"error": {"type", "message"}}`` body every error has, checked for shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"type", "message"}, body
    assert body["error"]["message"].strip(), body
    return dict(body["error"])


def assert_quotes_exact(answer: dict[str, Any], texts: dict[str, str]) -> None:
    """Every citation quotes its document exactly, and every marker in the answer is cited."""
    for citation in answer["citations"]:
        text = texts[citation["doc_id"]]
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        assert citation["quote"] in citation["passage"]
        assert f"[{citation['marker']}]" in answer["answer"]
    used = {n for sentence in answer["sentences"] for n in sentence["markers"]}
    assert used == {c["marker"] for c in answer["citations"]}


def folder_digest(folder: Path) -> str:
    """A digest of every file under ``folder`` (names and bytes), to prove nothing changed."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "ingest.lock"):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
