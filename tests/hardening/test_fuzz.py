"""Hypothesis against the sentence splitter, the chunker and the API's request handling.

Invariants: offsets always slice to the quoted text, no chunk loses or duplicates
text, and no request, however malformed, yields a 500.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assistant.chunking import chunk_document, document_sentences, paragraph_spans
from assistant.corpus import front_matter_end
from assistant.models import Document
from assistant.sentences import sentence_spans
from assistant.web import AskRequest

from .helpers import QUESTION

pytest_plugins = ["tests.server_fixtures"]

# Text that exercises the splitter: sentence ends, abbreviations, quotes, paragraph breaks,
# odd whitespace and a sprinkle of any Unicode.
PIECES = st.sampled_from(
    [
        "The ", "U.S. ", "e.g. ", "Mr. ", "George W. Bush ", "etc. ", "It ", "war", ".", "!", "?", "…",
        "”", "“", '"', "'", ")", "(", "[", "]", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\n \n", "\u00a0",
        "\u2028", "A", "b", "1990", "---\n", "title: x\n", "é", "e\u0301", "🛡️", "\u200f", "ن",
    ]
)  # fmt: skip
TEXT = st.one_of(
    st.lists(PIECES, max_size=120).map("".join),
    st.text(max_size=300),
    st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=80).map("".join),
)


def _doc(text: str) -> Document:
    return Document("doc", "doc.txt", text, "0" * 64, "Doc")


def _squeeze(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(TEXT, st.integers(0, 20), st.integers(0, 20))
def test_sentence_spans_slice_and_cover_the_text(text: str, cut_start: int, cut_end: int) -> None:
    start = min(cut_start, len(text))
    end = max(start, len(text) - cut_end)
    spans = list(sentence_spans(text, start, end))
    for s, e in spans:
        assert start <= s < e <= end
        piece = text[s:e]
        assert piece == piece.strip(), "spans are trimmed"
    assert all(a[1] <= b[0] for a, b in pairwise(spans)), "ordered, never overlapping"
    assert _squeeze("".join(text[s:e] for s, e in spans)) == _squeeze(text[start:end])


@settings(max_examples=200, deadline=None)
@given(TEXT, st.integers(100, 800))
def test_chunks_slice_exactly_and_never_lose_or_duplicate_text(text: str, max_chars: int) -> None:
    doc = _doc(text)
    chunks = chunk_document(doc, max_chars)
    sentences = document_sentences(doc)
    assert [s for chunk in chunks for s in chunk.sentences] == sentences, "each sentence in one chunk"
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.sentences[0].start == chunk.start and chunk.sentences[-1].end == chunk.end
        assert {s.paragraph for s in chunk.sentences} == {chunk.paragraph}
        assert len(chunk.text) <= max_chars or len(chunk.sentences) == 1
    for sentence in sentences:
        assert doc.text[sentence.start : sentence.end] == sentence.text
    assert len({c.chunk_id for c in chunks}) == len(chunks), "chunk ids are unique"
    spans = [(s.start, s.end) for s in sentences]
    assert all(a[1] <= b[0] for a, b in pairwise(spans))
    body = text[front_matter_end(text) :]
    assert _squeeze("".join(s.text for s in sentences)) == _squeeze(body)
    paragraphs = list(paragraph_spans(text))
    assert all(a[1] <= b[0] for a, b in pairwise(paragraphs))


# -- the request models ----------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
MESSAGE = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant", "system", "", "USER"]) | JSON,
        "content": st.text(max_size=80) | JSON,
    }
)
QUESTIONS = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.sampled_from([QUESTION, "", " ", "\x00", "x" * 2001, "\ud800"[:0] + "\u202e?", "[1] <script>"]),
)
BODIES = st.one_of(
    st.fixed_dictionaries(
        {"question": QUESTIONS}, optional={"history": st.lists(MESSAGE, max_size=5) | JSON, "extra": JSON}
    ),
    JSON,
)


@settings(max_examples=200, deadline=None)
@given(BODIES)
def test_the_request_model_accepts_or_rejects_cleanly(body: Any) -> None:
    try:
        request = AskRequest.model_validate(body)
    except ValidationError as exc:
        assert exc.errors(), "a rejection says what is wrong"
        return
    assert isinstance(request.question, str)
    assert all(m.role in ("user", "assistant") and isinstance(m.content, str) for m in request.history)


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["type"] and error["message"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES)
def test_no_json_request_yields_a_500(open_server: str, body: Any) -> None:
    with httpx.Client(base_url=open_server, timeout=60) as http:
        _check(http.post("/api/ask", json=body))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=200) | BODIES.map(lambda b: json.dumps(b).encode()[: len(json.dumps(b)) // 2]),
    st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]),
    st.sampled_from(["/api/ask", "/api/ask/stream"]),
)
def test_no_raw_body_yields_a_500(open_server: str, body: bytes, content_type: str, path: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with httpx.Client(base_url=open_server, timeout=60) as http:
        _check(http.post(path, content=body, headers=headers))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_no_document_id_yields_a_500(open_server: str, doc_id: str) -> None:
    with httpx.Client(base_url=open_server, timeout=30) as http:
        for route in ("/api/documents/", "/read/"):
            response = http.get(route + quote(doc_id, safe=""))
            assert response.status_code < 500, (route, doc_id, response.text[:200])
