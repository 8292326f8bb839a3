"""The reading view: a whole document as one plain HTML page with an anchor per paragraph and sentence.

It is served as a page of its own (``/read/{doc_id}``) rather than inside the Gradio
app, so that ``#p-9`` and ``#s-9-2`` are real fragment links: the browser scrolls to
them and CSS ``:target`` highlights the cited sentence without any script. The text
between sentences is copied from the document as is, so the page reads like the file.
A paged document (a PDF) also shows where each page starts ("p. 3", anchor ``#page-3``),
so a citation's page can be checked against the original.
"""

from __future__ import annotations

from html import escape
from itertools import groupby
from urllib.parse import quote

from assistant.chunking import document_sentences, paragraph_spans
from assistant.models import Document, Sentence


def reading_page(doc: Document, *, root: str = "../", collection: str | None = None) -> str:
    """A complete, script-free HTML page for ``doc``; ``root`` is the relative path to the server root.

    ``collection`` (a collection other than the default one) makes the back link return
    to the chat of that collection.
    """
    title = escape(doc.title)
    back = escape(root + (f"?collection={quote(collection)}" if collection else ""), quote=True)
    pages_hint = (
        " A page number such as “p. 3” marks where a page of the original begins." if doc.pages else ""
    )
    body = "\n".join(_paragraphs(doc))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · reading view</title>
<link rel="stylesheet" href="{escape(root, quote=True)}ui-static/reading.css">
</head>
<body>
<a class="skip-link" href="#essay">Skip to the text</a>
<header class="page-head">
  <p><a href="{back}">← Ask a question about this reading</a></p>
  <h1>{title}</h1>
  <p class="hint">Each paragraph number is a link to that paragraph; a citation's link opens
  the text at its sentence and highlights it.{pages_hint}</p>
</header>
<main id="essay" tabindex="-1">
<article aria-label="{title}">
{body}
</article>
</main>
</body>
</html>
"""


def missing_page(
    doc_id: str, documents: list[Document], *, root: str = "../", collection: str | None = None
) -> str:
    """The reading view's page for a document that is not there (an old or mistyped link):
    what was asked for, and the documents there are."""
    query = f"?collection={quote(collection)}" if collection else ""
    items = "".join(
        f'<li><a href="{escape(quote(doc.doc_id) + query, quote=True)}">{escape(doc.title)}</a></li>'
        for doc in documents
    )
    listing = f"<p>The documents of this collection:</p><ul>{items}</ul>" if items else ""
    back = escape(root + query, quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>No such document · reading view</title>
<link rel="stylesheet" href="{escape(root, quote=True)}ui-static/reading.css">
</head>
<body>
<header class="page-head">
  <p><a href="{back}">← Ask a question about these readings</a></p>
  <h1>There is no document “{escape(doc_id)}” here</h1>
</header>
<main id="essay" tabindex="-1">
<p>The link may be old (the document was removed or renamed) or mistyped.</p>
{listing}
</main>
</body>
</html>
"""


class _PageMarks:
    """Hands out the "p. N" markers of a paged document, each once, in reading order."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.shown = 0  # the last page whose marker is out

    def upto(self, page: int | None) -> str:
        """Markers for the pages up to ``page`` (a sentence's page) not shown yet; none if unpaged."""
        marks = "".join(_page_mark(number) for number in range(self.shown + 1, (page or 0) + 1))
        self.shown = max(self.shown, page or 0)
        return marks

    def rest(self) -> str:
        """Markers of trailing pages that hold no sentence (a blank last page), so their anchors exist."""
        return self.upto(self.pages)


def _page_mark(number: int) -> str:
    anchor = f"page-{number}"
    return f'<a class="page" id="{anchor}" href="#{anchor}" aria-label="Page {number}">p. {number}</a> '


def _paragraphs(doc: Document) -> list[str]:
    by_paragraph = {
        number: list(group) for number, group in groupby(document_sentences(doc), key=lambda s: s.paragraph)
    }
    marks = _PageMarks(len(doc.pages))
    html = []
    for number, (start, end) in enumerate(paragraph_spans(doc.text), start=1):
        sentences = by_paragraph.get(number, [])
        html.append(
            f'<p id="p-{number}" class="para"><a class="pnum" href="#p-{number}" '
            f'aria-label="Paragraph {number}">{number}</a> '
            f"{_sentences(doc.text, start, end, sentences, marks)}</p>"
        )
    if trailing := marks.rest():
        html.append(f'<p class="para">{trailing.strip()}</p>')
    return html


def _sentences(text: str, start: int, end: int, sentences: list[Sentence], marks: _PageMarks) -> str:
    """The paragraph's text with each sentence wrapped in its anchor; the gaps kept verbatim."""
    parts, cursor = [], start
    for sentence in sentences:
        parts.append(escape(text[cursor : sentence.start]))
        parts.append(marks.upto(sentence.page))
        parts.append(f'<span id="{sentence.anchor}" class="sent">{escape(sentence.text)}</span>')
        cursor = sentence.end
    parts.append(escape(text[cursor:end]))
    return "".join(parts).strip()
