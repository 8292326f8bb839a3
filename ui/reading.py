"""The reading view: the whole essay as one plain HTML page with an anchor per paragraph and sentence.

It is served as a page of its own (``/read/{doc_id}``) rather than inside the Gradio
app, so that ``#p-9`` and ``#s-9-2`` are real fragment links: the browser scrolls to
them and CSS ``:target`` highlights the cited sentence without any script. The text
between sentences is copied from the document as is, so the page reads like the file.
"""

from __future__ import annotations

from html import escape
from itertools import groupby

from assistant.chunking import document_sentences, paragraph_spans
from assistant.models import Document, Sentence


def reading_page(doc: Document, *, root: str = "../") -> str:
    """A complete, script-free HTML page for ``doc``; ``root`` is the relative path to the server root."""
    title = escape(doc.title)
    root = escape(root, quote=True)
    body = "\n".join(_paragraphs(doc))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · reading view</title>
<link rel="stylesheet" href="{root}ui-static/reading.css">
</head>
<body>
<a class="skip-link" href="#essay">Skip to the essay</a>
<header class="page-head">
  <p><a href="{root}">← Ask a question about this essay</a></p>
  <h1>{title}</h1>
  <p class="hint">Each paragraph number is a link to that paragraph; a citation's link opens
  the essay at its sentence and highlights it.</p>
</header>
<main id="essay" tabindex="-1">
<article aria-label="{title}">
{body}
</article>
</main>
</body>
</html>
"""


def _paragraphs(doc: Document) -> list[str]:
    by_paragraph = {
        number: list(group) for number, group in groupby(document_sentences(doc), key=lambda s: s.paragraph)
    }
    html = []
    for number, (start, end) in enumerate(paragraph_spans(doc.text), start=1):
        sentences = by_paragraph.get(number, [])
        html.append(
            f'<p id="p-{number}" class="para"><a class="pnum" href="#p-{number}" '
            f'aria-label="Paragraph {number}">{number}</a> {_sentences(doc.text, start, end, sentences)}</p>'
        )
    return html


def _sentences(text: str, start: int, end: int, sentences: list[Sentence]) -> str:
    """The paragraph's text with each sentence wrapped in its anchor; the gaps kept verbatim."""
    parts, cursor = [], start
    for sentence in sentences:
        parts.append(escape(text[cursor : sentence.start]))
        parts.append(f'<span id="{sentence.anchor}" class="sent">{escape(sentence.text)}</span>')
        cursor = sentence.end
    parts.append(escape(text[cursor:end]))
    return "".join(parts).strip()
