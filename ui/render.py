"""HTML and Markdown for answers and their sources.

Answers arrive as the core's answer contract (``Answer.to_dict()``). Every piece of
text that comes from the corpus or from a user goes through ``html.escape`` here,
and nowhere else builds markup from it, so neither can inject script or markup.
The chat shows Markdown-rendered messages, so each message is one single-line HTML
block: Markdown leaves such a block alone, and ``*`` or ``_`` in a quote stay text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from assistant.chunking import document_sentences
from assistant.models import Document

AnswerDict = Mapping[str, Any]

REFUSAL_TITLE = "Not answered from the essay"
EMPTY_SOURCES = (
    '<div class="qa-sources-empty"><h2 class="qa-panel-title">Sources</h2>'
    "<p>Each answer sentence ends with a marker such as [1]. The quotations it rests on "
    "appear here, highlighted inside their paragraph of the essay.</p></div>"
)


class Anchors:
    """Maps a quoted sentence to its reading-view anchor (``s-9-2``), so a citation is a deep link."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.titles: dict[str, str] = {}
        self._by_start: dict[tuple[str, int], str] = {}
        for doc in documents:
            self.titles[doc.doc_id] = doc.title
            for sentence in document_sentences(doc):
                self._by_start[(doc.doc_id, sentence.start)] = sentence.anchor

    def anchor(self, citation: AnswerDict) -> str:
        """The sentence anchor of a citation, or its paragraph's if the corpus changed since."""
        found = self._by_start.get((citation["doc_id"], citation["start"]))
        return found or f"p-{citation['paragraph']}"

    def link(self, citation: AnswerDict) -> str:
        """A link relative to the server root, valid from ``/`` and from ``/embed``."""
        return f"read/{citation['doc_id']}#{self.anchor(citation)}"

    def title(self, doc_id: str) -> str:
        return self.titles.get(doc_id, doc_id)


def corpus_title(documents: Sequence[Document]) -> str:
    """What the pages call the corpus: the essay's title, or "the essays" for several."""
    return documents[0].title if len(documents) == 1 else "the essays"


def source_id(turn: int, marker: int) -> str:
    """The DOM id of one source in the panel; unique across the turns of a conversation."""
    return f"src-{turn}-{marker}"


def question_html(question: str) -> str:
    return f'<div class="qa-question">{escape(question)}</div>'


def notice_html(message: str) -> str:
    """A problem with the request (too long, index still building), not an answer."""
    return f'<div class="qa-notice" role="alert"><strong>Not sent.</strong> {escape(message)}</div>'


def pending_html() -> str:
    return '<div class="qa-pending" aria-busy="true">Looking for the passages that answer this…</div>'


def answer_html(answer: AnswerDict, turn: int, upto: int | None = None) -> str:
    """The chat bubble of one answer; only its first ``upto`` sentences while streaming."""
    if answer["refused"]:
        return refusal_html(answer)
    paragraphs = {c["marker"]: c["paragraph"] for c in answer["citations"]}
    parts = []
    for sentence in answer["sentences"][:upto]:
        markers = "".join(_marker_html(turn, n, paragraphs.get(n)) for n in sentence["markers"])
        parts.append(f"{escape(sentence['text'])}{markers}")
    streaming = " qa-streaming" if upto is not None and upto < len(answer["sentences"]) else ""
    return f'<div class="qa-answer{streaming}">{" ".join(parts)}</div>'


def refusal_html(answer: AnswerDict) -> str:
    text = " ".join(s["text"] for s in answer["sentences"]) or answer["answer"]
    return (
        f'<div class="qa-refusal" role="note"><strong class="qa-refusal-title">{REFUSAL_TITLE}</strong>'
        f"<span>{escape(text)}</span></div>"
    )


def _marker_html(turn: int, marker: int, paragraph: int | None) -> str:
    """A link to the source; the chat's sanitizer drops aria-label, so the spoken name is hidden text."""
    where = f" in paragraph {paragraph}" if paragraph else ""
    return (
        f' <a class="qa-marker" href="#{source_id(turn, marker)}">[{marker}]'
        f'<span class="qa-sr">, source{where}</span></a>'
    )


def cited_so_far(answer: AnswerDict, upto: int | None) -> list[AnswerDict]:
    """The citations that the first ``upto`` sentences have introduced, in marker order."""
    used = {n for sentence in answer["sentences"][:upto] for n in sentence["markers"]}
    return [c for c in answer["citations"] if c["marker"] in used]


