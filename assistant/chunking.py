"""Paragraph-aware chunking: chunks of whole sentences that never cross a paragraph.

Each chunk records its paragraph number and the exact span of every sentence, and
its id is derived from its content, so a citation survives re-indexing.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator

from .corpus import front_matter_end
from .models import Chunk, Document, Sentence
from .sentences import sentence_spans

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*(?:\r?\n[ \t]*)+")
# A paragraph or a line that opens with a label: a speaker's name in a play or an interview ("Lady
# Bracknell.", "Q."), or a list number ("2."). Alone it says nothing; it belongs to what follows.
_LABEL = re.compile(r"(?:[A-Z0-9][\w'’-]*\.?\s+){0,2}[A-Z0-9][\w'’-]*[.:]")


def paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the non-blank paragraphs of a document body (front matter skipped)."""
    cursor = front_matter_end(text)
    for match in _PARAGRAPH_BREAK.finditer(text, cursor):
        if text[cursor : match.start()].strip():
            yield cursor, match.start()
        cursor = match.end()
    if text[cursor:].strip():
        yield cursor, len(text)


def document_sentences(doc: Document) -> list[Sentence]:
    """Every sentence of the document, numbered by paragraph and position."""
    sentences = []
    for number, (p_start, p_end) in enumerate(paragraph_spans(doc.text), start=1):
        spans = _labelled(doc.text, sentence_spans(doc.text, p_start, p_end))
        for index, (start, end) in enumerate(spans, start=1):
            page = doc.page_at(start)
            sentences.append(Sentence(doc.doc_id, number, index, start, end, doc.text[start:end], page))
    return sentences


def _labelled(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The paragraph's sentence spans, a label that opens it or one of its lines joined to the
    sentence after it."""
    joined: list[tuple[int, int]] = []
    pending: int | None = None  # where a label waiting for its sentence starts
    for index, (start, end) in enumerate(spans):
        line_start = text.rfind("\n", 0, start) + 1
        opens_line = index == 0 or not text[line_start:start].strip()
        if pending is None and opens_line and _LABEL.fullmatch(text, start, end):
            pending = start
            continue
        joined.append((start if pending is None else pending, end))
        pending = None
    if pending is not None:  # a label with nothing after it stays a sentence of its own
        joined.append((pending, end))
    return joined


def chunk_document(doc: Document, max_chars: int = 700) -> list[Chunk]:
    """Split a document into chunks of whole sentences, balanced within each paragraph."""
    by_paragraph: dict[int, list[Sentence]] = {}
    for sentence in document_sentences(doc):
        by_paragraph.setdefault(sentence.paragraph, []).append(sentence)
    chunks: list[Chunk] = []
    seen: Counter[str] = Counter()
    for paragraph, sentences in by_paragraph.items():
        for group in _balanced_groups(sentences, max_chars):
            start, end = group[0].start, group[-1].end
            text = doc.text[start:end]
            seen[text] += 1
            chunks.append(
                Chunk(
                    chunk_id=_chunk_id(doc.doc_id, text, seen[text]),
                    doc_id=doc.doc_id,
                    paragraph=paragraph,
                    start=start,
                    end=end,
                    text=text,
                    sentences=tuple(group),
                    title=doc.title,
                )
            )
    return chunks


def _balanced_groups(sentences: list[Sentence], max_chars: int) -> Iterator[list[Sentence]]:
    """Greedy groups aiming at equal sizes, so a long paragraph doesn't leave a tiny tail."""
    total = sentences[-1].end - sentences[0].start
    target = total / math.ceil(total / max_chars)
    group: list[Sentence] = []
    for sentence in sentences:
        if group and (sentence.end - group[0].start > max_chars or group[-1].end - group[0].start >= target):
            yield group
            group = []
        group.append(sentence)
    if group:
        yield group


def _chunk_id(doc_id: str, text: str, occurrence: int) -> str:
    digest = hashlib.sha256(f"{doc_id}\0{occurrence}\0{text}".encode()).hexdigest()
    return f"{doc_id[:40]}-{digest[:16]}"
