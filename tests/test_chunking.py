from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.chunking import chunk_document, document_sentences
from assistant.corpus import load_document
from assistant.models import Document

from .conftest import ESSAY


def _doc(text: str) -> Document:
    return Document("doc", "doc.txt", text, "0" * 64, "Doc")


def test_essay_sentences_slice_exactly_and_are_numbered_by_paragraph() -> None:
    doc = load_document(ESSAY)
    sentences = document_sentences(doc)
    assert len(sentences) > 50
    for s in sentences:
        assert doc.text[s.start : s.end] == s.text
    assert sentences[0].anchor == "s-1-1"
    biden = next(s for s in sentences if s.text.startswith("U.S. President Joe Biden"))
    assert biden.anchor == "s-4-1" and biden.text.endswith("foreign policy.")


def test_chunks_cover_every_sentence_once_and_stay_in_one_paragraph() -> None:
    doc = load_document(ESSAY)
    chunks = chunk_document(doc, max_chars=700)
    in_chunks = [s for c in chunks for s in c.sentences]
    assert in_chunks == document_sentences(doc)
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert {s.paragraph for s in c.sentences} == {c.paragraph}
        assert len(c.text) <= 700 or len(c.sentences) == 1


def test_chunk_ids_depend_on_content_only() -> None:
    doc = load_document(ESSAY)
    first = [c.chunk_id for c in chunk_document(doc)]
    assert first == [c.chunk_id for c in chunk_document(doc)]
    edited = _doc("A new first paragraph.\n\n" + doc.text)
    edited = Document(doc.doc_id, doc.path, edited.text, doc.sha256, doc.title)
    assert set(first) <= {c.chunk_id for c in chunk_document(edited)}


def test_front_matter_is_not_chunked_but_offsets_still_match(tmp_path: Path) -> None:
    path = tmp_path / "reading.md"
    path.write_text(
        "---\ntitle: A Reading\nauthor: Someone\n---\nFirst sentence. Second one.\n", encoding="utf-8"
    )
    doc = load_document(path)
    assert doc.title == "A Reading" and doc.metadata["author"] == "Someone"
    sentences = document_sentences(doc)
    assert [s.text for s in sentences] == ["First sentence.", "Second one."]
    assert all(doc.text[s.start : s.end] == s.text for s in sentences)


@pytest.mark.parametrize(
    ("paragraph", "sentences"),
    [
        # A play: the speaker's name opens the speech and is read with its first sentence.
        (
            "Lady Bracknell.  Good afternoon, dear Algernon.  I hope you are well.",
            ["Lady Bracknell.  Good afternoon, dear Algernon.", "I hope you are well."],
        ),
        ("Jack.  Twenty-nine.", ["Jack.  Twenty-nine."]),
        # An interview transcript and a numbered list.
        ("Q. Where were you that night? At home.", ["Q. Where were you that night?", "At home."]),
        (
            "2. Limit all lines to 79 characters. Then wrap.",
            ["2. Limit all lines to 79 characters.", "Then wrap."],
        ),
        # A list laid out one item a line: each number opens its line.
        (
            "Imports go in this order.\n  1. Standard imports.\n  2. Local imports.",
            ["Imports go in this order.", "1. Standard imports.", "2. Local imports."],
        ),
        # A label alone in its paragraph stays; a long first sentence is no label.
        ("Good evening.", ["Good evening."]),
        ("The state is strong. It endures.", ["The state is strong.", "It endures."]),
    ],
)
def test_an_opening_label_is_read_with_the_sentence_after_it(paragraph: str, sentences: list[str]) -> None:
    assert [s.text for s in document_sentences(_doc(paragraph))] == sentences


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("Ab. ?\n\n“”U.S")), min_size=1, max_size=400), st.integers(100, 400)
)
def test_chunking_never_loses_or_duplicates_text(text: str, max_chars: int) -> None:
    doc = _doc(text)
    chunks = chunk_document(doc, max_chars=max_chars)
    spans = [(s.start, s.end) for c in chunks for s in c.sentences]
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in pairwise(spans))
    kept = "".join(text[s:e] for s, e in spans)
    assert "".join(kept.split()) == "".join(text.split())
