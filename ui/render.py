"""HTML and Markdown for answers and their sources.

Answers arrive as the core's answer contract (``Answer.to_dict()``). Every piece of
text that comes from the corpus or from a user goes through ``html.escape`` here,
and nowhere else builds markup from it, so neither can inject script or markup.
The chat shows Markdown-rendered messages, so each message is one single-line HTML
block: Markdown leaves such a block alone, and ``*`` or ``_`` in a quote stay text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any, Protocol
from urllib.parse import quote

AnswerDict = Mapping[str, Any]

REFUSAL_TITLE = "Not answered from the text"
# Replies to what is not a question about the text (a hello, a request for a joke): they say what
# the assistant does, in the conversation's voice, not as a failure to answer.
CONVERSATIONAL = frozenset({"greeting", "request"})
# A download's name: the turn's number and this many characters of its question at most.
SLUG_CHARS = 60
_STRAIGHT_QUOTED = re.compile(r'"([^"]*)"')
EMPTY_SOURCES = (
    '<div class="qa-sources-empty"><h2 class="qa-panel-title">Sources</h2>'
    "<p>Each answer sentence ends with a marker such as [1]. The quotations it rests on "
    "appear here, highlighted inside their paragraph, with the title and page of their document.</p></div>"
)


class Titled(Protocol):
    """A document as the pages name it: ``models.Document`` or ``library.DocumentInfo``."""

    @property
    def title(self) -> str: ...


class Anchors:
    """Links from a citation to its sentence in the reading view (``read/DOC#s-9-2``).

    The anchor comes with the citation; what a page adds is its collection, so that a
    citation of a collection other than the default one opens that collection's document.
    """

    def __init__(self, *, collection: str | None = None) -> None:
        self.query = f"?collection={quote(collection)}" if collection else ""

    def link(self, citation: AnswerDict) -> str:
        """A link relative to the server root, valid from ``/`` and from ``/embed``."""
        return f"read/{quote(citation['doc_id'])}{self.query}#{citation['anchor']}"


def quoted(text: str) -> str:
    """``text`` in double quotation marks, its own double quotation marks turned into single ones:
    a quotation that quotes reads “… ‘so-called’ …”, never “… “so-called” …” (where the inner
    marks would seem to close the outer ones)."""
    inner = _STRAIGHT_QUOTED.sub(r"‘\1’", text).replace("“", "‘").replace("”", "’")
    return f"“{inner}”"


def corpus_title(documents: Sequence[Titled]) -> str:
    """What the pages call the corpus: the document's title, or "the readings" for several."""
    return documents[0].title if len(documents) == 1 else "the readings"


def page_label(citation: AnswerDict) -> str:
    """ "p. 3" for a quote from a paged document (a PDF), "" for an unpaged one."""
    return f"p. {citation['page']}" if citation.get("page") else ""


def citation_place(citation: AnswerDict) -> str:
    """Where a quotation is, in words: "Title, p. 3, paragraph 9" (no page for unpaged documents)."""
    parts = [citation["title"], page_label(citation), f"paragraph {citation['paragraph']}"]
    return ", ".join(part for part in parts if part)


def source_id(turn: int, marker: int) -> str:
    """The DOM id of one source in the panel; unique across the turns of a conversation."""
    return f"src-{turn}-{marker}"


def question_html(question: str) -> str:
    return f'<div class="qa-question">{escape(question)}</div>'


def examples_html(questions: Sequence[str]) -> str:
    """The empty chat's example questions: a labelled list of buttons; ``ui/app.py`` asks a clicked one."""
    button = '<li><button type="button" class="qa-example">{}</button></li>'
    items = "".join(button.format(escape(question)) for question in questions)
    return (
        '<div class="qa-examples"><p id="qa-examples-title">Or ask one of these:</p>'
        f'<ul aria-labelledby="qa-examples-title">{items}</ul></div>'
    )


def chat_status_html(message: str) -> str:
    """The line under the chat's buttons that says what the last one did ("Asked the last question
    again."); a status region, so a screen reader reads it out too. Empty when there is nothing to say."""
    return f'<p class="qa-chat-status" role="status">{escape(message)}</p>' if message else ""


def notice_html(message: str) -> str:
    """A problem with the request (too long, index still building), not an answer."""
    return f'<div class="qa-notice" role="alert"><strong>Not sent.</strong> {escape(message)}</div>'


def pending_html() -> str:
    return '<div class="qa-pending" aria-busy="true">Looking for the passages that answer this…</div>'


def draft_html(text: str) -> str:
    """A language model's answer as it is written, each sentence checked as it ends: the verified
    answer replaces it (a sentence its quotes do not support is marked " (unverified)" meanwhile)."""
    return (
        '<div class="qa-draft" aria-busy="true">'
        '<span class="qa-checking">Being written and checked against the text…</span> '
        f"{escape(text)}</div>"
    )


def answer_kind(answer: AnswerDict) -> str:
    """The answer's ``kind`` (answer, refusal, greeting, request); an answer saved before the
    contract had one is an answer or a refusal."""
    kind = answer.get("kind")
    return str(kind) if kind else ("refusal" if answer["refused"] else "answer")


def answer_html(answer: AnswerDict, turn: int, streaming: bool = False) -> str:
    """The chat bubble of one answer; ``streaming`` while its sentences are still arriving."""
    if answer_kind(answer) in CONVERSATIONAL:
        return reply_html(answer)
    if answer["refused"]:
        return refusal_html(answer)
    places = {c["marker"]: citation_place(c) for c in answer["citations"]}
    several = cites_several_documents(answer)
    parts = []
    for sentence in answer["sentences"]:
        markers = "".join(_marker_html(turn, n, places.get(n)) for n in sentence["markers"])
        parts.append(f"{escape(sentence['text'])}{markers}{_sources_note(sentence) if several else ''}")
    if streaming:
        return f'<div class="qa-answer qa-streaming">{" ".join(parts)}</div>'
    # The caveat is read before the quotes, not after: they may not answer what was asked.
    caveat = answer.get("caveat")
    opening = f'<span class="qa-caveat" role="note">{escape(caveat)}</span>' if caveat else ""
    return f'<div class="qa-answer">{opening}{" ".join(parts)}{_answer_notice(answer)}</div>'


def reply_html(answer: AnswerDict) -> str:
    """A greeting or a request answered as what it is: a plain message, nothing quoted."""
    return f'<div class="qa-reply">{escape(_reply_text(answer))}{_answer_notice(answer)}</div>'


def _reply_text(answer: AnswerDict) -> str:
    return " ".join(s["text"] for s in answer["sentences"]) or answer["answer"]


def refusal_html(answer: AnswerDict) -> str:
    text = _reply_text(answer)
    return (
        f'<div class="qa-refusal" role="note"><strong class="qa-refusal-title">{REFUSAL_TITLE}</strong>'
        f"<span>{escape(text)}</span>{_answer_notice(answer)}</div>"
    )


def _answer_notice(answer: AnswerDict) -> str:
    """Why a language model's answer was replaced by quotations (it failed, or too little of it held)."""
    notice = answer.get("notice")
    return f'<span class="qa-answer-notice">{escape(notice)}</span>' if notice else ""


def cites_several_documents(answer: AnswerDict) -> bool:
    """Whether the answer quotes more than one document; then each sentence names its sources."""
    return len({c["doc_id"] for c in answer["citations"]}) > 1


def _sources_note(sentence: AnswerDict) -> str:
    """ " (Title)" after a sentence's markers, as ``Answer.answer`` has it for several documents."""
    titles = sentence.get("sources") or []
    return f' <span class="qa-from">({escape("; ".join(titles))})</span>' if titles else ""


def _marker_html(turn: int, marker: int, place: str | None) -> str:
    """A link to the source; the chat's sanitizer drops aria-label, so the spoken name is hidden text
    (which app.css keeps out of a selection, so that a copied answer reads "… [1] …")."""
    where = f": {escape(place)}" if place else ""
    return (
        f' <a class="qa-marker" href="#{source_id(turn, marker)}">[{marker}]'
        f'<span class="qa-sr">, source{where}</span></a>'
    )


def sources_html(turns: Sequence[tuple[int, AnswerDict, bool]], anchors: Anchors) -> str:
    """The sources panel: one group per answered turn, newest first and open, older ones folded.

    ``turns`` holds (turn number, answer so far, whether its sentences are still arriving).
    """
    groups = [
        _sources_group(turn, answer, streaming, anchors, latest=index == 0)
        for index, (turn, answer, streaming) in enumerate(reversed(turns))
    ]
    if not groups:
        return EMPTY_SOURCES
    return f'<div class="qa-sources"><h2 class="qa-panel-title">Sources</h2>{"".join(groups)}</div>'


def _sources_group(turn: int, answer: AnswerDict, streaming: bool, anchors: Anchors, *, latest: bool) -> str:
    """One turn's sources; ``aria-busy`` while its answer is still streaming in."""
    if answer_kind(answer) in CONVERSATIONAL:
        body = '<p class="qa-sources-none">No quotation: this was not a question about the text.</p>'
    elif answer["refused"]:
        body = '<p class="qa-sources-none">No quotation: the question was not answered from the text.</p>'
    else:
        cards = "".join(_passage_card(turn, group, anchors) for group in by_passage(answer["citations"]))
        body = f'<ul class="qa-source-list">{cards}</ul>'
    summary = f'<span class="qa-turn">Answer {turn}</span> {escape(answer["question"])}'
    state = " open" if latest else ""
    if streaming:
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
    """One quoted passage under its document's title, page and paragraph number."""
    first = citations[0]
    where = " · ".join(part for part in (page_label(first), f"paragraph {first['paragraph']}") if part)
    numbers = " ".join(f"[{c['marker']}]" for c in citations)
    return (
        f'<li class="qa-source"><div class="qa-source-head">'
        f'<cite class="qa-source-title">{escape(first["title"])}</cite> '
        f'<span class="qa-source-where">{where}</span> '
        f'<span class="qa-source-markers">{numbers}</span></div>'
        f'<blockquote class="qa-passage" aria-label="{escape(citation_place(first), quote=True)}">'
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
    title = escape(quoted(citation["title"]), quote=True)
    return (
        f'<mark class="qa-quote" id="{source_id(turn, marker)}" tabindex="-1">'
        f'<a class="qa-quote-link" href="{link}" target="_blank" rel="noopener" '
        f'aria-label="Quotation {marker}: open it in {title} (new tab)">[{marker}]</a> '
        f"{escape(citation['quote'])}</mark>"
    )


def answer_markdown(answer: AnswerDict) -> str:
    """The answer as Markdown for notes: the text with its [n] markers, then the numbered quotations."""
    lines = [f"**Question:** {answer['question']}", ""]
    if answer_kind(answer) in CONVERSATIONAL:
        lines.append(answer["answer"])
        return "\n".join(lines) + "\n"
    if answer["refused"]:
        lines.append(f"_{REFUSAL_TITLE}:_ {answer['answer']}")
        return "\n".join(lines) + "\n"
    if answer.get("caveat"):
        lines += [f"_{answer['caveat']}_", ""]  # notes keep the caveat, before the quotes as in the chat
    lines += [answer["answer"], "", "**Quotations**", ""]
    for citation in answer["citations"]:
        lines.append(f"{citation['marker']}. {quoted(citation['quote'])} ({citation_place(citation)})")
    return "\n".join(lines) + "\n"


def markdown_filename(turn: int, question: str) -> str:
    """A download's name that says what it holds: "answer-2-what-does-the-author-mean.md".

    The question's words in ASCII (accents dropped), cut at a word; just "answer-2.md" for a
    question with no Latin letters or digits.
    """
    letters = "".join(c for c in unicodedata.normalize("NFKD", question) if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", letters.lower()).strip("-")  # apostrophes too: qu-est-ce
    if len(slug) > SLUG_CHARS:
        cut = slug[: SLUG_CHARS + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:SLUG_CHARS]
    return f"answer-{turn}-{slug}.md" if slug else f"answer-{turn}.md"


def download_html(markdown: str, turn: int, question: str) -> str:
    """A link that saves an answer's Markdown under a name from its question (Gradio's own
    download button always names the file "file.md"). The text travels in the link itself
    (a data: URL), so nothing is written on the server."""
    href = "data:text/markdown;charset=utf-8," + quote(markdown, safe="")
    name = markdown_filename(turn, question)
    return (
        f'<a class="qa-download" href="{escape(href, quote=True)}" download="{escape(name, quote=True)}">'
        f"Download answer {turn} as Markdown</a>"
    )


# -- the "Manage documents" tab ----------------------------------------------------------


class DocumentRow(Titled, Protocol):
    """A row of the documents table: ``library.DocumentInfo``."""

    @property
    def format(self) -> str: ...
    @property
    def pages(self) -> int | None: ...
    @property
    def chunks(self) -> int: ...
    @property
    def indexed(self) -> bool: ...
    @property
    def changed(self) -> bool: ...


def document_state(info: DocumentRow) -> str:
    if not info.indexed:
        return "not indexed yet"
    return "changed since indexed: re-index it" if info.changed else "indexed"


def documents_table_html(infos: Sequence[DocumentRow]) -> str:
    """The collection's documents as a table: title, format, pages, chunks and index state."""
    if not infos:
        return '<p class="qa-admin-empty">This collection has no documents yet: add some below.</p>'
    rows = "".join(
        f"<tr><td>{escape(info.title)}</td><td>{escape(info.format)}</td>"
        f'<td class="qa-num">{info.pages or "–"}</td><td class="qa-num">{info.chunks}</td>'
        f"<td>{escape(document_state(info))}</td></tr>"
        for info in infos
    )
    return (
        '<table class="qa-documents"><caption>Documents of this collection</caption>'
        '<thead><tr><th scope="col">Title</th><th scope="col">Format</th>'
        '<th scope="col" class="qa-num">Pages</th><th scope="col" class="qa-num">Chunks</th>'
        '<th scope="col">State</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def status_html(lines: Sequence[str], *, ok: bool) -> str:
    """The outcome of an admin action: one line per file or document, green when all went well.

    The live region is a box around the list: a role on the list itself would hide its items'
    list semantics from screen readers.
    """
    kind, role = ("qa-status-ok", "status") if ok else ("qa-status-error", "alert")
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<div class="qa-status {kind}" role="{role}"><ul>{items}</ul></div>'