def sources_html(turns: Sequence[tuple[int, AnswerDict, int | None]], anchors: Anchors) -> str:
    """The sources panel: one group per answered turn, newest first and open, older ones folded.

    ``turns`` holds (turn number, answer, sentences shown so far or None for all).
    """
    groups = [
        _sources_group(turn, answer, upto, anchors, latest=index == 0)
        for index, (turn, answer, upto) in enumerate(reversed(turns))
    ]
    if not groups:
        return EMPTY_SOURCES
    return f'<div class="qa-sources"><h2 class="qa-panel-title">Sources</h2>{"".join(groups)}</div>'


def _sources_group(turn: int, answer: AnswerDict, upto: int | None, anchors: Anchors, *, latest: bool) -> str:
    """One turn's sources; ``aria-busy`` while its answer is still streaming in."""
    if answer["refused"]:
        body = '<p class="qa-sources-none">No quotation: the question was not answered from the essay.</p>'
    else:
        citations = cited_so_far(answer, upto)
        cards = "".join(_passage_card(turn, group, anchors) for group in by_passage(citations))
        body = f'<ul class="qa-source-list">{cards}</ul>'
    summary = f'<span class="qa-turn">Answer {turn}</span> {escape(answer["question"])}'
    state = " open" if latest else ""
    if upto is not None and upto < len(answer["sentences"]):
        state += ' aria-busy="true"'
    return (
        f'<details class="qa-sources-group" data-turn="{turn}"{state}>'
        f"<summary>{summary}</summary>{body}</details>"
    )


def by_passage(citations: Iterable[AnswerDict]) -> list[list[AnswerDict]]:
    """Citations grouped by the passage they quote, so a passage is shown once with all its quotes."""
    groups: dict[str, list[AnswerDict]] = {}
    for citation in citations:
        groups.setdefault(citation["chunk_id"], []).append(citation)
    return list(groups.values())


def _passage_card(turn: int, citations: list[AnswerDict], anchors: Anchors) -> str:
    first = citations[0]
    paragraph = first["paragraph"]
    title = escape(anchors.title(first["doc_id"]))
    numbers = " ".join(f"[{c['marker']}]" for c in citations)
    return (
        f'<li class="qa-source"><div class="qa-source-head">'
        f'<span class="qa-source-where">Paragraph {paragraph}</span> '
        f'<span class="qa-source-markers">{numbers}</span></div>'
        f'<blockquote class="qa-passage" aria-label="Paragraph {paragraph} of {title}">'
        f"{highlighted_passage(turn, citations, anchors)}</blockquote></li>"
    )


def highlighted_passage(turn: int, citations: list[AnswerDict], anchors: Anchors) -> str:
    """The passage with each quoted sentence in a ``<mark>`` that a marker [n] can scroll to.

    Each mark starts with its number, which links to the sentence in the reading view.
    A quote missing from the passage (it should not happen) is shown after it.
    """
    passage = citations[0]["passage"]
    found = sorted(
        ((passage.find(c["quote"]), c) for c in citations if c["quote"] in passage), key=lambda pair: pair[0]
    )
    missing = [c for c in citations if c["quote"] not in passage]
    parts, cursor = [], 0
    for at, citation in found:
        parts.append(escape(passage[cursor:at]))
        parts.append(_quote_mark(turn, citation, anchors))
        cursor = at + len(citation["quote"])
    parts.append(escape(passage[cursor:]))
    parts.extend(" " + _quote_mark(turn, citation, anchors) for citation in missing)
    return "".join(parts)


def _quote_mark(turn: int, citation: AnswerDict, anchors: Anchors) -> str:
    marker = citation["marker"]
    link = escape(anchors.link(citation), quote=True)
    return (
        f'<mark class="qa-quote" id="{source_id(turn, marker)}" tabindex="-1">'
        f'<a class="qa-quote-link" href="{link}" target="_blank" rel="noopener" '
        f'aria-label="Quotation {marker}: open it in the essay (new tab)">[{marker}]</a> '
        f"{escape(citation['quote'])}</mark>"
    )


def answer_markdown(answer: AnswerDict, anchors: Anchors) -> str:
    """The answer as Markdown for notes: the text with its [n] markers, then the numbered quotations."""
    lines = [f"**Question:** {answer['question']}", ""]
    if answer["refused"]:
        lines.append(f"_{REFUSAL_TITLE}:_ {answer['answer']}")
        return "\n".join(lines) + "\n"
    lines += [answer["answer"], "", "**Quotations**", ""]
    for citation in answer["citations"]:
        title = anchors.title(citation["doc_id"])
        lines.append(
            f"{citation['marker']}. “{citation['quote']}” ({title}, paragraph {citation['paragraph']})"
        )
    return "\n".join(lines) + "\n"
