"""Documents as the API shows them: a summary, or the text with its paragraphs and sentences."""

from __future__ import annotations

from typing import Any

from ..chunking import document_sentences, paragraph_spans
from ..citing import reading_link
from ..models import Document
from ..pipeline import Assistant
from .errors import ApiError


def document_summary(doc: Document, collection: str | None = None) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "format": doc.metadata.get("format", ""),
        "pages": len(doc.pages) or None,
        "metadata": doc.metadata,
        "sha256": doc.sha256,
        "characters": len(doc.text),
        "reading_view": reading_link(doc.doc_id, collection=collection),
    }


def document_detail(doc: Document, collection: str | None = None) -> dict[str, Any]:
    """The text with its paragraphs and sentences: offsets into ``text`` and reading-view anchors."""
    sentences = document_sentences(doc)
    paragraphs = []
    for number, (start, end) in enumerate(paragraph_spans(doc.text), start=1):
        paragraphs.append(
            {
                "number": number,
                "anchor": f"p-{number}",
                "start": start,
                "end": end,
                "sentences": [
                    {
                        "index": s.index,
                        "anchor": s.anchor,
                        "start": s.start,
                        "end": s.end,
                        "page": s.page,
                        "text": s.text,
                    }
                    for s in sentences
                    if s.paragraph == number
                ],
            }
        )
    return {**document_summary(doc, collection), "text": doc.text, "paragraphs": paragraphs}


def find_document(bot: Assistant, doc_id: str) -> Document:
    for doc in bot.documents():
        if doc.doc_id == doc_id:
            return doc
    raise ApiError(
        404, "document_not_found", f"There is no document {doc_id!r}; GET /api/documents lists them."
    )
