"""An answer as other tools show it: plain text with [n] markers and a readable "Sources" block,
and each citation as JSON with a link into the reading view.

Shared by the protocol edges (the OpenAI-compatible endpoint, the MCP server), which hand an
answer to programs that show text, not our pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any
from urllib.parse import quote, urlencode

from .models import Answer, Citation, StreamEvent
from .pipeline import render_sentence

SOURCES_HEADING = "Sources:"
_SOURCES_START = f"\n\n{SOURCES_HEADING}\n"


def reading_link(doc_id: str, anchor: str = "", *, collection: str | None = None, base: str = "") -> str:
    """The reading view of a document (at a sentence's anchor, e.g. ``s-9-2``), under ``base`` if given."""
    query = f"?{urlencode({'collection': collection})}" if collection else ""
    fragment = f"#{anchor}" if anchor else ""
    return f"{base.rstrip('/')}/read/{quote(doc_id)}{query}{fragment}"


def citation_data(citation: Citation, *, collection: str | None = None, base: str = "") -> dict[str, Any]:
    """A citation as JSON: the answer contract's fields and ``reading_view``, the quote's link."""
    link = reading_link(citation.doc_id, citation.anchor, collection=collection, base=base)
    return {**asdict(citation), "reading_view": link}


def sources_block(citations: Iterable[Citation], *, collection: str | None = None, base: str = "") -> str:
    """The citations as text under a "Sources:" heading, one per marker; "" when there are none."""
    lines = []
    for c in citations:
        page = f", page {c.page}" if c.page is not None else ""
        link = reading_link(c.doc_id, c.anchor, collection=collection, base=base)
        lines.append(f"- [{c.marker}] {c.title}{page}, paragraph {c.paragraph}: “{c.quote}” {link}")
    return _SOURCES_START + "\n".join(lines) if lines else ""


def caveat_block(answer: Answer) -> str:
    """The caveat of quotes that may not answer what was asked, as a paragraph; "" when there is none."""
    return f"\n\n{answer.caveat}" if answer.caveat else ""


def event_text(event: StreamEvent, *, collection: str | None = None, base: str = "") -> str:
    """What one of :meth:`Assistant.ask_stream`'s events adds to the answer's text: a verified
    sentence with its markers, or (the final event) any caveat and the Sources block. A language
    model's drafting (``token`` events) adds nothing: it is not verified yet, and text once sent
    cannot be taken back."""
    if event.kind == "sentence" and event.sentence is not None:
        return (" " if event.index else "") + render_sentence(event.sentence)
    if event.kind == "final" and event.answer is not None:
        answer = event.answer
        return caveat_block(answer) + sources_block(answer.citations, collection=collection, base=base)
    return ""


def answer_text(answer: Answer, *, collection: str | None = None, base: str = "") -> str:
    """The whole text that :func:`event_text` gives an answer's events, from the finished answer."""
    sentences = " ".join(render_sentence(s) for s in answer.sentences)
    return (
        sentences + caveat_block(answer) + sources_block(answer.citations, collection=collection, base=base)
    )


def without_sources(text: str) -> str:
    """An earlier reply as the assistant wrote it, without the Sources block added to it (a caveat
    paragraph stays: the reader saw it, and a follow-up finds the quotes by their whole text)."""
    return text.split(_SOURCES_START, 1)[0]
