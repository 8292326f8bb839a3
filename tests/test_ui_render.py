"""The HTML and Markdown the pages are made of: citations' titles, pages and links, and escaping."""

from __future__ import annotations

import re
from typing import Any

from assistant.library import DocumentInfo
from assistant.models import Document
from ui.reading import reading_page
from ui.render import (
    Anchors,
    answer_html,
    answer_markdown,
    documents_table_html,
    download_html,
    examples_html,
    markdown_filename,
    quoted,
    sources_html,
    status_html,
)

HOSTILE = "<script>alert(1)</script>"
PASSAGE = "Penguins waddle. Emperor penguins keep the egg on their feet. Adelie penguins steal stones."


def citation(marker: int = 1, **fields: Any) -> dict[str, Any]:
    quote = fields.pop("quote", "Emperor penguins keep the egg on their feet.")
    start = PASSAGE.find(quote)
    return {
        "marker": marker,
        "doc_id": "penguins",
        "title": "Penguins",
        "page": None,
        "anchor": "s-2-2",
        "chunk_id": "c1",
        "paragraph": 2,
        "quote": quote,
        "start": start,
        "end": start + len(quote),
        "passage": PASSAGE,
        "score": 0.9,
        **fields,
    }


def answer(*citations: dict[str, Any], question: str = "How do penguins keep eggs warm?") -> dict[str, Any]:
    sentences = [
        {"text": c["quote"], "markers": [c["marker"]], "support": 1.0, "sources": [c["title"]]}
        for c in citations
    ]
    return {
        "question": question,
        "answer": " ".join(f"{s['text']} [{s['markers'][0]}]" for s in sentences),
        "refused": False,
        "citations": list(citations),
        "sentences": sentences,
    }


def sources_of(ans: dict[str, Any], anchors: Anchors | None = None) -> str:
    return sources_html([(1, ans, False)], anchors or Anchors())


# -- citations name their document and page ---------------------------------------------


def test_a_source_names_its_document_page_and_paragraph() -> None:
    html = sources_of(answer(citation(title="Penguins of the South", page=3)))
    assert '<cite class="qa-source-title">Penguins of the South</cite>' in html
    assert '<span class="qa-source-where">p. 3 · paragraph 2</span>' in html
    assert 'aria-label="Penguins of the South, p. 3, paragraph 2"' in html


def test_an_unpaged_source_shows_no_page() -> None:
    html = sources_of(answer(citation(page=None)))
    assert '<span class="qa-source-where">paragraph 2</span>' in html
    assert "p. " not in html


def test_a_quote_links_to_its_sentence_in_its_collection() -> None:
    cited = citation(doc_id="penguins notes", anchor="s-2-2")
    assert Anchors().link(cited) == "read/penguins%20notes#s-2-2"
    assert Anchors(collection="birds").link(cited) == "read/penguins%20notes?collection=birds#s-2-2"
    assert 'href="read/penguins%20notes?collection=birds#s-2-2"' in sources_of(
        answer(cited), Anchors(collection="birds")
    )


def test_the_markdown_export_gives_title_page_and_paragraph() -> None:
    markdown = answer_markdown(answer(citation(title="Penguins", page=7)))
    assert "1. “Emperor penguins keep the egg on their feet.” (Penguins, p. 7, paragraph 2)" in markdown


def test_a_quotation_that_quotes_gets_single_marks_inside_double_ones() -> None:
    inner = "Emperor penguins keep the egg on their “brood pouch”."
    markdown = answer_markdown(answer(citation(quote=inner)))
    assert "1. “Emperor penguins keep the egg on their ‘brood pouch’.” (Penguins, paragraph 2)" in markdown
    assert quoted('the "so-called" pouch') == "“the ‘so-called’ pouch”"
    assert quoted("It’s warm") == "“It’s warm”"  # an apostrophe is left alone


def test_the_markdown_download_is_named_after_its_turn_and_question() -> None:
    assert (
        markdown_filename(2, "How do penguins keep eggs warm?")
        == "answer-2-how-do-penguins-keep-eggs-warm.md"
    )
    assert (
        markdown_filename(1, "Qu’est-ce qu’un manchot empereur ?")
        == "answer-1-qu-est-ce-qu-un-manchot-empereur.md"
    )
    assert markdown_filename(3, "企鹅？") == "answer-3.md"
    long = markdown_filename(1, "Why " + "penguins " * 20)
    assert len(long) <= len("answer-1-.md") + 60 and long.endswith("-penguins.md")
    link = download_html("**Question:** <b>?</b> & “x”\n", 2, "How do penguins keep eggs warm?")
    assert 'download="answer-2-how-do-penguins-keep-eggs-warm.md"' in link
    assert 'href="data:text/markdown;charset=utf-8,%2A%2AQuestion%3A%2A%2A%20%3Cb%3E' in link
    assert ">Download answer 2 as Markdown</a>" in link and "<b>" not in link


def test_an_answer_from_several_documents_names_each_sentence_s_source() -> None:
    several = answer(citation(1), citation(2, doc_id="birds", title="Birds", quote="Penguins waddle."))
    html = answer_html(several, 1)
    assert html.count('class="qa-from"') == 2
    assert "(Penguins)</span>" in html and "(Birds)</span>" in html
    assert 'class="qa-from"' not in answer_html(answer(citation()), 1)


def test_a_marker_s_spoken_name_says_where_its_quote_is() -> None:
    html = answer_html(answer(citation(title="Penguins", page=4)), 1)
    assert '<span class="qa-sr">, source: Penguins, p. 4, paragraph 2</span>' in html


def test_an_answer_says_why_the_language_model_s_answer_was_replaced() -> None:
    replaced = answer(citation(), citation(2, quote="Penguins waddle.")) | {
        "notice": f"The model failed {HOSTILE}."
    }
    assert '<span class="qa-answer-notice">The model failed &lt;script&gt;' in answer_html(replaced, 1)
    assert "qa-answer-notice" not in answer_html(
        replaced, 1, streaming=True
    )  # not while the answer streams in
    assert "qa-answer-notice" not in answer_html(answer(citation()), 1)


def test_quotes_that_may_not_answer_say_so_before_them() -> None:
    doubtful = answer(citation()) | {"uncertain": True, "caveat": f"None of these mentions {HOSTILE}."}
    html = answer_html(doubtful, 1)
    caveat = '<span class="qa-caveat" role="note">None of these mentions &lt;script&gt;'
    assert caveat in html and html.index(caveat) < html.index("Emperor penguins")
    assert "qa-answer-notice" not in html
    replaced = doubtful | {"notice": "A model failed."}  # both: the caveat first, the notice after
    html = answer_html(replaced, 1)
    assert html.index("qa-caveat") < html.index("Emperor penguins") < html.index("qa-answer-notice")
    assert "qa-caveat" not in answer_html(answer(citation()) | {"notice": "A model failed."}, 1)
    notes = answer_markdown(doubtful)
    assert notes.index("_None of these mentions") < notes.index("Emperor penguins")


# -- markup is text --------------------------------------------------------------------


def test_markup_in_titles_quotes_and_questions_is_shown_as_text() -> None:
    hostile = answer(citation(title=f"Birds {HOSTILE}"), question=f"Why? {HOSTILE}")
    shown = answer_html(hostile, 1) + sources_of(hostile)
    assert "<script" not in shown
    assert "Birds &lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert 'aria-label="Quotation 1: open it in “Birds &lt;script&gt;' in shown
    table = documents_table_html([_info(title=f"Notes {HOSTILE}", format=HOSTILE)])
    assert "<script" not in table and "Notes &lt;script&gt;" in table
    assert "<script" not in status_html([f"{HOSTILE}.md: not added."], ok=False)
    examples = examples_html([f"What is {HOSTILE}?"])
    assert "<script" not in examples and "What is &lt;script&gt;" in examples


def test_a_title_cannot_break_out_of_an_attribute() -> None:
    html = sources_of(answer(citation(title='x" onmouseover="alert(1)')))
    assert 'onmouseover="alert(1)"' not in html
    assert "x&quot; onmouseover=&quot;alert(1)" in html


# -- the reading view ------------------------------------------------------------------

PAGED_TEXT = (
    "First page opens. It goes on.\n\nStill the first page. The second page starts here.\n\nThird page."
)


def paged(title: str = "A paged reading") -> Document:
    second = PAGED_TEXT.index("The second page")
    third = PAGED_TEXT.index("Third page")
    return Document("paged", "paged.pdf", PAGED_TEXT, "sha", title, {"format": "pdf"}, (0, second, third))


def test_the_reading_view_marks_where_each_page_starts() -> None:
    html = reading_page(paged())
    marks = re.findall(r'id="page-(\d+)"', html)
    assert marks == ["1", "2", "3"]
    # Each marker comes right before the first sentence of its page.
    assert re.search(r'id="page-2"[^>]*>p\. 2</a> <span id="s-2-2" class="sent">The second page', html)
    assert re.search(r'id="page-3"[^>]*>p\. 3</a> <span id="s-3-1" class="sent">Third page', html)
    assert "<script" not in html


def test_an_unpaged_document_has_no_page_markers() -> None:
    doc = Document("essay", "essay.txt", PAGED_TEXT, "sha", "An essay")
    html = reading_page(doc)
    assert 'class="page"' not in html and "p. 1" not in html


def test_the_reading_view_returns_to_the_chat_of_its_collection() -> None:
    assert '<a href="../">← Ask' in reading_page(paged())
    assert '<a href="../?collection=birds">← Ask' in reading_page(paged(), collection="birds")


def test_the_reading_view_shows_a_hostile_title_as_text() -> None:
    html = reading_page(paged(title=HOSTILE))
    assert "<script" not in html
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in html


# -- the "Manage documents" table ------------------------------------------------------


def _info(**fields: Any) -> DocumentInfo:
    values: dict[str, Any] = {
        "doc_id": "notes",
        "title": "Notes",
        "path": "/corpus/notes.md",
        "format": "markdown",
        "pages": None,
        "chunks": 4,
        "indexed": True,
        "changed": False,
    }
    return DocumentInfo(**{**values, **fields})


def test_the_documents_table_shows_format_pages_chunks_and_state() -> None:
    table = documents_table_html(
        [_info(), _info(title="Book", format="pdf", pages=12, chunks=80, changed=True), _info(indexed=False)]
    )
    rows = re.findall(r"<tr><td>(.*?)</tr>", table)
    assert len(rows) == 3
    assert "markdown" in rows[0] and "–" in rows[0] and ">indexed<" in rows[0]
    assert ">12<" in rows[1] and ">80<" in rows[1] and "re-index it" in rows[1]
    assert "not indexed yet" in rows[2]
    assert "no documents yet" in documents_table_html([])


def test_examples_and_admin_messages_are_real_lists() -> None:
    """A role on a <ul> would take its items out of the list for screen readers (axe-core rules)."""
    button = r'<li><button type="button" class="qa-example">[^<]+</button></li>'
    examples = examples_html(["Who?", "Why?"])
    assert re.search(rf'<ul aria-labelledby="qa-examples-title">({button}){{2}}</ul>', examples)
    assert '<p id="qa-examples-title">' in examples
    status = status_html(["a.md: added", "b.md: added"], ok=True)
    assert re.fullmatch(
        r'<div class="qa-status qa-status-ok" role="status"><ul>(<li>[^<]+</li>){2}</ul></div>', status
    )
